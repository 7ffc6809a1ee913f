// Where a Linux container's limits go: the decision between cgroup v2 and v1, made as a
// pure function of the mount table (/proc/self/mountinfo) and the controllers of the v2
// root (its cgroup.controllers), so it is unit-tested for v2-only, v1-only and hybrid
// hosts on any OS. lib/platform/linux/cgroups_linux.cpp carries the plan out.
#pragma once

#include <knast/run_spec.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// One cgroup file system mounted on the host (a line of mountinfo with type cgroup or cgroup2).
struct CgroupMount {
  std::string mount_point;               ///< Where it is mounted ("/sys/fs/cgroup/memory").
  bool v2 = false;                       ///< cgroup2 (unified) rather than a v1 hierarchy.
  std::vector<std::string> controllers;  ///< v1: the controllers bound to it ("cpu", "cpuacct"); v2: empty.
  /// Mounts compare field by field.
  friend bool operator==(const CgroupMount&, const CgroupMount&) = default;
};

/// The cgroup mounts of @p mountinfo (the text of /proc/self/mountinfo), in its order.
/// v1 controllers come from the super options ("rw,cpu,cpuacct"); named hierarchies
/// ("name=systemd") have none. Lines of other types, or malformed, are skipped.
std::vector<CgroupMount> parse_cgroup_mounts(std::string_view mountinfo);

/// One value written into a cgroup file.
struct CgroupWrite {
  std::string file;   ///< "memory.max", "pids.max", ...
  std::string value;  ///< What is written.
  /// Writes compare field by field.
  friend bool operator==(const CgroupWrite&, const CgroupWrite&) = default;
};

/// One cgroup the container's processes join: `<mount_point>/<relative>`.
struct CgroupGroup {
  bool v2 = false;                  ///< In the unified hierarchy.
  std::string mount_point;          ///< The hierarchy's mount point.
  std::string relative;             ///< "knast/<id>".
  std::vector<std::string> enable;  ///< v2: controllers to enable in subtree_control of the root and of "knast".
  std::vector<CgroupWrite> writes;  ///< The limits, in the order they are written.
  /// Groups compare field by field.
  friend bool operator==(const CgroupGroup&, const CgroupGroup&) = default;
};

/// The cgroups of one container: empty when it has no limits (no cgroup is made).
struct CgroupPlan {
  std::vector<CgroupGroup> groups;  ///< At most one v2 group and one per v1 hierarchy.
  /// Plans compare field by field.
  friend bool operator==(const CgroupPlan&, const CgroupPlan&) = default;
};

/// The relative path of container @p id's groups: "knast/<id>".
/// @throws Error invalid_argument for an id that is empty, ".", ".." or holds a '/'.
std::string cgroup_relative_path(std::string_view id);

/// Decides where the limits of @p resources go for container @p id: each controller
/// (memory, pids, cpu) in cgroup v2 when the v2 root lists it in @p v2_root_controllers
/// (the text of its cgroup.controllers, "" when there is no v2 mount), else in the v1
/// hierarchy that has it. Writes: v2 memory.max, pids.max, cpu.max ("QUOTA PERIOD" or
/// "max PERIOD"), cpu.weight (from shares, as runc converts them); v1
/// memory.limit_in_bytes, pids.max, cpu.cfs_period_us, cpu.cfs_quota_us, cpu.shares.
/// @throws Error unsupported naming the limit when no hierarchy has its controller
///         ("memory limit: no memory controller in cgroup v2 or v1 on this host"),
///         invalid_argument for a non-positive limit or a bad id.
CgroupPlan plan_cgroups(const LinuxResources& resources, std::string_view id, std::string_view mountinfo,
                        std::string_view v2_root_controllers);

/// Every directory container @p id may have a group in, on any hierarchy of
/// @p mountinfo ("<mount_point>/knast/<id>", one per mount), for removing leftovers.
std::vector<std::string> cgroup_dirs_of(std::string_view id, std::string_view mountinfo);

/// runc's conversion of cpu shares (2..262144) into a cgroup v2 cpu.weight (1..10000).
std::uint64_t cpu_shares_to_weight(std::uint64_t shares) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace knast
