// Linux executor: the cgroups of a container — made from knast::detail::plan_cgroups()
// (the pure v1/v2 decision), joined by its processes through cgroup.procs, removed after
// its processes are gone.
#include "platform/linux/executor_linux.hpp"

#include "core/text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace knast::platform::executor {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const std::string& path, const std::string& value) {
  const UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size()))
    throw Error(errno, "write " + value + " to " + path);
}

// Removes one group, retrying while its last processes are still exiting.
void remove_dir(const std::string& dir) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (::rmdir(dir.c_str()) != 0) {
    if (errno == ENOENT) return;
    if (errno != EBUSY || std::chrono::steady_clock::now() > deadline)
      throw Error(errno == EBUSY ? std::error_code(ErrorCode::busy) : std::error_code(errno, std::system_category()),
                  "remove the cgroup " + dir + (errno == EBUSY ? ": it still has processes" : ""));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// v2: a controller must be enabled in the subtree_control of every ancestor of a group.
void enable_controllers(const knast::detail::CgroupGroup& group) {
  std::string value;
  for (const auto& controller : group.enable) value += (value.empty() ? "+" : " +") + controller;
  if (value.empty()) return;
  write_file(group.mount_point + "/cgroup.subtree_control", value);
  const auto parent = group.mount_point + "/knast";
  write_file(parent + "/cgroup.subtree_control", value);
}

void make_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) throw Error(errno, "create the cgroup " + dir);
}

}  // namespace

std::string read_mountinfo() { return read_text("/proc/self/mountinfo"); }

std::string cgroup2_mount_point(const std::string& mountinfo) {
  for (const auto& mount : knast::detail::parse_cgroup_mounts(mountinfo))
    if (mount.v2) return mount.mount_point;
  return {};
}

knast::detail::CgroupPlan plan_host_cgroups(const LinuxResources& resources, const std::string& id) {
  const auto mountinfo = read_mountinfo();
  const auto v2 = cgroup2_mount_point(mountinfo);
  const std::string v2_controllers = v2.empty() ? std::string() : read_text(v2 + "/cgroup.controllers");
  return knast::detail::plan_cgroups(resources, id, mountinfo, v2_controllers);
}

CgroupSet::CgroupSet(const knast::detail::CgroupPlan& plan) {
  for (const auto& group : plan.groups) {
    const auto dir = group.mount_point + "/" + group.relative;
    make_dir(group.mount_point + "/knast");
    remove_dir(dir);  // a leftover of a container of the same id whose supervisor died
    make_dir(dir);
    dirs_.push_back(dir);
    if (group.v2) enable_controllers(group);
    for (const auto& write : group.writes) write_file(dir + "/" + write.file, write.value);
  }
}

CgroupSet::~CgroupSet() {
  try {
    remove();
  } catch (const Error&) {
    // Best effort on the failure path: destroy_container() removes leftovers by name.
  }
}

std::vector<UniqueFd> CgroupSet::open_procs() const {
  std::vector<UniqueFd> procs;
  for (const auto& dir : dirs_) {
    UniqueFd fd(::open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) throw Error(errno, "open " + dir + "/cgroup.procs");
    procs.push_back(std::move(fd));
  }
  return procs;
}

void CgroupSet::join(const std::vector<UniqueFd>& procs) {
  for (const auto& fd : procs)
    if (::write(fd.get(), "0", 1) != 1) throw Error(errno, "join the container's cgroup");
}

void CgroupSet::remove() {
  remove_cgroup_dirs(dirs_);
  dirs_.clear();
}

void remove_cgroup_dirs(const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs) remove_dir(dir);
}

}  // namespace knast::platform::executor
