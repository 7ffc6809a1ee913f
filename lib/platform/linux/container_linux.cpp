// Linux: the container executor. The first process is forked into a new PID namespace
// (the supervisor unshares CLONE_NEWPID for its children only, forks, and goes back),
// unshares the mount, UTS, IPC (and network) namespaces itself, joins the container's
// cgroups, sets up its root (mounts_linux.cpp) and its user (process_linux.cpp), reports
// "ready" over a pipe and waits for start() before execve. Processes are tracked through
// pidfds and the PID namespace, never by a pid number alone.
#include "platform/container.hpp"

#include "core/text.hpp"
#include "platform/linux/executor_linux.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace knast::platform {
namespace {

using executor::UniqueFd;
using knast::detail::quote_untrusted;

// ---- namespaces -------------------------------------------------------------------------

// What the first process does about namespaces: the ones it makes and the ones it joins.
struct NamespaceSetup {
  int unshare_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
  bool new_network = false;
  bool new_cgroup = false;
  std::vector<std::pair<UniqueFd, int>> joins;  // setns(fd, type) before unsharing
};

int namespace_flag(const std::string& type) {
  if (type == "network") return CLONE_NEWNET;
  if (type == "ipc") return CLONE_NEWIPC;
  if (type == "uts") return CLONE_NEWUTS;
  if (type == "cgroup") return CLONE_NEWCGROUP;
  if (type == "pid") return CLONE_NEWPID;
  if (type == "mount") return CLONE_NEWNS;
  if (type == "user") return CLONE_NEWUSER;
  throw Error(ErrorCode::invalid_argument, "linux.namespaces: unknown type " + quote_untrusted(type));
}

NamespaceSetup plan_namespaces(const RunSpec& spec) {
  NamespaceSetup setup;
  if (!spec.linux_config) return setup;
  for (const auto& ns : spec.linux_config->namespaces) {
    const int flag = namespace_flag(ns.type);
    if (flag == CLONE_NEWUSER)
      throw Error(ErrorCode::unsupported, "linux.namespaces: knast does not make user namespaces");
    if (!ns.path) {
      if (flag == CLONE_NEWNET) setup.new_network = true;
      if (flag == CLONE_NEWCGROUP) setup.new_cgroup = true;
      continue;
    }
    if (flag == CLONE_NEWPID || flag == CLONE_NEWNS)
      throw Error(ErrorCode::unsupported,
                  "linux.namespaces: joining an existing " + ns.type + " namespace is not supported");
    UniqueFd fd(::open(ns.path->c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw Error(errno, "linux.namespaces: open the " + ns.type + " namespace " + quote_untrusted(*ns.path));
    setup.unshare_flags &= ~flag;
    setup.joins.emplace_back(std::move(fd), flag);
  }
  if (setup.new_network) setup.unshare_flags |= CLONE_NEWNET;
  return setup;
}

// While alive, the caller's children are born in another PID namespace (a new one, or
// that of @p pidfd's process); the caller itself stays where it is and returns after.
class ChildPidNamespace {
 public:
  explicit ChildPidNamespace(int pidfd) : own_(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)) {
    if (!own_) throw Error(errno, "open the supervisor's PID namespace");
    const int rc = pidfd < 0 ? ::unshare(CLONE_NEWPID) : ::setns(pidfd, CLONE_NEWPID);
    if (rc != 0) throw Error(errno, pidfd < 0 ? "make a PID namespace" : "enter the container's PID namespace");
  }
  ~ChildPidNamespace() { (void)::setns(own_.get(), CLONE_NEWPID); }
  ChildPidNamespace(const ChildPidNamespace&) = delete;
  ChildPidNamespace& operator=(const ChildPidNamespace&) = delete;

 private:
  UniqueFd own_;
};

// A new network namespace has only "lo", down: bring it up as docker does.
void bring_up_loopback() {
  const UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) throw Error(errno, "open a socket to bring up lo");
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &request) != 0) throw Error(errno, "read the flags of lo");
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &request) != 0) throw Error(errno, "bring up lo");
}

