// Capability names and masks (lib/jail/capability_names): the table matches the kernel's
// numbering, unknown names are refused naming the set, docker's defaults map as expected.
#include "jail/capability_names.hpp"

#include <knast/error.hpp>

#include <gtest/gtest.h>

namespace {

using knast::detail::capability_mask;
using knast::detail::capability_name;
using knast::detail::capability_number;

TEST(CapabilityNames, NumbersAsTheKernel) {
  EXPECT_EQ(capability_number("CAP_CHOWN"), 0);
  EXPECT_EQ(capability_number("CAP_NET_RAW"), 13);
  EXPECT_EQ(capability_number("CAP_SYS_ADMIN"), 21);
  EXPECT_EQ(capability_number("CAP_AUDIT_WRITE"), 29);
  EXPECT_EQ(capability_number("CAP_CHECKPOINT_RESTORE"), 40);
  EXPECT_FALSE(capability_number("cap_chown"));
  EXPECT_FALSE(capability_number("CAP_NOPE"));
  for (int n = 0; n <= knast::detail::last_known_capability; ++n) EXPECT_EQ(capability_number(capability_name(n)), n);
  EXPECT_EQ(capability_name(41), "");
}

TEST(CapabilityNames, DockerDefaultsMask) {
  // The CapEff docker shows for a root process: 00000000a80425fb.
  EXPECT_EQ(knast::detail::docker_default_capability_masks().effective, 0xa80425fbu);
  EXPECT_EQ(knast::detail::docker_default_capability_masks().inheritable, 0u);
}

TEST(CapabilityNames, UnknownNameRefusedNamingTheSet) {
  try {
    (void)capability_mask({"CAP_CHOWN", "CAP_FLY"}, "ambient");
    FAIL();
  } catch (const knast::Error& e) {
    EXPECT_EQ(e.kind(), knast::ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("process.capabilities.ambient: unknown capability \"CAP_FLY\""),
              std::string::npos)
        << e.what();
  }
  knast::Capabilities caps;
  caps.bounding = {"CAP_KILL", "CAP_SETUID"};
  caps.permitted = {"CAP_KILL"};
  const auto masks = knast::detail::capability_masks(caps);
  EXPECT_EQ(masks.bounding, (1u << 5) | (1u << 7));
  EXPECT_EQ(masks.permitted, 1u << 5);
  EXPECT_EQ(masks.effective, 0u);
}

}  // namespace
