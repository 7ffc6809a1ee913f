// Support for tests that make network interfaces or firewall tables: they run inside a
// network namespace of their own, so nothing touches the machine's interfaces or ruleset.
//
// Why a forked child rather than a ctest entry under `unshare -n`: the tests stay in the one
// integration binary (run, filtered and reported like the others), each gets a fresh,
// empty namespace that the kernel removes with every interface and nft table in it when
// the child exits — even after a failed assertion or a crash, so no test sees another's
// leftovers — and the rest of the binary keeps the host's network.
#pragma once

#include "image_store_test_support.hpp"

#include <gtest/gtest.h>

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>

namespace netns_test {

/// Why this process cannot make network namespaces, or "" when it can (a chroot or a
/// container without CAP_SYS_ADMIN refuses unshare(CLONE_NEWNET)).
inline std::string namespaces_unavailable() {
  if (::geteuid() != 0) return "network namespaces and interfaces need root";
  const pid_t child = store_test::fork_child([] { return ::unshare(CLONE_NEWNET) == 0 ? 0 : 1; });
  if (store_test::wait_child(child) != 0)
    return "unshare(CLONE_NEWNET) is refused here (a chroot or container without privileges): "
           "these tests need a network namespace of their own";
  return {};
}

/// Runs @p body in a forked child that has just made a network namespace of its own, and
/// fails the current test if the body fails there. GoogleTest's assertions work in the
/// child (they print there as usual); the child's exit status carries whether any failed.
inline void in_fresh_network_namespace(const std::function<void()>& body) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = ::fork();
  if (child == 0) {
    if (::unshare(CLONE_NEWNET) != 0) ::_exit(3);
    try {
      body();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the test body threw: " << e.what();
    }
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(::testing::Test::HasFailure() ? 1 : 0);
  }
  ASSERT_GT(child, 0) << "fork failed";
  const int status = store_test::wait_child(child);
  EXPECT_EQ(status, 0) << (status == 3 ? "unshare(CLONE_NEWNET) failed in the child"
                                       : "the test failed inside its network namespace (see above)");
}

/// A process paused in a network namespace of its own: a stand-in for a container's
/// first process. Killed and reaped when the object goes.
class NamespaceHolder {
 public:
  NamespaceHolder() {
    int ready[2];
    if (::pipe(ready) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(ready[0]);
      if (::unshare(CLONE_NEWNET) != 0) ::_exit(1);
      ::close(ready[1]);  // end of file: the namespace exists
      for (;;) ::pause();
    }
    ::close(ready[1]);
    char byte;
    (void)::read(ready[0], &byte, 1);
    ::close(ready[0]);
  }
  ~NamespaceHolder() { stop(); }
  NamespaceHolder(const NamespaceHolder&) = delete;
  NamespaceHolder& operator=(const NamespaceHolder&) = delete;

  /// Its pid: /proc/PID/ns/net is its namespace.
  pid_t pid() const noexcept { return pid_; }
  /// Kills and reaps it (its namespace goes with it); idempotent.
  void stop() noexcept {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    (void)store_test::wait_child(pid_);
    pid_ = -1;
  }
  /// @p command (a shell command line) run inside its namespace by nsenter(1): exit
  /// status, with stdout and stderr in @p output.
  int run(const std::string& command, std::string* output = nullptr) const {
    return store_test::run("nsenter -t " + std::to_string(pid_) + " -n " + command, output);
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace netns_test