void enter_namespaces(const NamespaceSetup& setup) {
  for (const auto& [fd, type] : setup.joins)
    if (::setns(fd.get(), type) != 0) throw Error(errno, "join a namespace named in linux.namespaces");
  if (::unshare(setup.unshare_flags) != 0) throw Error(errno, "make the container's namespaces");
  // After joining the cgroups, so the container sees its own group as its root.
  if (setup.new_cgroup && ::unshare(CLONE_NEWCGROUP) != 0) throw Error(errno, "make the cgroup namespace");
  if (setup.new_network) bring_up_loopback();
}

// ---- processes ---------------------------------------------------------------------------

// The system calls directly: Debian 12's <sys/pidfd.h> lacks extern "C" for C++.
UniqueFd open_pidfd(pid_t pid) { return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))); }

void send_signal(int pidfd, int signal) noexcept { (void)::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0); }

pid_t fork_or_throw() {
  const pid_t pid = ::fork();
  if (pid < 0) throw Error(errno, "fork the container process");
  return pid;
}

void reap(pid_t pid) {
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

// Runs @p body in the child: its Error (or any exception) goes to the report pipe.
template <typename Body>
[[noreturn]] void run_child(int report_fd, Body&& body) noexcept {
  try {
    body();
  } catch (const Error& e) {
    executor::report_error(report_fd, e);
  } catch (const std::exception& e) {
    executor::report_error(report_fd, Error(ErrorCode::internal, std::string("container setup: ") + e.what()));
  }
  ::_exit(127);
}

// The end of a child's setup: report ready (create only), wait for the go, execve.
[[noreturn]] void exec_when_told(int report_fd, int start_fd, const std::string& path, const RunProcess& process) {
  if (start_fd >= 0) {
    executor::report_ready(report_fd);
    char go = 0;
    while (::read(start_fd, &go, 1) < 0 && errno == EINTR) {
    }
    if (go != 'S') ::_exit(1);  // the supervisor gave up: never run the program
  }
  executor::exec_program(path, process);
  const int saved = errno;
  executor::report_error(report_fd, Error(saved, "exec " + quote_untrusted(path) + " in the container"));
  ::_exit(127);
}

struct FirstProcessSetup {
  const ContainerLaunch& launch;
  const NamespaceSetup& namespaces;
  std::vector<UniqueFd> cgroup_procs;
};

[[noreturn]] void first_process(const FirstProcessSetup& setup, int report_fd, int start_fd) {
  run_child(report_fd, [&] {
    const auto& spec = setup.launch.spec;
    ::umask(0);  // device nodes and directories get exactly their modes; the user's umask comes later
    executor::CgroupSet::join(setup.cgroup_procs);
    enter_namespaces(setup.namespaces);
    executor::enter_root(spec);
    if (spec.hostname && ::sethostname(spec.hostname->data(), spec.hostname->size()) != 0)
      throw Error(errno, "set the hostname " + quote_untrusted(*spec.hostname));
    executor::apply_rlimits(spec.process.rlimits);
    executor::attach_stdio(setup.launch.stdio, spec.process.terminal);
    executor::become_process_user(spec.process);
    exec_when_told(report_fd, start_fd, executor::find_executable(spec.process), spec.process);
  });
}

void check_launch(const ContainerLaunch& launch) {
  const auto& spec = launch.spec;
  if (spec.root.path.empty() || spec.root.path.front() != '/')
    throw Error(ErrorCode::invalid_argument,
                "container " + launch.id + ": root.path " + quote_untrusted(spec.root.path) + " is not absolute");
  if (spec.process.args.empty())
    throw Error(ErrorCode::invalid_argument, "container " + launch.id + ": process.args is empty");
  (void)knast::detail::cgroup_relative_path(launch.id);  // the id names a cgroup: check it early
}

const LinuxResources& resources_of(const RunSpec& spec) {
  static const LinuxResources none;
  return spec.linux_config ? spec.linux_config->resources : none;
}

class LinuxContainer final : public Container {
 public:
  explicit LinuxContainer(executor::CgroupSet cgroups) : cgroups_(std::move(cgroups)) {}

  ~LinuxContainer() override {
    if (pidfd_) send_signal(pidfd_.get(), SIGKILL);
    // Never started: the caller never had a process to wait for, so reap it here.
    if (pid_ > 0 && !started_) reap(pid_);
    try {
      teardown();
    } catch (const Error&) {
      // Best effort: destroy_container() removes what is left by name.
    }
  }

  pid_t pid() const override { return pid_; }

  void start() override {
    if (started_) return;
    if (::write(start_.get(), "S", 1) != 1) throw Error(errno, "start the container process");
    start_.reset();
    executor::await_report(report_.get());  // end of file: execve succeeded; a record: it failed
    report_.reset();
    started_ = true;
  }

  void teardown() override { cgroups_.remove(); }

  // Forks the first process and waits for its report.
  void launch(const ContainerLaunch& launch, const NamespaceSetup& namespaces) {
    auto report = executor::make_pipe();
    auto start = executor::make_pipe();
    FirstProcessSetup setup{launch, namespaces, cgroups_.open_procs()};
    {
      ChildPidNamespace pid_namespace(-1);
      pid_ = fork_or_throw();
      if (pid_ == 0) {
        report.read.reset();
        start.write.reset();
        first_process(setup, report.write.get(), start.read.get());
      }
    }
    pidfd_ = open_pidfd(pid_);
    if (!pidfd_) throw Error(errno, "open a pidfd for the container process");
    report.write.reset();
    start.read.reset();
    report_ = std::move(report.read);
    start_ = std::move(start.write);
    if (!executor::await_report(report_.get()))
      throw Error(ErrorCode::internal, "container " + launch.id + ": the setup process ended without a report");
  }

 private:
  executor::CgroupSet cgroups_;
  pid_t pid_ = 0;
  UniqueFd pidfd_;
  UniqueFd report_;
  UniqueFd start_;
  bool started_ = false;
};

// ---- finding a container's processes --------------------------------------------------

struct NamespaceId {
  dev_t dev = 0;
  ino_t ino = 0;
  friend bool operator==(const NamespaceId&, const NamespaceId&) = default;
};

std::optional<NamespaceId> pid_namespace_of(pid_t pid) {
  struct stat st {};
  if (::stat(("/proc/" + std::to_string(pid) + "/ns/pid").c_str(), &st) != 0) return std::nullopt;
  return NamespaceId{st.st_dev, st.st_ino};
}

// Whether @p pid is PID 1 of a PID namespace below ours: the last NSpid field is 1. A pid
// that was reused by a host process fails this, so it is never taken for a container.
bool is_namespace_init(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("NSpid:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    std::vector<std::string> pids;
    for (std::string field; fields >> field;) pids.push_back(field);
    return pids.size() >= 2 && pids.back() == "1";
  }
  return false;
}

// The PID namespace of a container whose init is @p init_pid, pinned by @p init's pidfd;
// nothing when it is not (or no longer) a namespace init.
std::optional<NamespaceId> container_namespace(pid_t init_pid, UniqueFd& init) {
  init = open_pidfd(init_pid);
  if (!init || !is_namespace_init(init_pid)) return std::nullopt;
  return pid_namespace_of(init_pid);
}

std::vector<pid_t> all_pids() {
  std::vector<pid_t> pids;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) throw Error(errno, "list /proc");
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (end != entry->d_name && *end == '\0' && pid > 0) pids.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(dir);
  return pids;
}

