// Where a container's limits go (lib/jail/cgroup_plan): the v2/v1 decision from the
// mount table and the v2 root's controllers, for v2-only, v1-only and hybrid hosts.
#include "jail/cgroup_plan.hpp"

#include <knast/error.hpp>

#include <gtest/gtest.h>

namespace {

using knast::ErrorCode;
using knast::LinuxResources;
using knast::detail::CgroupGroup;
using knast::detail::CgroupMount;
using knast::detail::CgroupWrite;
using knast::detail::plan_cgroups;

// This machine's table: v1 controllers, an empty v2 hierarchy at .../unified.
constexpr const char* hybrid = R"(23 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
)";

// A systemd v1 host: cpu and cpuacct co-mounted, optional fields before the dash.
constexpr const char* v1_only = R"(25 1 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,xattr,name=systemd
29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
30 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory
31 25 0:28 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,pids
)";

constexpr const char* v2_only =
    "24 1 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";
constexpr const char* v2_controllers = "cpuset cpu io memory hugetlb pids rdma misc\n";

LinuxResources limits() {
  LinuxResources r;
  r.memory_limit = 64 << 20;
  r.pids_limit = 100;
  r.cpu_quota = 150000;
  r.cpu_period = 100000;
  r.cpu_shares = 512;
  return r;
}

TEST(CgroupMounts, ParsedFromMountinfo) {
  const auto mounts = knast::detail::parse_cgroup_mounts(v1_only);
  ASSERT_EQ(mounts.size(), 4u);
  EXPECT_EQ(mounts[0], (CgroupMount{"/sys/fs/cgroup/systemd", false, {}}));
  EXPECT_EQ(mounts[1], (CgroupMount{"/sys/fs/cgroup/cpu,cpuacct", false, {"cpu", "cpuacct"}}));
  EXPECT_EQ(knast::detail::parse_cgroup_mounts(v2_only), (std::vector<CgroupMount>{{"/sys/fs/cgroup", true, {}}}));
  // Escaped mount points are decoded.
  EXPECT_EQ(knast::detail::parse_cgroup_mounts("1 2 0:3 / /a\\040b rw - cgroup cgroup rw,pids\n")[0].mount_point, "/a b");
}

TEST(CgroupPlan, NoLimitsNoCgroup) {
  EXPECT_TRUE(plan_cgroups({}, "c1", hybrid, "").groups.empty());
  LinuxResources unlimited_pids;
  unlimited_pids.pids_limit = 0;  // the runtime spec's "unlimited"
  EXPECT_TRUE(plan_cgroups(unlimited_pids, "c1", hybrid, "").groups.empty());
}

TEST(CgroupPlan, HybridUsesV1WhenV2IsEmpty) {
  const auto plan = plan_cgroups(limits(), "c1", hybrid, "hugetlb\n");
  ASSERT_EQ(plan.groups.size(), 3u);
  EXPECT_EQ(plan.groups[0], (CgroupGroup{false, "/sys/fs/cgroup/memory", "knast/c1", {}, {{"memory.limit_in_bytes", "67108864"}}}));
  EXPECT_EQ(plan.groups[1], (CgroupGroup{false, "/sys/fs/cgroup/pids", "knast/c1", {}, {{"pids.max", "100"}}}));
  EXPECT_EQ(plan.groups[2],
            (CgroupGroup{false,
                         "/sys/fs/cgroup/cpu",
                         "knast/c1",
                         {},
                         {{"cpu.cfs_period_us", "100000"}, {"cpu.cfs_quota_us", "150000"}, {"cpu.shares", "512"}}}));
}

TEST(CgroupPlan, HybridUsesV2ForControllersItHas) {
  LinuxResources r;
  r.memory_limit = 1 << 30;
  r.pids_limit = 7;
  const auto plan = plan_cgroups(r, "c1", hybrid, "memory hugetlb\n");
  ASSERT_EQ(plan.groups.size(), 2u);
  EXPECT_EQ(plan.groups[0], (CgroupGroup{true, "/sys/fs/cgroup/unified", "knast/c1", {"memory"}, {{"memory.max", "1073741824"}}}));
  EXPECT_EQ(plan.groups[1].mount_point, "/sys/fs/cgroup/pids");
}

TEST(CgroupPlan, V1OnlyWithCoMountedCpu) {
  const auto plan = plan_cgroups(limits(), "c1", v1_only, "");
  ASSERT_EQ(plan.groups.size(), 3u);
  EXPECT_EQ(plan.groups[2].mount_point, "/sys/fs/cgroup/cpu,cpuacct");
}

TEST(CgroupPlan, V2OnlyIsOneGroup) {
  const auto plan = plan_cgroups(limits(), "c1", v2_only, v2_controllers);
  ASSERT_EQ(plan.groups.size(), 1u);
  EXPECT_EQ(plan.groups[0], (CgroupGroup{true,
                                         "/sys/fs/cgroup",
                                         "knast/c1",
                                         {"memory", "pids", "cpu"},
                                         {{"memory.max", "67108864"},
                                          {"pids.max", "100"},
                                          {"cpu.max", "150000 100000"},
                                          {"cpu.weight", "20"}}}));
  LinuxResources shares_only;
  shares_only.cpu_period = 50000;
  EXPECT_EQ(plan_cgroups(shares_only, "c1", v2_only, v2_controllers).groups[0].writes,
            (std::vector<CgroupWrite>{{"cpu.max", "max 50000"}}));
}

TEST(CgroupPlan, MissingControllerIsUnsupportedAndSaysWhich) {
  LinuxResources r;
  r.memory_limit = 64 << 20;
  try {
    (void)plan_cgroups(r, "c1", v2_only, "cpu pids\n");
    FAIL() << "planned without a memory controller";
  } catch (const knast::Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("memory limit: no memory controller in cgroup v2 or v1 on this host"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW((void)plan_cgroups(r, "c1", "", ""), knast::Error);  // no cgroup file system at all
}

TEST(CgroupPlan, BadValuesAndIds) {
  LinuxResources r;
  r.memory_limit = -1;
  EXPECT_THROW((void)plan_cgroups(r, "c1", hybrid, ""), knast::Error);
  r.memory_limit = 1 << 20;
  for (const char* id : {"", ".", "..", "a/b"}) EXPECT_THROW((void)plan_cgroups(r, id, hybrid, ""), knast::Error) << id;
}

TEST(CgroupPlan, DirsOfAnIdOnEveryHierarchy) {
  EXPECT_EQ(knast::detail::cgroup_dirs_of("c1", v2_only), (std::vector<std::string>{"/sys/fs/cgroup/knast/c1"}));
  EXPECT_EQ(knast::detail::cgroup_dirs_of("c1", hybrid).size(), 6u);
}

TEST(CgroupPlan, SharesToWeightAsRunc) {
  EXPECT_EQ(knast::detail::cpu_shares_to_weight(2), 1u);
  EXPECT_EQ(knast::detail::cpu_shares_to_weight(1024), 39u);
  EXPECT_EQ(knast::detail::cpu_shares_to_weight(262144), 10000u);
  EXPECT_EQ(knast::detail::cpu_shares_to_weight(0), 1u);
}

}  // namespace
