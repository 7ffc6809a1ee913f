// The zfs driver's plans: the exact zfs(8) command lines, and the dataset names it accepts.
#include "rootfs/zfs_plan.hpp"

#include <knast/error.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using knast::Error;
using knast::ErrorCode;
namespace d = knast::detail;

std::vector<std::string> lines(const d::ZfsPlan& plan) {
  std::vector<std::string> out;
  for (const auto& command : plan) out.push_back(command.string());
  return out;
}

const std::string hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(ZfsPlan, BuildAChainInItsOwnDataset) {
  EXPECT_EQ(lines(d::zfs_plan_build_chain("zroot/knast", "42-1-ab", "/var/db/knast/rootfs/tmp/42-1-ab/tree")),
            (std::vector<std::string>{
                "zfs create -p -o mountpoint=/var/db/knast/rootfs/tmp/42-1-ab/tree zroot/knast/tmp/42-1-ab"}));
}

TEST(ZfsPlan, PublishSnapshotsRenamesRemountsAndFreezes) {
  EXPECT_EQ(lines(d::zfs_plan_publish_chain("zroot/knast", "42-1-ab", hex, "/var/db/knast/rootfs/sha256/" + hex + "/tree")),
            (std::vector<std::string>{
                "zfs snapshot zroot/knast/tmp/42-1-ab@base",
                "zfs rename -p zroot/knast/tmp/42-1-ab zroot/knast/chains/" + hex,
                "zfs set mountpoint=/var/db/knast/rootfs/sha256/" + hex + "/tree zroot/knast/chains/" + hex,
                "zfs set readonly=on zroot/knast/chains/" + hex,
            }));
}

TEST(ZfsPlan, ContainersAreClonesOfTheBaseSnapshot) {
  EXPECT_EQ(lines(d::zfs_plan_create_container("tank/k", hex, "web-1", "/var/db/knast/containers/web-1/rootfs")),
            (std::vector<std::string>{"zfs clone -p -o mountpoint=/var/db/knast/containers/web-1/rootfs tank/k/chains/" +
                                      hex + "@base tank/k/containers/web-1"}));
  EXPECT_EQ(lines(d::zfs_plan_destroy_container("tank/k", "web-1")),
            (std::vector<std::string>{"zfs destroy -r tank/k/containers/web-1"}));
}

TEST(ZfsPlan, DestroyingChainsAndBuilds) {
  EXPECT_EQ(lines(d::zfs_plan_destroy_chain("tank", hex)), (std::vector<std::string>{"zfs destroy -r tank/chains/" + hex}));
  EXPECT_EQ(lines(d::zfs_plan_discard_build("tank", "7-2-x")), (std::vector<std::string>{"zfs destroy -r tank/tmp/7-2-x"}));
}

TEST(ZfsPlan, ArgumentsStaySeparateEvenWithSpacesInPaths) {
  const auto plan = d::zfs_plan_build_chain("tank", "b", "/state root/tmp/b/tree");
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].args, (std::vector<std::string>{"create", "-p", "-o", "mountpoint=/state root/tmp/b/tree", "tank/tmp/b"}));
}

TEST(ZfsPlan, DatasetNames) {
  for (const char* good : {"zroot", "zroot/knast", "tank/a_b/c-d.e:f", "Z9"}) EXPECT_NO_THROW(d::check_zfs_dataset(good)) << good;
  for (const char* bad : {"", "/zroot", "zroot/", "zroot//knast", "-o", "zroot/-x", "zroot@snap", "zroot#b", "zr oot",
                          "zroot/.hidden"}) {
    try {
      d::check_zfs_dataset(bad);
      ADD_FAILURE() << "accepted \"" << bad << "\"";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << bad;
    }
  }
  EXPECT_THROW(d::check_zfs_dataset(std::string(201, 'a')), Error);
}

}  // namespace