// Every process of namespace @p ns except @p except, each pinned by a pidfd.
std::vector<UniqueFd> members_of(const NamespaceId& ns, pid_t except) {
  std::vector<UniqueFd> members;
  for (const pid_t pid : all_pids()) {
    if (pid == except) continue;
    auto pidfd = open_pidfd(pid);  // first: the namespace read after it is that process's
    if (pidfd && pid_namespace_of(pid) == ns) members.push_back(std::move(pidfd));
  }
  return members;
}

bool wait_until_empty(const NamespaceId& ns, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!members_of(ns, 0).empty()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// ---- exec -------------------------------------------------------------------------------

constexpr int exec_namespaces = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP;

std::vector<UniqueFd> open_group_procs(const ExecLaunch& launch) {
  std::vector<UniqueFd> procs;
  for (const auto& group : executor::plan_host_cgroups(resources_of(launch.spec), launch.id).groups) {
    const auto file = group.mount_point + "/" + group.relative + "/cgroup.procs";
    UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) throw Error(errno, "exec in container " + launch.id + ": open " + file);
    procs.push_back(std::move(fd));
  }
  return procs;
}

[[noreturn]] void exec_process(const ExecLaunch& launch, int init_pidfd, const std::vector<UniqueFd>& procs,
                               int report_fd) {
  run_child(report_fd, [&] {
    executor::CgroupSet::join(procs);
    if (::setns(init_pidfd, exec_namespaces) != 0) throw Error(errno, "enter the container's namespaces");
    executor::apply_rlimits(launch.process.rlimits);
    executor::attach_stdio(launch.stdio, launch.process.terminal);
    executor::become_process_user(launch.process);
    exec_when_told(report_fd, -1, executor::find_executable(launch.process), launch.process);
  });
}

}  // namespace

