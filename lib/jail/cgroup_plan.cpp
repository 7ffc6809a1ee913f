#include "jail/cgroup_plan.hpp"

#include "core/text.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <sstream>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find(separator, start), text.size());
    if (end > start) parts.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// v1 super options hold mount flags and controllers together: keep the controllers.
std::vector<std::string> v1_controllers(std::string_view super_options) {
  std::vector<std::string> out;
  for (auto& option : split(super_options, ',')) {
    const bool flag = option == "rw" || option == "ro" || option.find('=') != std::string::npos ||
                      option == "noprefix" || option == "clone_children" || option == "xattr" ||
                      option == "cpuset_v2_mode";
    if (!flag) out.push_back(std::move(option));
  }
  return out;
}

// "36 35 98:0 /root /mnt rw,relatime shared:1 - cgroup cgroup rw,memory": the fields
// before " - " and the type, source and super options after it.
std::optional<CgroupMount> parse_mount_line(std::string_view line) {
  const auto dash = line.find(" - ");
  if (dash == std::string_view::npos) return std::nullopt;
  std::istringstream head{std::string(line.substr(0, dash))};
  std::istringstream tail{std::string(line.substr(dash + 3))};
  std::string id, parent, device, root, mount_point, type, source, super_options;
  if (!(head >> id >> parent >> device >> root >> mount_point) || !(tail >> type >> source)) return std::nullopt;
  tail >> super_options;
  if (type != "cgroup" && type != "cgroup2") return std::nullopt;
  CgroupMount mount{unescape_mountinfo(mount_point), type == "cgroup2", {}};
  if (!mount.v2) mount.controllers = v1_controllers(super_options);
  return mount;
}

// The limits of one controller, for v2 or v1.
std::vector<CgroupWrite> memory_writes(const LinuxResources& r, bool v2) {
  return {{v2 ? "memory.max" : "memory.limit_in_bytes", std::to_string(*r.memory_limit)}};
}

std::vector<CgroupWrite> pids_writes(const LinuxResources& r) { return {{"pids.max", std::to_string(*r.pids_limit)}}; }

constexpr std::uint64_t default_cpu_period_us = 100000;

std::vector<CgroupWrite> cpu_writes(const LinuxResources& r, bool v2) {
  std::vector<CgroupWrite> out;
  if (v2) {
    if (r.cpu_quota || r.cpu_period) {
      const auto quota = r.cpu_quota ? std::to_string(*r.cpu_quota) : std::string("max");
      out.push_back({"cpu.max", quota + " " + std::to_string(r.cpu_period.value_or(default_cpu_period_us))});
    }
    if (r.cpu_shares) out.push_back({"cpu.weight", std::to_string(cpu_shares_to_weight(*r.cpu_shares))});
    return out;
  }
  // The period first: the kernel checks a quota against the period in force.
  if (r.cpu_period) out.push_back({"cpu.cfs_period_us", std::to_string(*r.cpu_period)});
  if (r.cpu_quota) out.push_back({"cpu.cfs_quota_us", std::to_string(*r.cpu_quota)});
  if (r.cpu_shares) out.push_back({"cpu.shares", std::to_string(*r.cpu_shares)});
  return out;
}

void check_positive(const std::optional<std::int64_t>& value, const char* what) {
  if (value && *value <= 0)
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: must be positive, got {}", what, *value));
}

// Adds @p writes for @p controller to the group of the hierarchy that has it.
void place(CgroupPlan& plan, const std::vector<CgroupMount>& mounts, const std::vector<std::string>& v2_controllers,
           const std::string& relative, const char* controller, const char* limit_name,
           std::vector<CgroupWrite> (*make)(const LinuxResources&, bool), const LinuxResources& resources) {
  const CgroupMount* chosen = nullptr;
  const auto v2 = std::find_if(mounts.begin(), mounts.end(), [](const CgroupMount& m) { return m.v2; });
  if (v2 != mounts.end() && contains(v2_controllers, controller)) {
    chosen = &*v2;
  } else {
    const auto v1 = std::find_if(mounts.begin(), mounts.end(),
                                 [&](const CgroupMount& m) { return !m.v2 && contains(m.controllers, controller); });
    if (v1 != mounts.end()) chosen = &*v1;
  }
  if (chosen == nullptr)
    throw Error(ErrorCode::unsupported,
                fmt::format("{}: no {} controller in cgroup v2 or v1 on this host (the kernel or the host's cgroup "
                            "mounts lack it): run without this limit",
                            limit_name, controller));
  auto group = std::find_if(plan.groups.begin(), plan.groups.end(),
                            [&](const CgroupGroup& g) { return g.mount_point == chosen->mount_point; });
  if (group == plan.groups.end()) {
    plan.groups.push_back(CgroupGroup{chosen->v2, chosen->mount_point, relative, {}, {}});
    group = std::prev(plan.groups.end());
  }
  if (group->v2) group->enable.emplace_back(controller);
  auto writes = make(resources, group->v2);
  group->writes.insert(group->writes.end(), writes.begin(), writes.end());
}

}  // namespace

std::vector<CgroupMount> parse_cgroup_mounts(std::string_view mountinfo) {
  std::vector<CgroupMount> mounts;
  for (const auto& line : split(mountinfo, '\n'))
    if (auto mount = parse_mount_line(line)) mounts.push_back(std::move(*mount));
  return mounts;
}

std::string cgroup_relative_path(std::string_view id) {
  if (id.empty() || id == "." || id == ".." || id.find('/') != std::string_view::npos ||
      id.find('\0') != std::string_view::npos)
    throw Error(ErrorCode::invalid_argument,
                "container id " + quote_untrusted(id) + ": cannot name a cgroup (empty, \".\", \"..\" or with '/')");
  return "knast/" + std::string(id);
}

std::uint64_t cpu_shares_to_weight(std::uint64_t shares) noexcept {
  shares = std::clamp<std::uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

CgroupPlan plan_cgroups(const LinuxResources& resources, std::string_view id, std::string_view mountinfo,
                        std::string_view v2_root_controllers) {
  CgroupPlan plan;
  check_positive(resources.memory_limit, "memory limit");
  check_positive(resources.cpu_quota, "cpu quota");
  const bool pids = resources.pids_limit && *resources.pids_limit > 0;  // 0 or less: unlimited (runtime spec)
  const bool cpu = resources.cpu_quota || resources.cpu_period || resources.cpu_shares;
  if (!resources.memory_limit && !pids && !cpu) return plan;

  const auto relative = cgroup_relative_path(id);
  const auto mounts = parse_cgroup_mounts(mountinfo);
  std::vector<std::string> v2_controllers;
  for (auto& word : split(v2_root_controllers, ' '))
    for (auto& controller : split(word, '\n')) v2_controllers.push_back(std::move(controller));
  if (resources.memory_limit) place(plan, mounts, v2_controllers, relative, "memory", "memory limit", memory_writes, resources);
  if (pids)
    place(plan, mounts, v2_controllers, relative, "pids", "pids limit",
          [](const LinuxResources& r, bool) { return pids_writes(r); }, resources);
  if (cpu) place(plan, mounts, v2_controllers, relative, "cpu", "cpu limit", cpu_writes, resources);
  return plan;
}

std::vector<std::string> cgroup_dirs_of(std::string_view id, std::string_view mountinfo) {
  const auto relative = cgroup_relative_path(id);
  std::vector<std::string> dirs;
  for (const auto& mount : parse_cgroup_mounts(mountinfo)) {
    auto dir = mount.mount_point + "/" + relative;
    if (!contains(dirs, dir)) dirs.push_back(std::move(dir));
  }
  return dirs;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
