// Private to the Linux container executor (lib/platform/linux/*_linux.cpp): the steps a
// container's first process (and an exec'ed process) takes between fork and execve, the
// cgroups a container's processes join, and the report pipe that carries "ready" or an
// Error from the child back to the supervisor.
#pragma once

#include "core/unique_fd.hpp"
#include "jail/capability_names.hpp"
#include "jail/cgroup_plan.hpp"

#include <knast/error.hpp>
#include <knast/run_spec.hpp>

#include <string>
#include <vector>

namespace knast::platform::executor {

using knast::detail::UniqueFd;

// ---- report pipe (child → supervisor) -------------------------------------------------

/// A pipe whose ends are close-on-exec and numbered above stdio (so dup2 onto 0, 1, 2
/// in the child never overwrites one).
struct Pipe {
  UniqueFd read;   ///< The reading end.
  UniqueFd write;  ///< The writing end.
};
/// @throws Error (errno).
Pipe make_pipe();

/// Child side: tells the supervisor that setup is done (one byte).
void report_ready(int fd) noexcept;
/// Child side: sends @p error (its errno or kind, and message) to the supervisor.
void report_error(int fd, const Error& error) noexcept;
/// Supervisor side: waits for the child's report on @p fd. Returns true for "ready",
/// false at end of file without a report (the pipe closed, e.g. by a successful execve);
/// @throws the Error the child reported.
bool await_report(int fd);

// ---- mounts and the root (mounts_linux.cpp) -------------------------------------------

/// In the child, in its new mount namespace: makes the mounts of @p spec inside the root
/// (every target resolved inside it), the standard devices and /dev links when /dev is a
/// mount of its own, masked and read-only paths, creates the working directory, then
/// pivot_root into it and mounts the root read-only when asked.
void enter_root(const RunSpec& spec);

// ---- the process (process_linux.cpp) ---------------------------------------------------

/// setrlimit() for each of @p rlimits. @throws Error invalid_argument for an unknown name.
void apply_rlimits(const std::vector<PosixRlimit>& rlimits);

/// dup2 of @p stdio onto 0, 1, 2; with @p terminal a new session whose controlling
/// terminal is stdin.
void attach_stdio(const int (&stdio)[3], bool terminal);

/// Becomes the process's user: bounding set, supplementary groups, gid, uid, the
/// capability sets (docker's defaults when the spec has none), no_new_privs, umask (0022
/// by default), then chdir to its cwd.
void become_process_user(const RunProcess& process);

/// The file @p process's args[0] names: itself when it holds a '/', else the first
/// executable regular file of that name in the PATH of its env (docker's default PATH
/// without one). @throws Error not_found naming the command and the PATH searched.
std::string find_executable(const RunProcess& process);

/// Marks every descriptor above stderr close-on-exec, restores every signal to its
/// default and unblocks all, then execve(); returns only on failure (errno set).
void exec_program(const std::string& path, const RunProcess& process) noexcept;

// ---- cgroups (cgroups_linux.cpp) -------------------------------------------------------

/// The text of /proc/self/mountinfo.
std::string read_mountinfo();
/// Where this mount namespace has the unified (v2) cgroup hierarchy mounted; "" if nowhere.
std::string cgroup2_mount_point(const std::string& mountinfo);

/// The cgroup plan of container @p id's @p resources on this host (reads mountinfo and
/// the v2 root's controllers). @throws as knast::detail::plan_cgroups().
knast::detail::CgroupPlan plan_host_cgroups(const LinuxResources& resources, const std::string& id);

/// The groups of one container, made from a plan: directories, controllers enabled,
/// limits written. Removing them (remove(), or the destructor) waits briefly for their
/// last processes to go.
class CgroupSet {
 public:
  CgroupSet() = default;
  /// Makes the groups of @p plan (a leftover group of the same name is removed first).
  /// @throws Error with the file and value that could not be written.
  explicit CgroupSet(const knast::detail::CgroupPlan& plan);
  CgroupSet(CgroupSet&&) noexcept = default;
  CgroupSet& operator=(CgroupSet&&) noexcept = default;
  ~CgroupSet();

  /// Opens the cgroup.procs of every group, for join() in a child (open them before
  /// the child leaves the host's mount namespace).
  std::vector<UniqueFd> open_procs() const;
  /// Moves the calling process into the groups whose cgroup.procs are @p procs.
  static void join(const std::vector<UniqueFd>& procs);
  /// Removes the groups (after their processes are gone). Idempotent.
  /// @throws Error busy when a group still has processes after a short wait.
  void remove();
  /// The group directories.
  const std::vector<std::string>& dirs() const noexcept { return dirs_; }

 private:
  std::vector<std::string> dirs_;
};

/// Removes the cgroup directories @p dirs, waiting up to about two seconds for their
/// processes to be gone; missing ones are fine. @throws Error busy.
void remove_cgroup_dirs(const std::vector<std::string>& dirs);

}  // namespace knast::platform::executor
