// The Linux container executor (lib/platform/container.hpp) for real: containers made
// with make_run_spec() from a busybox root, run by create_container() in this (single-
// threaded) test process acting as the supervisor. Output is captured through pipes;
// what a container leaves behind is checked against /proc/self/mountinfo, the cgroup
// directories and this process's descriptors.
#include "busybox_root.hpp"
#include "core/unique_fd.hpp"
#include "image_store_test_support.hpp"
#include "jail/capability_names.hpp"
#include "platform/container.hpp"

#include <knast/error.hpp>
#include <knast/run_spec.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <set>
#include <fmt/format.h>
#include <string>
#include <thread>
#include <vector>

// GCC 12 at -O2 reports assignments to RunOverrides' std::optional<std::string> members
// as "maybe uninitialized" here (a known false positive of its std::optional inlining).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace {

namespace fs = std::filesystem;
using knast::ErrorCode;
using knast::RunOverrides;
using knast::RunSpec;
using knast::detail::UniqueFd;
using knast::platform::Container;
using knast::platform::ContainerLaunch;
using store_test::slurp;
using store_test::spit;
using store_test::TempDir;
using Strings = std::vector<std::string>;

using busybox_test::Pipe;

// Reads both pipes to their end (poll, so neither can fill up and block the container).
void drain(int out_fd, int err_fd, std::string& out, std::string& err) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&out, &err};
  int open = 2;
  while (open > 0) {
    if (::poll(fds, 2, 20000) <= 0) return;  // a hung container: the test fails on its output
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else {
        fds[i].fd = -1;
        --open;
      }
    }
  }
}

int wait_status(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string mountinfo() { return slurp("/proc/self/mountinfo"); }

// Every knast cgroup directory on the host (knast/<id> of each hierarchy).
std::set<std::string> knast_cgroups() {
  std::set<std::string> dirs;
  std::error_code ec;
  for (const auto& hierarchy : fs::directory_iterator("/sys/fs/cgroup", ec)) {
    std::error_code inner;
    for (const auto& group : fs::directory_iterator(hierarchy.path() / "knast", inner))
      if (group.is_directory()) dirs.insert(group.path().string());
  }
  return dirs;
}

std::size_t open_descriptors() {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator{}));
}

// Whether any process that is not a child of ours is left: this test's children are reaped.
bool have_unreaped_children() {
  return ::waitpid(-1, nullptr, WNOHANG) >= 0;  // ECHILD: none
}

struct Result {
  int status = -1;
  std::string out;
  std::string err;
};

class ContainerLinux : public testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "containers need root";
    if (const auto why = busybox_test::containers_unavailable(); !why.empty()) GTEST_SKIP() << why;
    busybox_test::make_busybox_root(rootfs());
  }

  fs::path rootfs() const { return dir_.path() / "rootfs"; }

  std::string id(const std::string& what) const { return fmt::format("knast-ctest-{}-{}", ::getpid(), what); }

  // Fills in @p o (taken by reference: GCC 12 warns falsely on copies of its optionals).
  RunSpec spec(RunOverrides& o, const Strings& args) const {
    o.host_os = "linux";
    o.image_ref = "busybox (test)";
    if (o.container_id.empty()) o.container_id = "0123456789abcdef";
    o.args = args;
    return knast::make_run_spec(knast::ImageConfig::parse(oci_test::testdata("busybox-config.json")), rootfs(), o);
  }

  ContainerLaunch launch(const std::string& name, RunSpec s, Pipe& out, Pipe& err) {
    ContainerLaunch l;
    l.id = id(name);
    l.spec = std::move(s);
    l.state_dir = dir_.path() / name;
    l.stdio[0] = null_.get();
    l.stdio[1] = out.write.get();
    l.stdio[2] = err.write.get();
    return l;
  }

  // create + start; output read until the end; wait; teardown.
  Result run(const std::string& name, const RunSpec& s) {
    Pipe out, err;
    auto container = knast::platform::create_container(launch(name, s, out, err));
    out.write.reset();
    err.write.reset();
    container->start();
    Result r;
    drain(out.read.get(), err.read.get(), r.out, r.err);
    r.status = wait_status(container->pid());
    container->teardown();
    return r;
  }

  Result run(const std::string& name, RunOverrides& o, const Strings& args) { return run(name, spec(o, args)); }
  RunSpec spec(const Strings& args) const {
    RunOverrides o;
    return spec(o, args);
  }
  Result run_args(const std::string& name, const Strings& args) { return run(name, spec(args)); }

  TempDir dir_;
  UniqueFd null_{::open("/dev/null", O_RDWR | O_CLOEXEC)};
};

