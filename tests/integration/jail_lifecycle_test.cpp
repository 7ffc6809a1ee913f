// The container lifecycle for real (class Jail + the knast-shim supervisor + the Linux
// executor): create/start/wait/kill/stop/exec/remove, logs of detached containers, a
// container outliving the process that made it, failures that leave nothing behind, and
// many cycles (sequential and concurrent) leaving no mount, process, descriptor or
// directory. Busybox bundles are made with make_run_spec() from a busybox root.
#include "busybox_root.hpp"
#include "core/unique_fd.hpp"
#include "image_store_test_support.hpp"

#include <knast/error.hpp>
#include <knast/jail.hpp>
#include <knast/run_spec.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

// GCC 12 at -O2 reports assignments to RunOverrides' std::optional members as "maybe
// uninitialized" (a known false positive of its std::optional inlining).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using knast::ContainerStatus;
using knast::ErrorCode;
using knast::Jail;
using knast::JailOptions;
using knast::StdioMode;
using knast::detail::UniqueFd;
using store_test::slurp;
using store_test::TempDir;
using Strings = std::vector<std::string>;

using busybox_test::Pipe;

std::string read_to_end(int fd) {
  std::string out;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) out.append(buffer, static_cast<std::size_t>(n));
  return out;
}

std::size_t open_descriptors() {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator{}));
}

std::size_t entries(const fs::path& dir) {
  std::error_code ec;
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir, ec), fs::directory_iterator{}));
}

class JailLifecycle : public testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "containers need root";
    if (const auto why = busybox_test::containers_unavailable(); !why.empty()) GTEST_SKIP() << why;
    // The supervisor next to the tests' library (a static one: dladdr finds the test binary).
    if (std::getenv("KNAST_SHIM") == nullptr) ::setenv("KNAST_SHIM", KNAST_SHIM_PATH, 1);
    busybox_test::make_busybox_root(dir_.path() / "rootfs");
    mounts_before_ = slurp("/proc/self/mountinfo");
  }

  void TearDown() override {
    if (mounts_before_.empty()) return;  // skipped
    for (const auto& state : Jail::list(state_root())) Jail::open(state_root(), state.id).remove(true);
    EXPECT_EQ(slurp("/proc/self/mountinfo"), mounts_before_) << "a mount was left behind";
  }

  fs::path state_root() const { return dir_.path() / "state"; }

  // A bundle running @p args (with @p edit applied to the overrides first).
  fs::path bundle(const std::string& name, const Strings& args,
                  const std::function<void(knast::RunOverrides&)>& edit = {}) {
    knast::RunOverrides o;
    o.args = args;
    if (edit) edit(o);
    return busybox_test::write_bundle(dir_.path() / "bundles" / name, dir_.path() / "rootfs", o);
  }

  JailOptions options(const fs::path& bundle_dir, StdioMode mode = StdioMode::null) {
    JailOptions o;
    o.state_root = state_root();
    o.bundle = bundle_dir;
    o.io.mode = mode;
    return o;
  }

  struct Outcome {
    int code = -1;
    std::string out;
    std::string err;
  };

  // create + start + wait + remove, output through pipes.
  Outcome run(const fs::path& bundle_dir) {
    Pipe out, err;
    auto o = options(bundle_dir, StdioMode::fds);
    o.io.fds[1] = out.write.get();
    o.io.fds[2] = err.write.get();
    Jail jail = Jail::create(o);
    out.write.reset();
    err.write.reset();
    jail.start();
    Outcome result;
    result.code = *jail.wait();
    result.out = read_to_end(out.read.get());
    result.err = read_to_end(err.read.get());
    jail.remove();
    return result;
  }

  // Waits until the container's output log holds @p text.
  static std::string logs_until(const Jail& jail, const std::string& text) {
    std::string all;
    for (int i = 0; i < 500 && all.find(text) == std::string::npos; ++i) {
      all.clear();
      jail.read_logs([&](int stream, std::string_view bytes) { all += (stream == 2 ? "2:" : "1:") + std::string(bytes); });
      std::this_thread::sleep_for(10ms);
    }
    return all;
  }

  TempDir dir_;
  std::string mounts_before_;
};

