// Pure parts of the snapshot drivers: the overlay mount plan (golden option strings with
// escaping), driver names, container ids.
#include "rootfs/container_records.hpp"
#include "rootfs/overlay_driver.hpp"

#include <knast/error.hpp>
#include <knast/rootfs.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using knast::Error;
using knast::ErrorCode;
using knast::SnapshotDriver;
namespace d = knast::detail;

TEST(OverlayPlan, OneMountWithLowerUpperAndWork) {
  const auto step = d::overlay_mount_plan("/var/lib/knast/rootfs/sha256/ab/tree", "/var/lib/knast/containers/c1/upper",
                                          "/var/lib/knast/containers/c1/work", "/var/lib/knast/containers/c1/rootfs");
  EXPECT_EQ(step.fstype, "overlay");
  EXPECT_EQ(step.source, "overlay");
  EXPECT_EQ(step.target, "/var/lib/knast/containers/c1/rootfs");
  EXPECT_EQ(step.options,
            "lowerdir=/var/lib/knast/rootfs/sha256/ab/tree,upperdir=/var/lib/knast/containers/c1/upper,"
            "workdir=/var/lib/knast/containers/c1/work,redirect_dir=off,metacopy=off");
}

TEST(OverlayPlan, CommasColonsAndBackslashesAreEscaped) {
  EXPECT_EQ(d::escape_overlay_path("/a,b:c\\d"), "/a\\,b\\:c\\\\d");
  EXPECT_EQ(d::escape_overlay_path("/plain/path"), "/plain/path");
  const auto step = d::overlay_mount_plan("/s:1/tree", "/s,2/upper", "/s\\3/work", "/s,2/rootfs");
  EXPECT_EQ(step.options, "lowerdir=/s\\:1/tree,upperdir=/s\\,2/upper,workdir=/s\\\\3/work,redirect_dir=off,metacopy=off");
  EXPECT_EQ(step.target, "/s,2/rootfs");  // the target is a path argument, not an option: unescaped
}

TEST(OverlayPlan, OptionsLongerThanAPageAreRefused) {
  const std::string deep = "/" + std::string(2000, 'x');
  try {
    d::overlay_mount_plan(deep + "/lower", deep + "/upper", deep + "/work", "/t");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::limit_exceeded);
  }
}

TEST(SnapshotDriverNames, RoundTrip) {
  for (auto driver : {SnapshotDriver::directory, SnapshotDriver::overlay, SnapshotDriver::zfs})
    EXPECT_EQ(knast::parse_snapshot_driver(knast::to_string(driver)), driver);
  try {
    knast::parse_snapshot_driver("btrfs");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("directory, overlay or zfs"), std::string::npos) << e.what();
  }
}

TEST(ContainerIds, OnePathComponentOfSafeCharacters) {
  for (const std::string& good : std::vector<std::string>{"a", "web-1", "A.b_c-9", std::string(128, 'x'), "0"})
    EXPECT_NO_THROW(d::check_container_id(good)) << good;
  for (const std::string& bad : std::vector<std::string>{"", ".", "..", "-x", "_x", ".hidden", "a/b", "../etc", "a b", "é", std::string(129, 'x'),
                                std::string("a\0b", 3)}) {
    try {
      d::check_container_id(bad);
      ADD_FAILURE() << "accepted \"" << bad << "\"";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << bad;
    }
  }
}

}  // namespace
