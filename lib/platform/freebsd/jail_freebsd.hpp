// The kernel objects of a FreeBSD container, each with one RAII owner, and the calls that
// make them: jail_set(2)/jail_remove(2) (jail_kernel.cpp), nmount(2)/unmount(2) and
// devfs rules (jail_mounts.cpp), rctl(2) (jail_rctl.cpp), and processes started inside a
// jail with fork + jail_attach(2) (jail_exec.cpp). container_freebsd.cpp strings them
// together in the order plan_freebsd_jail() gives. FreeBSD only; facts: FREEBSD.md.
#pragma once

#include <knast/error.hpp>
#include <knast/jail.hpp>

#include <sys/types.h>
#include <sys/param.h>
#include <sys/mount.h>
#include <sys/uio.h>

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace knast::platform::freebsd {

// ---- iovec name/value lists (jail_set(2), jail_get(2), nmount(2)) -----------------------

/// Name/value iovec pairs whose bytes this object owns (a deque never moves its elements,
/// so the pointers stay valid), with an "errmsg" buffer the kernel fills on failure.
class IovecList {
 public:
  /// A name and a NUL-terminated string value.
  void add_string(const std::string& name, const std::string& value);
  /// A name and a value of exactly @p size bytes (integers, address arrays).
  void add_bytes(const std::string& name, const void* data, std::size_t size);
  /// A name alone with a {NULL, 0} value (jail booleans).
  void add_flag(const std::string& name);
  /// Adds the "errmsg" pair; call last.
  void add_errmsg();
  /// The iovecs, ready for the system call.
  iovec* data() noexcept { return iov_.data(); }
  /// Their number (always even).
  unsigned size() const noexcept { return static_cast<unsigned>(iov_.size()); }
  /// The kernel's message after a failure ("" when none).
  std::string errmsg() const;

 private:
  iovec& store(std::vector<char> bytes);
  std::deque<std::vector<char>> buffers_;
  std::vector<iovec> iov_;
  std::vector<char>* errmsg_ = nullptr;
};

// ---- jails (jail_kernel.cpp) -------------------------------------------------------------

/// Owns a jail: jail_remove(2) on destruction unless released.
class JailHandle {
 public:
  JailHandle() noexcept = default;
  /// Takes ownership of jail @p jid.
  explicit JailHandle(int jid) noexcept : jid_(jid) {}
  ~JailHandle() { remove(); }
  JailHandle(JailHandle&& other) noexcept : jid_(other.jid_) { other.jid_ = -1; }
  JailHandle& operator=(JailHandle&& other) noexcept;
  JailHandle(const JailHandle&) = delete;
  JailHandle& operator=(const JailHandle&) = delete;
  /// The jail id, -1 when none.
  int jid() const noexcept { return jid_; }
  /// jail_remove(2) (SIGKILL to every process in it); a jail already gone is fine.
  void remove() noexcept;

 private:
  int jid_ = -1;
};

/// Creates the jail of @p plan with jail_set(2) and JAIL_CREATE and its parameters in
/// order. @throws Error already_exists (the name is taken), unsupported (a parameter the
/// kernel does not know: a module or VIMAGE missing), io, with the kernel's errmsg.
JailHandle create_jail(const JailPlan& plan);

/// The jid of the live jail named @p name, if there is one.
std::optional<int> find_jail(const std::string& name);

/// Host pids of the processes of jail @p jid (kern.proc sysctl, ki_jid).
std::vector<pid_t> jail_pids(int jid);

/// Sends @p signal to every process of jail @p jid; ones gone meanwhile are not an error.
void signal_jail(int jid, int signal);

/// Waits up to @p timeout until jail @p jid has no process, reaping the zombies among them
/// that are children of the caller (a zombie keeps its jail alive). Returns whether empty.
bool wait_jail_empty(int jid, std::chrono::milliseconds timeout);

/// Brings up lo0 with 127.0.0.1/8 inside the vnet jail @p jid (a child process attaches
/// to the jail, so the ioctls reach the jail's own network stack).
void bring_up_loopback(int jid);

// ---- mounts and devfs rules (jail_mounts.cpp) ------------------------------------------

/// One file system mounted by knast: where, and its id for unmount(2) with MNT_BYFSID,
/// which cannot be redirected by a symlink made inside the jail after mounting.
struct Mounted {
  std::string path;  ///< The host path it was mounted on.
  fsid_t fsid{};     ///< statfs(2) f_fsid right after mounting.
};

/// Owns the mounts of one container; unmounts them in reverse order on destruction.
class MountStack {
 public:
  MountStack() = default;
  ~MountStack() { unmount_all(); }
  MountStack(MountStack&&) noexcept = default;
  MountStack& operator=(MountStack&&) = delete;
  MountStack(const MountStack&) = delete;
  MountStack& operator=(const MountStack&) = delete;
  /// Mounts @p step under @p root (nmount(2)); the target must exist inside the root
  /// and is reached without following a symlink. @throws Error naming the mount.
  void mount(const MountStep& step, const std::string& root);
  /// Unmounts everything, deepest (latest) first: plainly, then with MNT_FORCE when
  /// busy. Returns the first failure's message ("" when all went).
  std::string unmount_all() noexcept;

 private:
  std::vector<Mounted> mounted_;
};

/// Creates the mount points of @p plan inside its root (directories, or an empty file for
/// a nullfs mount of a regular file) and writes its files, never following a symlink.
/// Refuses a nullfs source that is a UNIX socket (or anything but a directory or a
/// regular file) with the reason. @throws Error.
void prepare_root(const JailPlan& plan);

/// Unmounts, by the name they were mounted on, the mounts of @p plan that are still
/// there (for a container whose supervisor died). Returns the first failure ("" if none).
std::string unmount_planned(const JailPlan& plan) noexcept;

/// Makes sure the devfs ruleset of @p plan exists: defines knast's (DEVFSIO_RADD) or, for
/// a native jail, checks that ruleset 4 holds rules. @throws Error.
void apply_devfs_ruleset(const JailPlan& plan);

// ---- rctl (jail_rctl.cpp) -----------------------------------------------------------------

/// Checks that the kernel accounts resources (kern.racct.enable = 1). @throws Error
/// unsupported saying how to enable it.
void check_racct();

/// Owns the rctl rules of one jail: removes every rule of the jail's name on destruction.
class RctlRules {
 public:
  /// Rules for jail @p jail_name (none added yet).
  explicit RctlRules(std::string jail_name) : jail_name_(std::move(jail_name)) {}
  ~RctlRules() { remove_all(); }
  RctlRules(RctlRules&&) noexcept = default;
  RctlRules& operator=(RctlRules&&) = delete;
  RctlRules(const RctlRules&) = delete;
  RctlRules& operator=(const RctlRules&) = delete;
  /// rctl_add_rule(2) of the full rule @p rule. @throws Error.
  void add(const std::string& rule);
  /// rctl_remove_rule(2) of "jail:<name>:", once something was added. Returns the failure ("" if none).
  std::string remove_all() noexcept;

 private:
  std::string jail_name_;
  bool added_ = false;
};

/// Removes every rctl rule of jail name @p jail_name (no rule is fine).
/// Returns the failure ("" if none).
std::string remove_rctl_rules(const std::string& jail_name) noexcept;

// ---- processes in a jail (jail_exec.cpp) -----------------------------------------------------

/// How a child reports back over its close-on-exec pipe: the step that failed and errno;
/// step ready means it is waiting for start.
struct ChildReport {
  int step = 0;   ///< ChildStep.
  int error = 0;  ///< errno of the failed step.
};

/// Steps of a process started in a jail, in order.
enum ChildStep : int {
  step_ready = 0, step_stdio, step_terminal, step_attach, step_rlimit, step_groups, step_gid, step_uid,
  step_umask, step_no_new_privs, step_chdir, step_lookup, step_exec,
};

/// A process forked into a jail.
struct JailProcess {
  pid_t pid = -1;          ///< Its host pid (the caller reaps it).
  int start_fd = -1;       ///< Write end of the start pipe (-1 without one); owned by the caller.
  int report_fd = -1;      ///< Read end of the report pipe; owned by the caller.
};

/// Forks a child that joins jail @p jid and runs @p process there (stdio from @p stdio,
/// a controlling terminal with @p process.terminal), looking the program up in the PATH
/// of its environment inside the jail. With @p wait_for_start it reports ready and waits
/// until a byte arrives on the start pipe before execve. The caller must be
/// single-threaded. @throws Error for what can be checked before fork (an unknown rlimit).
JailProcess spawn_in_jail(int jid, const RunProcess& process, const int stdio[3], bool wait_for_start);

/// Reads one report from @p fd: nothing at end of file (execve succeeded).
std::optional<ChildReport> read_report(int fd);

/// An Error for a child's report about @p what ("container c1", "exec in c1").
Error report_error(const ChildReport& report, const std::string& what, const RunProcess& process);

}  // namespace knast::platform::freebsd