std::unique_ptr<Container> create_container(const ContainerLaunch& launch) {
  check_launch(launch);
  try {
    const auto namespaces = plan_namespaces(launch.spec);
    auto container = std::make_unique<LinuxContainer>(
        executor::CgroupSet(executor::plan_host_cgroups(resources_of(launch.spec), launch.id)));
    container->launch(launch, namespaces);
    return container;
  } catch (const Error& e) {
    throw e.with_context("create container " + launch.id);
  }
}

pid_t exec_in_container(const ExecLaunch& launch) {
  if (launch.process.args.empty())
    throw Error(ErrorCode::invalid_argument, "exec in container " + launch.id + ": no command");
  UniqueFd init;
  if (!container_namespace(launch.init_pid, init))
    throw Error(ErrorCode::invalid_argument, "exec in container " + launch.id + ": it is not running");
  const auto procs = open_group_procs(launch);
  auto report = executor::make_pipe();
  pid_t pid = 0;
  {
    ChildPidNamespace pid_namespace(init.get());
    pid = fork_or_throw();
    if (pid == 0) {
      report.read.reset();
      exec_process(launch, init.get(), procs, report.write.get());
    }
  }
  report.write.reset();
  try {
    executor::await_report(report.read.get());
  } catch (const Error& e) {
    reap(pid);
    throw e.with_context("exec in container " + launch.id);
  }
  return pid;
}

void signal_container(const std::string&, pid_t init_pid, int signal) {
  UniqueFd init;
  const auto ns = container_namespace(init_pid, init);
  if (!ns) return;  // gone already
  // The others first: were init to go first, the kernel would SIGKILL them unasked.
  for (const auto& member : members_of(*ns, init_pid)) send_signal(member.get(), signal);
  send_signal(init.get(), signal);
}

void destroy_container(const std::string& id, pid_t init_pid, const RunSpec&) {
  UniqueFd init;
  if (init_pid > 0) {
    if (const auto ns = container_namespace(init_pid, init)) {
      signal_container(id, init_pid, SIGKILL);
      if (!wait_until_empty(*ns, std::chrono::seconds(5)))
        throw Error(ErrorCode::busy, "destroy container " + id + ": its processes did not exit after SIGKILL");
    }
  }
  executor::remove_cgroup_dirs(knast::detail::cgroup_dirs_of(id, executor::read_mountinfo()));
}

}  // namespace knast::platform