TEST_F(JailLifecycle, OutputExitCodesAndStates) {
  const auto ok = run(bundle("ok", {"sh", "-c", "echo out; echo err >&2"}));
  EXPECT_EQ(ok.code, 0);
  EXPECT_EQ(ok.out, "out\n");
  EXPECT_EQ(ok.err, "err\n");
  EXPECT_EQ(run(bundle("three", {"sh", "-c", "exit 3"})).code, 3);

  Jail jail = Jail::create(options(bundle("states", {"sleep", "100"})));
  EXPECT_EQ(jail.state().status, ContainerStatus::created);
  EXPECT_GT(jail.state().pid, 0);
  jail.start();
  EXPECT_EQ(jail.state().status, ContainerStatus::running);
  EXPECT_FALSE(jail.wait(50ms)) << "a sleeping container has no exit code yet";
  jail.kill(SIGKILL);
  EXPECT_EQ(*jail.wait(), 137) << "killed by signal 9: 128 + 9";
  const auto state = jail.state();
  EXPECT_EQ(state.status, ContainerStatus::stopped);
  EXPECT_EQ(state.signal, SIGKILL);
  EXPECT_FALSE(state.finished_at.empty());
  jail.remove();
  EXPECT_THROW(Jail::open(state_root(), jail.id()), knast::Error);
}

TEST_F(JailLifecycle, IsolationPidOneHostnameEnvCwdUser) {
  const auto r = run(bundle("iso", {"sh", "-c", "echo pid=$$; hostname; id -u; pwd; echo $GREETING; ls /home"},
                            [](knast::RunOverrides& o) {
                              o.hostname = "isolated";
                              o.user = "app";
                              o.workdir = "/tmp";
                              o.env = {"GREETING=hi"};
                            }));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "pid=1\nisolated\n1000\n/tmp\nhi\napp\n");
}

TEST_F(JailLifecycle, DetachedLogsKeepEachStreamInOrder) {
  // Two pipes: the order between the streams is whatever the supervisor read first, as in
  // docker; within each stream it is exact.
  auto o = options(bundle("logs", {"sh", "-c", "echo one; echo two >&2; echo three; printf 'x\\0y' >&2"}), StdioMode::log);
  Jail jail = Jail::create(o);
  jail.start();
  EXPECT_EQ(*jail.wait(), 0);
  std::string streams[3];
  jail.read_logs([&](int stream, std::string_view bytes) { streams[stream].append(bytes); });
  EXPECT_EQ(streams[1], "one\nthree\n");
  EXPECT_EQ(streams[2], std::string("two\nx\0y", 7));
}

TEST_F(JailLifecycle, TerminalIsTheControllingTerminal) {
  // -t: the container's stdio is a new pseudo-terminal (its controlling terminal); the
  // supervisor copies its output to the stdout given (a pipe here), CR LF as a terminal does.
  const auto r = run(bundle("tty", {"sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo tty; echo $TERM"},
                            [](knast::RunOverrides& o) { o.terminal = true; }));
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "tty\r\nxterm\r\n");
}

TEST_F(JailLifecycle, StopKillsWhatIgnoresTermAfterTheGraceTime) {
  Jail jail = Jail::create(options(bundle("stop", {"sh", "-c", "trap '' TERM; while true; do sleep 1; done"})));
  jail.start();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(jail.stop(300ms), 137);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 300ms);
}

TEST_F(JailLifecycle, KillAllReachesEveryProcess) {
  // PID 1 ignores TERM (it has no handler); its two children do not: each `wait` says 143.
  Jail jail = Jail::create(options(
      bundle("all", {"sh", "-c", "sleep 100 & a=$!; sleep 100 & b=$!; echo ready; wait $a; x=$?; wait $b; echo $x $?"}),
      StdioMode::log));
  jail.start();
  ASSERT_NE(logs_until(jail, "ready").find("ready"), std::string::npos);
  jail.kill(SIGTERM, true);
  EXPECT_EQ(*jail.wait(), 0);
  EXPECT_NE(logs_until(jail, "143 143").find("1:143 143\n"), std::string::npos);
}