TEST_F(ContainerLinux, OutputAndExitCodes) {
  const auto hello = run_args("hello", {"echo", "hello"});
  EXPECT_EQ(hello.status, 0) << hello.err;
  EXPECT_EQ(hello.out, "hello\n");
  const auto three = run_args("three", {"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(three.status, 3);
  EXPECT_EQ(three.out, "out\n");
  EXPECT_EQ(three.err, "err\n");
}

TEST_F(ContainerLinux, SignalDeathIsSeen) {
  Pipe out, err;
  auto c = knast::platform::create_container(launch("killed", spec({"sleep", "100"}), out, err));
  c->start();
  knast::platform::signal_container(id("killed"), c->pid(), SIGKILL);
  EXPECT_EQ(wait_status(c->pid()), 128 + SIGKILL);
  c->teardown();
}

TEST_F(ContainerLinux, NamespacesPidOneHostnameHostFilesInvisible) {
  RunOverrides o;
  o.hostname = "knast-box";
  const auto r = run("ns", o, {"sh", "-c", "echo $$; hostname; ls /; cat /etc/debian_version || echo no-host-file; "
                                   "ls /sys/class/net; cat /sys/class/net/lo/flags"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "1\nknast-box\nbin\ndata\ndev\netc\nhome\nproc\nrun\nsys\ntmp\nno-host-file\nlo\n0x9\n");  // lo is up
  char host_name[256] = {};
  ::gethostname(host_name, sizeof host_name - 1);
  EXPECT_NE(std::string(host_name), "knast-box");
  ASSERT_TRUE(fs::exists("/etc/debian_version"));
}

// Devices, /proc, a read-only /sys, masked paths (docker's: /proc/timer_list is a file,
// /proc/acpi a directory on this kernel) and read-only ones (/proc/sys).
TEST_F(ContainerLinux, StandardDevicesAndMounts) {
  ASSERT_TRUE(fs::exists("/proc/timer_list") && fs::exists("/proc/acpi")) << "this kernel lacks the masked paths tested";
  const auto r = run_args("dev",
                     {"sh", "-c",
                      "echo x > /dev/null && head -c 4 /dev/zero | wc -c && ls /dev && "
                      "grep -c ' /proc proc ' /proc/self/mounts && touch /sys/x 2>/dev/null || echo sys-ro; "
                      "cat /proc/timer_list | wc -c; ls /proc/acpi | wc -l; v=$(cat /proc/sys/kernel/printk_ratelimit); "
                      "echo $v 2>/dev/null > /proc/sys/kernel/printk_ratelimit && echo proc-sys-rw || echo proc-sys-ro"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "4\nfd\nfull\nmqueue\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\nstdout\ntty\nurandom\nzero\n1\nsys-ro\n0\n0\nproc-sys-ro\n") << r.err;
}

// A supervisor that blocks or ignores signals (signalfd, SIGPIPE) passes none of that on.
TEST_F(ContainerLinux, SignalsStartAtTheirDefaults) {
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGCHLD);
  sigaddset(&block, SIGTERM);
  ASSERT_EQ(::sigprocmask(SIG_BLOCK, &block, &old_mask), 0);
  const auto old_pipe = ::signal(SIGPIPE, SIG_IGN);
  const auto r = run_args("signals", {"grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"});
  ::signal(SIGPIPE, old_pipe);
  ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  EXPECT_EQ(r.out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n") << r.err;
}

// With the host's network a fresh sysfs still comes, read-only: never the host's /sys
// with its cgroup submounts.
TEST_F(ContainerLinux, HostNetworkKeepsAFreshReadOnlySysfs) {
  RunOverrides o;
  o.host_network = true;
  const auto r = run("hostnet", o,
                     {"sh", "-c", "ls /sys/fs/cgroup | wc -l; touch /sys/x 2>/dev/null || echo sys-ro; ls /sys/class/net | grep -c ."});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto host_devices = std::distance(fs::directory_iterator("/sys/class/net"), fs::directory_iterator{});
  EXPECT_EQ(r.out, "0\nsys-ro\n" + std::to_string(host_devices) + "\n");
}

TEST_F(ContainerLinux, EnvCwdUserAndGroups) {
  RunOverrides o;
  o.user = "app";
  o.workdir = "/home/app";
  o.env = {"FOO=bar baz"};
  const auto r = run("user", o, {"sh", "-c", "id -u; id -g; id -G; pwd; echo $FOO; echo $HOME"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "1000\n1000\n1000 50\n/home/app\nbar baz\n/home/app\n");
}

TEST_F(ContainerLinux, CapabilitiesReduced) {
  const auto expected = knast::detail::docker_default_capability_masks().bounding;
  const auto r = run_args("caps", {"sh", "-c", "grep -E '^Cap(Eff|Bnd|Prm):' /proc/self/status"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto hex = fmt::format("{:016x}", expected);
  EXPECT_EQ(r.out, "CapPrm:\t" + hex + "\nCapEff:\t" + hex + "\nCapBnd:\t" + hex + "\n");
  RunOverrides o;
  o.user = "app";
  o.no_new_privileges = true;
  const auto user = run("caps-user", o, {"grep", "-E", "^(CapEff|NoNewPrivs):", "/proc/self/status"});
  // A non-root user keeps none, as in docker.
  EXPECT_EQ(user.out, "CapEff:\t0000000000000000\nNoNewPrivs:\t1\n");
  EXPECT_NE(r.out.find("CapEff"), std::string::npos);
}

TEST_F(ContainerLinux, ReadOnlyAndReadWriteVolumes) {
  const auto rw = dir_.path() / "rw";
  const auto ro = dir_.path() / "ro";
  fs::create_directories(rw);
  fs::create_directories(ro);
  spit(ro / "given", "from host\n");
  RunOverrides o;
  o.volumes = {rw.string() + ":/rw", ro.string() + ":/mnt/ro:ro"};
  const auto r = run("volumes", o,
                     {"sh", "-c", "echo written > /rw/made; cat /mnt/ro/given; touch /mnt/ro/no 2>/dev/null || echo ro"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "from host\nro\n");
  EXPECT_EQ(slurp(rw / "made"), "written\n");
  EXPECT_FALSE(fs::exists(ro / "no"));
}

// A hostile image: a link to a host directory on the way to a mount point. The mount
// lands inside the root (the link is resolved as if the root were /), never on the host.
TEST_F(ContainerLinux, MountTargetsStayInsideTheRoot) {
  const auto host_dir = dir_.path() / "host-side";
  fs::create_directories(host_dir);
  fs::create_symlink(host_dir, rootfs() / "escape");
  const auto volume = dir_.path() / "volume";
  fs::create_directories(volume);
  spit(volume / "marker", "in the volume\n");
  RunOverrides o;
  o.volumes = {volume.string() + ":/escape/sub:ro"};
  o.tmpfs = {"/run:size=1m"};
  const auto r = run("escape", o, {"sh", "-c", "cat /escape/sub/marker; grep -c ' /run tmpfs ' /proc/mounts"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "in the volume\n1\n");
  EXPECT_FALSE(fs::exists(host_dir / "sub"));                             // nothing made on the host
  EXPECT_TRUE(fs::is_directory(rootfs() / host_dir.relative_path() / "sub"));  // the mount point, in the root
}

TEST_F(ContainerLinux, ReadOnlyRoot) {
  RunOverrides o;
  o.read_only = true;
  const auto r = run("rofs", o, {"sh", "-c", "touch /x 2>/dev/null || echo root-ro; touch /dev/shm/y && echo shm-rw"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "root-ro\nshm-rw\n");
  EXPECT_FALSE(fs::exists(rootfs() / "x"));
}

// A failed create leaves no mount, cgroup, process or descriptor behind.
void expect_clean_failure(ContainerLinux& self, const std::function<void()>& create, ErrorCode code,
                          const std::string& message_part) {
  const auto mounts = mountinfo();
  const auto cgroups = knast_cgroups();
  const auto fds = open_descriptors();
  try {
    create();
    ADD_FAILURE() << "create_container succeeded";
  } catch (const knast::Error& e) {
    EXPECT_EQ(e.kind(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(message_part), std::string::npos) << e.what();
  }
  EXPECT_EQ(mountinfo(), mounts);
  EXPECT_EQ(knast_cgroups(), cgroups);
  EXPECT_EQ(open_descriptors(), fds);
  EXPECT_FALSE(have_unreaped_children());
  (void)self;
}

TEST_F(ContainerLinux, MissingCommandFailsCleanly) {
  RunOverrides o;
  o.memory = "64m";  // a cgroup is made too, and must go
  expect_clean_failure(
      *this,
      [&] {
        Pipe out, err;
        (void)knast::platform::create_container(launch("missing", spec(o, {"no-such-command"}), out, err));
      },
      ErrorCode::not_found, "\"no-such-command\": executable file not found in $PATH");
}

TEST_F(ContainerLinux, BadMountSourceFailsCleanly) {
  RunOverrides o;
  o.volumes = {(dir_.path() / "no-such-dir").string() + ":/data"};
  expect_clean_failure(
      *this,
      [&] {
        Pipe out, err;
        (void)knast::platform::create_container(launch("badmount", spec(o, {"true"}), out, err));
      },
      ErrorCode::not_found, "no-such-dir");
}

TEST_F(ContainerLinux, StartFailsWhenExecFails) {
  // The binary is found at create time, then made unusable before start.
  Pipe out, err;
  auto c = knast::platform::create_container(launch("execfail", spec({"/bin/busybox", "true"}), out, err));
  spit(rootfs() / "bin/busybox", "not an executable\n");
  try {
    c->start();
    ADD_FAILURE() << "start succeeded";
  } catch (const knast::Error& e) {
    EXPECT_EQ(e.sys_errno(), ENOEXEC) << e.what();
  }
  EXPECT_EQ(wait_status(c->pid()), 127);
  c->teardown();
}

fs::path group_file(const std::string& id, const char* controller, const char* file) {
  for (const auto& base : {fs::path("/sys/fs/cgroup") / controller, fs::path("/sys/fs/cgroup")}) {
    auto path = base / "knast" / id / file;
    if (fs::exists(path)) return path;
  }
  return {};
}

TEST_F(ContainerLinux, MemoryAndPidsLimitsApplied) {
  RunOverrides o;
  o.memory = "64m";
  o.pids_limit = 20;
  Pipe out, err;
  auto c = knast::platform::create_container(launch("limits", spec(o, {"true"}), out, err));
  const auto memory = group_file(id("limits"), "memory", "memory.limit_in_bytes");
  const auto memory_v2 = group_file(id("limits"), "memory", "memory.max");
  const auto pids = group_file(id("limits"), "pids", "pids.max");
  ASSERT_FALSE(pids.empty());
  EXPECT_EQ(slurp(memory.empty() ? memory_v2 : memory), "67108864\n");
  EXPECT_EQ(slurp(pids), "20\n");
  EXPECT_NE(slurp(pids.parent_path() / "cgroup.procs").find(std::to_string(c->pid())), std::string::npos);
  c->start();
  EXPECT_EQ(wait_status(c->pid()), 0);
  c->teardown();
  EXPECT_FALSE(fs::exists(pids.parent_path()));
}

TEST_F(ContainerLinux, CpuLimitsAndRlimits) {
  RunOverrides o;
  o.cpus = "0.5";
  o.cpu_shares = 512;
  o.rlimits = {{"RLIMIT_NOFILE", 200, 100}};
  Pipe out, err;
  auto c = knast::platform::create_container(launch("cpu", spec(o, {"sh", "-c", "ulimit -n; ulimit -Hn"}), out, err));
  out.write.reset();
  err.write.reset();
  const auto quota = group_file(id("cpu"), "cpu", "cpu.cfs_quota_us");
  if (!quota.empty()) {
    EXPECT_EQ(slurp(quota), "50000\n");
    EXPECT_EQ(slurp(quota.parent_path() / "cpu.shares"), "512\n");
  } else {
    const auto max = group_file(id("cpu"), "cpu", "cpu.max");
    ASSERT_FALSE(max.empty());
    EXPECT_EQ(slurp(max), "50000 100000\n");
  }
  c->start();
  std::string text, errors;
  drain(out.read.get(), err.read.get(), text, errors);
  EXPECT_EQ(wait_status(c->pid()), 0) << errors;
  EXPECT_EQ(text, "100\n200\n");
  c->teardown();
}

TEST_F(ContainerLinux, PidsLimitStopsForks) {
  RunOverrides o;
  o.pids_limit = 5;
  const auto r = run("forks", o, {"sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; echo done"});
  EXPECT_NE(r.err.find("fork"), std::string::npos) << r.err;
}

TEST_F(ContainerLinux, ExecIntoRunningContainer) {
  RunOverrides o;
  o.hostname = "exec-box";
  o.memory = "64m";
  Pipe out, err;
  const auto s = spec(o, {"sleep", "100"});
  auto c = knast::platform::create_container(launch("exec", s, out, err));
  c->start();
  Pipe exec_out, exec_err;
  knast::platform::ExecLaunch e;
  e.id = id("exec");
  e.init_pid = c->pid();
  e.spec = s;
  e.process = s.process;
  e.process.args = {"sh", "-c", "echo $$ $PPID; hostname; cat /proc/1/comm; id -u; pwd; grep -c /knast/ /proc/self/cgroup; exit 4"};
  e.process.user.uid = 1000;
  e.process.cwd = "/home/app";
  e.stdio[0] = null_.get();
  e.stdio[1] = exec_out.write.get();
  e.stdio[2] = exec_err.write.get();
  const pid_t pid = knast::platform::exec_in_container(e);
  exec_out.write.reset();
  exec_err.write.reset();
  std::string text, errors;
  drain(exec_out.read.get(), exec_err.read.get(), text, errors);
  EXPECT_EQ(wait_status(pid), 4) << errors;
  // Its pid inside is small and not 1; its parent is outside the namespace (0).
  EXPECT_NE(text.find(" 0\nexec-box\nsleep\n1000\n/home/app\n1\n"), std::string::npos) << text;
  EXPECT_NE(text.rfind("1 ", 0), 0u) << text;
  // A missing command fails at exec_in_container, with nothing left to reap.
  e.process.args = {"no-such-command"};
  EXPECT_THROW(knast::platform::exec_in_container(e), knast::Error);
  knast::platform::signal_container(e.id, c->pid(), SIGKILL);
  EXPECT_EQ(wait_status(c->pid()), 128 + SIGKILL);
  c->teardown();
  EXPECT_FALSE(have_unreaped_children());
}

TEST_F(ContainerLinux, JoinsANetworkNamespaceByPath) {
  // A process holding a fresh network namespace, as the Network component will make one.
  Pipe ready;
  const pid_t holder = ::fork();
  if (holder == 0) {
    if (::unshare(CLONE_NEWNET) != 0) ::_exit(1);
    ready.write.reset();
    ::pause();
    ::_exit(0);
  }
  // Killed and reaped however the test ends: a holder left paused would keep ctest's
  // output pipe open and hang the whole run.
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      ::kill(pid, SIGKILL);
      (void)wait_status(pid);
    }
  } reaper{holder};
  ready.write.reset();
  char byte;
  (void)::read(ready.read.get(), &byte, 1);  // end of file once the namespace exists
  const auto ns_path = "/proc/" + std::to_string(holder) + "/ns/net";
  struct stat want {};
  ASSERT_EQ(::stat(ns_path.c_str(), &want), 0);
  auto s = spec({"stat", "-L", "-c", "%i", "/proc/self/ns/net"});
  for (auto& ns : s.linux_config->namespaces)
    if (ns.type == "network") ns.path = ns_path;
  const auto r = run("netns", s);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, std::to_string(want.st_ino) + "\n");
}

TEST_F(ContainerLinux, TerminalIsTheControllingTty) {
  UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_TRUE(master);
  ASSERT_EQ(::grantpt(master.get()), 0);
  ASSERT_EQ(::unlockpt(master.get()), 0);
  UniqueFd slave(::open(::ptsname(master.get()), O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_TRUE(slave);
  RunOverrides o;
  o.terminal = true;
  ContainerLaunch l;
  l.id = id("tty");
  l.spec = spec(o, {"sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo is-a-tty; echo TERM=$TERM"});
  l.state_dir = dir_.path() / "tty";
  l.stdio[0] = l.stdio[1] = l.stdio[2] = slave.get();
  auto c = knast::platform::create_container(l);
  slave.reset();
  c->start();
  std::string text;
  char buffer[256];
  for (ssize_t n; (n = ::read(master.get(), buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
  EXPECT_EQ(wait_status(c->pid()), 0);
  EXPECT_EQ(text, "is-a-tty\r\nTERM=xterm\r\n");
  c->teardown();
}

// The pids of every process in @p init's PID namespace.
std::size_t processes_in_namespace_of(pid_t init) {
  struct stat want {};
  if (::stat(("/proc/" + std::to_string(init) + "/ns/pid").c_str(), &want) != 0) return 0;
  std::size_t count = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    struct stat st {};
    if (::stat((entry.path() / "ns/pid").c_str(), &st) == 0 && st.st_ino == want.st_ino && st.st_dev == want.st_dev)
      ++count;
  }
  return count;
}

TEST_F(ContainerLinux, SignalReachesEveryProcess) {
  Pipe out, err;
  auto c = knast::platform::create_container(
      launch("signal", spec({"sh", "-c", "sleep 100 & sleep 100 & wait; echo all-gone"}), out, err));
  out.write.reset();
  err.write.reset();
  c->start();
  for (int i = 0; i < 400 && processes_in_namespace_of(c->pid()) < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(processes_in_namespace_of(c->pid()), 3u);
  // sh as PID 1 has no SIGTERM handler, so the kernel spares it; its two children die.
  knast::platform::signal_container(id("signal"), c->pid(), SIGTERM);
  std::string text, errors;
  drain(out.read.get(), err.read.get(), text, errors);
  EXPECT_EQ(wait_status(c->pid()), 0) << errors;
  EXPECT_EQ(text, "all-gone\n");
  c->teardown();
}

TEST_F(ContainerLinux, DestroyKillsEverythingAndRemovesCgroups) {
  RunOverrides o;
  o.pids_limit = 50;
  Pipe out, err;
  const auto s = spec(o, {"sh", "-c", "sleep 100 & sleep 100 & wait"});
  auto c = knast::platform::create_container(launch("destroy", s, out, err));
  c->start();
  for (int i = 0; i < 400 && processes_in_namespace_of(c->pid()) < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::thread reaper([pid = c->pid()] { (void)wait_status(pid); });  // the "supervisor" reaps as it would
  knast::platform::destroy_container(id("destroy"), c->pid(), s);
  reaper.join();
  EXPECT_TRUE(group_file(id("destroy"), "pids", "pids.max").empty());
  knast::platform::destroy_container(id("destroy"), c->pid(), s);  // idempotent
}

TEST_F(ContainerLinux, TwentyCyclesLeaveNothingBehind) {
  RunOverrides o;
  o.memory = "32m";
  o.pids_limit = 10;
  const auto s = spec(o, {"true"});
  const auto mounts = mountinfo();
  const auto cgroups = knast_cgroups();
  const auto fds = open_descriptors();
  for (int i = 0; i < 20; ++i) {
    const auto r = run("cycle", s);
    ASSERT_EQ(r.status, 0) << r.err;
  }
  EXPECT_EQ(mountinfo(), mounts);
  EXPECT_EQ(knast_cgroups(), cgroups);
  EXPECT_EQ(open_descriptors(), fds);
  EXPECT_FALSE(have_unreaped_children());
}

}  // namespace
