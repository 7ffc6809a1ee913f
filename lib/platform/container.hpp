// The container executor: what the supervisor (knast-shim) asks of the OS to make a
// container from a RunSpec, run further processes in it, signal it and tear it down.
// lib/platform/linux/container_linux.cpp (namespaces, pivot_root, cgroups) and
// lib/platform/freebsd/container_freebsd.cpp (jail_set, nmount, rctl; it carries out
// knast::plan_freebsd_jail()) implement it; the unsupported build refuses.
//
// Callers: only the supervisor, a single-threaded process, calls create_container() and
// exec_in_container() (they fork and change namespaces, which a multi-threaded caller must
// not do); signal_container() and destroy_container() may be called from any process.
#pragma once

#include <knast/run_spec.hpp>

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>

namespace knast::platform {

/// What the executor needs to make one container.
struct ContainerLaunch {
  std::string id;                      ///< The container id (names the jail / cgroup).
  RunSpec spec;                        ///< root.path is absolute.
  std::filesystem::path state_dir;     ///< containers/<id>/ (the executor may keep files there).
  /// stdio of the first process: descriptors open in the caller, dup2'ed to 0, 1, 2 in
  /// the child. With spec.process.terminal they are all the slave side of a terminal and
  /// the child makes it its controlling terminal (setsid + TIOCSCTTY).
  int stdio[3] = {0, 1, 2};
};

/// A container made by create_container(): its first process exists, inside the
/// container, stopped before execve. Destroying the object kills that process (Linux:
/// through a pidfd, so never a process that reused its pid), reaps it if start() never
/// succeeded (the caller had nothing to wait for), and tears everything down — the path
/// taken when setup fails halfway. So keep the object until the container has ended.
class Container {
 public:
  virtual ~Container() = default;
  /// Host pid of the first process (the caller is its parent and reaps it).
  virtual pid_t pid() const = 0;
  /// Lets the first process execve its program. @throws Error when execve failed (the
  /// child reports errno through a close-on-exec pipe).
  virtual void start() = 0;
  /// After the first process has been reaped: removes everything create_container()
  /// made (jail, mounts made from the host side, cgroups, rctl rules). Idempotent.
  virtual void teardown() = 0;
};

/// Makes the container of @p launch (namespaces or jail, mounts, limits, user, the
/// executable looked up in PATH inside the root) and its first process, which waits for
/// Container::start(). The caller must be single-threaded.
/// @throws Error with what failed and nothing left behind: not_found (no executable in
///         the root, a bad mount source), unsupported (a limit the host cannot apply,
///         saying why), permission_denied, io.
std::unique_ptr<Container> create_container(const ContainerLaunch& launch);

/// What exec_in_container() needs: the running container and the process to add.
struct ExecLaunch {
  std::string id;                   ///< The container id.
  pid_t init_pid = 0;               ///< Host pid of its first process (namespaces / jail found from it).
  RunSpec spec;                     ///< The container's spec (its env, capabilities, ...).
  RunProcess process;               ///< The new process.
  int stdio[3] = {0, 1, 2};         ///< As ContainerLaunch::stdio.
};

/// Starts @p launch.process inside the running container as a child of the caller and
/// returns its pid (the caller waits for it). The caller must be single-threaded.
/// @throws Error not_found (no executable), invalid_argument (container not running), io.
pid_t exec_in_container(const ExecLaunch& launch);

/// Sends @p signal to every process of container @p id whose first process is
/// @p init_pid (Linux: every process of its PID namespace; FreeBSD: of its jail).
/// Processes already gone are not an error.
void signal_container(const std::string& id, pid_t init_pid, int signal);

/// Removes, by name, whatever a container @p id whose supervisor died left behind
/// (processes are killed first; then cgroups, jail, host-side mounts of @p spec, rctl
/// rules). Idempotent; used by `rm -f` of a container whose supervisor is gone.
void destroy_container(const std::string& id, pid_t init_pid, const RunSpec& spec);

}  // namespace knast::platform