TEST_F(JailLifecycle, ExecRunsInTheRunningContainer) {
  Jail jail = Jail::create(options(bundle("exec", {"sh", "-c", "echo marker > /tmp/m; sleep 100"})));
  jail.start();
  knast::RunProcess process = jail.spec().process;
  process.args = {"sh", "-c", "cat /tmp/m; echo $$; exit 4"};
  Pipe out;
  knast::ExecOptions exec;
  exec.io.mode = StdioMode::fds;
  exec.io.fds[1] = out.write.get();
  int code = -1;
  for (int i = 0; i < 100; ++i) {  // until the first process has written the marker
    code = jail.exec(process, exec);
    if (code == 4) break;
    std::this_thread::sleep_for(10ms);
  }
  out.write.reset();
  EXPECT_EQ(code, 4);
  const auto text = read_to_end(out.read.get());
  EXPECT_NE(text.find("marker\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("\n1\n"), std::string::npos) << "an exec'd process is not PID 1: " << text;
  process.args = {"no-such-command"};
  try {
    jail.exec(process, exec);
    ADD_FAILURE() << "a missing command must fail";
  } catch (const knast::Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::not_found) << e.what();
  }
  jail.remove(true);
}

TEST_F(JailLifecycle, SurvivesItsMakerAndIsReadLater) {
  const auto dir = bundle("survive", {"sh", "-c", "sleep 0.3; exit 7"});
  const pid_t maker = ::fork();
  if (maker == 0) {  // another "CLI invocation": create, start, and go away
    try {
      auto o = options(dir, StdioMode::log);
      o.id = "survivor";
      Jail::create(o).start();
      ::_exit(0);
    } catch (...) {
      ::_exit(1);
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(maker, &status, 0), maker);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  Jail jail = Jail::open(state_root(), "survivor");
  EXPECT_EQ(*jail.wait(), 7);
  EXPECT_EQ(jail.state().exit_code, 7);
}

TEST_F(JailLifecycle, RemoveOnExitStillReportsTheExitCode) {
  auto o = options(bundle("rm", {"sh", "-c", "exit 5"}));
  o.remove_on_exit = true;
  Jail jail = Jail::create(o);
  jail.start();
  EXPECT_EQ(*jail.wait(), 5);
  for (int i = 0; i < 500 && fs::exists(jail.directory()); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(fs::exists(jail.directory()));
}

// A busy machine can let a short remove-on-exit container run, end and be removed before
// its maker asks for the exit code (the Python suite once caught start() itself late):
// the code is still there, and start() does not call the vanished container an error.
TEST_F(JailLifecycle, RemoveOnExitReportsTheCodeAfterTheDirectoryWent) {
  auto o = options(bundle("rm-late", {"sh", "-c", "exit 6"}));
  o.remove_on_exit = true;
  Jail jail = Jail::create(o);
  jail.start();
  for (int i = 0; i < 500 && fs::exists(jail.directory()); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_FALSE(fs::exists(jail.directory()));
  EXPECT_EQ(jail.wait(), std::optional<int>(6));
  EXPECT_EQ(jail.wait(std::chrono::milliseconds(10)), std::optional<int>(6));
}

TEST_F(JailLifecycle, FailuresLeaveNothingBehind) {
  const auto fds = open_descriptors();
  try {
    Jail::create(options(bundle("missing", {"no-such-command"})));
    ADD_FAILURE() << "a missing command must fail at create";
  } catch (const knast::Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::not_found) << e.what();
    EXPECT_NE(std::string(e.what()).find("no-such-command"), std::string::npos) << e.what();
  }
  try {
    Jail::create(options(bundle("badmount", {"true"}, [](knast::RunOverrides& o) {
      o.volumes = {"/nonexistent-knast-source:/data"};
    })));
    ADD_FAILURE() << "a bad mount source must fail at create";
  } catch (const knast::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-knast-source"), std::string::npos) << e.what();
  }
  EXPECT_EQ(entries(state_root() / "containers"), 0u) << "no container directory is left";
  EXPECT_EQ(open_descriptors(), fds);
}

TEST_F(JailLifecycle, NameIsUniqueAndOpensTheContainer) {
  auto o = options(bundle("named", {"true"}));
  o.name = "web";
  Jail jail = Jail::create(o);
  EXPECT_EQ(Jail::open(state_root(), "web").id(), jail.id());
  EXPECT_EQ(Jail::open(state_root(), jail.id().substr(0, 12)).id(), jail.id());
  try {
    Jail::create(o);
    ADD_FAILURE() << "a second container named web";
  } catch (const knast::Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::already_exists);
  }
  jail.remove();
}

TEST_F(JailLifecycle, ManyCyclesLeaveNothingBehind) {
  const auto dir = bundle("cycle", {"true"});
  const auto fds = open_descriptors();
  for (int i = 0; i < 100; ++i) {
    Jail jail = Jail::create(options(dir));
    jail.start();
    ASSERT_EQ(*jail.wait(), 0);
    jail.remove();
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 10; ++t)
    threads.emplace_back([&] {
      try {
        Jail jail = Jail::create(options(dir));
        jail.start();
        if (*jail.wait() != 0) ++failures;
        jail.remove();
      } catch (const std::exception&) {
        ++failures;
      }
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(entries(state_root() / "containers"), 0u);
  EXPECT_EQ(open_descriptors(), fds);
  EXPECT_LT(::waitpid(-1, nullptr, WNOHANG), 0) << "a child process was left";
}

TEST_F(JailLifecycle, LostSupervisorIsReportedAndCleanedUp) {
  Jail jail = Jail::create(options(bundle("lost", {"sleep", "100"})));
  jail.start();
  const auto state = jail.state();
  ASSERT_EQ(::kill(static_cast<pid_t>(state.supervisor_pid), SIGKILL), 0);
  for (int i = 0; i < 200 && jail.state().error.empty(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(jail.state().status, ContainerStatus::stopped);
  EXPECT_NE(jail.state().error.find("supervisor"), std::string::npos);
  jail.remove(true);
  EXPECT_NE(::kill(static_cast<pid_t>(state.pid), 0), 0) << "the container's process is gone";
}

}  // namespace
