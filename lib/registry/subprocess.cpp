#include "registry/subprocess.hpp"

#include "core/unique_fd.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <optional>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace knast {
inline namespace v0 {
namespace registry_detail {
namespace {

using detail::UniqueFd;
using Clock = std::chrono::steady_clock;

constexpr std::size_t max_stdout = 1u << 20;
constexpr std::size_t max_stderr = 64u << 10;
/// The shell's "command not found" status, for a libc that reports a failed exec that way.
constexpr int exit_not_found = 127;

/// A started child; killed and reaped on destruction unless wait() reaped it.
class Child {
 public:
  explicit Child(pid_t pid) noexcept : pid_(pid) {}
  ~Child() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    reap(0);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// Waits until @p deadline for the exit; the exit code, -1 for a signal, nothing on timeout.
  std::optional<int> wait_until(Clock::time_point deadline) {
    while (true) {
      if (const auto status = reap(WNOHANG)) return status;
      if (Clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

 private:
  std::optional<int> reap(int flags) noexcept {
    int status = 0;
    pid_t r;
    do {
      r = ::waitpid(pid_, &status, flags);
    } while (r < 0 && errno == EINTR);
    if (r == 0) return std::nullopt;
    pid_ = -1;
    return r > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  pid_t pid_;
};

class SpawnActions {
 public:
  SpawnActions() {
    if (const int rc = posix_spawn_file_actions_init(&actions_); rc != 0) throw Error(rc, "posix_spawn_file_actions_init");
  }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&actions_); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  void dup_to(int fd, int target) {
    if (const int rc = posix_spawn_file_actions_adddup2(&actions_, fd, target); rc != 0)
      throw Error(rc, "posix_spawn_file_actions_adddup2");
  }
  const posix_spawn_file_actions_t* get() const noexcept { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

std::pair<UniqueFd, UniqueFd> make_pipe() {
  int fds[2];
  if (::pipe(fds) != 0) throw Error(errno, "pipe");
  std::pair<UniqueFd, UniqueFd> out{UniqueFd(fds[0]), UniqueFd(fds[1])};
  // The parent's ends must not leak into other children; posix_spawn's dup2 clears the
  // flag on the child's copies.
  for (int fd : fds) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return out;
}

/// stdin is a socket so that writing to a helper that already exited gives EPIPE
/// (MSG_NOSIGNAL) instead of a SIGPIPE that would kill the whole process.
std::pair<UniqueFd, UniqueFd> make_socket_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) throw Error(errno, "socketpair");
  std::pair<UniqueFd, UniqueFd> out{UniqueFd(fds[0]), UniqueFd(fds[1])};
  for (int fd : fds) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return out;
}

pid_t spawn(const std::vector<std::string>& argv, const SpawnActions& actions) {
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, argv.at(0).c_str(), actions.get(), nullptr, args.data(), environ);
  if (rc == ENOENT) throw Error(ErrorCode::not_found, fmt::format("{}: program not found", argv[0]));
  if (rc != 0) throw Error(rc, fmt::format("cannot start {}", argv[0]));
  return pid;
}

/// Moves bytes between the parent's ends and the child until both outputs are closed.
class Pump {
 public:
  Pump(UniqueFd stdin_fd, UniqueFd stdout_fd, UniqueFd stderr_fd, std::string_view input)
      : in_(std::move(stdin_fd)), out_(std::move(stdout_fd)), err_(std::move(stderr_fd)), input_(input) {
    if (input_.empty()) in_.reset();
  }

  /// false on timeout.
  bool run(Clock::time_point deadline, const std::string& program) {
    while (out_ || err_) {
      std::array<pollfd, 3> fds{};
      nfds_t n = 0;
      const auto watch = [&](const UniqueFd& fd, short events) {
        if (fd) fds[n++] = pollfd{fd.get(), events, 0};
      };
      watch(in_, POLLOUT);
      watch(out_, POLLIN);
      watch(err_, POLLIN);
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      const int ready = ::poll(fds.data(), n, static_cast<int>(std::min<long long>(left, 60'000)));
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) throw Error(errno, "poll");
      for (nfds_t i = 0; i < n; ++i) handle(fds[i], program);
    }
    return true;
  }

  std::string out;
  std::string err;

 private:
  void handle(const pollfd& p, const std::string& program) {
    if (p.revents == 0) return;
    if (in_ && p.fd == in_.get()) return send_input();
    UniqueFd& fd = p.fd == out_.get() ? out_ : err_;
    std::string& sink = p.fd == out_.get() ? out : err;
    const std::size_t limit = p.fd == out_.get() ? max_stdout : max_stderr;
    char buffer[4096];
    const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) return;
    if (got <= 0) return fd.reset();
    sink.append(buffer, static_cast<std::size_t>(got));
    if (sink.size() > limit)
      throw Error(ErrorCode::limit_exceeded, fmt::format("{} wrote more than {} bytes", program, limit));
  }
  void send_input() {
    const ssize_t sent = ::send(in_.get(), input_.data(), input_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (sent < 0) return in_.reset();  // the child stopped reading; its output says why
    input_.remove_prefix(static_cast<std::size_t>(sent));
    if (input_.empty()) in_.reset();  // EOF for the child
  }

  UniqueFd in_, out_, err_;
  std::string_view input_;
};

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, std::string_view input,
                          std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  auto [in_parent, in_child] = make_socket_pair();
  auto [out_read, out_write] = make_pipe();
  auto [err_read, err_write] = make_pipe();
  SpawnActions actions;
  actions.dup_to(in_child.get(), 0);
  actions.dup_to(out_write.get(), 1);
  actions.dup_to(err_write.get(), 2);
  Child child(spawn(argv, actions));
  in_child.reset();
  out_write.reset();
  err_write.reset();

  Pump pump(std::move(in_parent), std::move(out_read), std::move(err_read), input);
  const bool finished = pump.run(deadline, argv[0]);
  const auto exit_code = finished ? child.wait_until(deadline) : std::nullopt;
  if (!exit_code)
    throw Error(ErrorCode::io, fmt::format("{} did not finish within {} ms and was killed", argv[0], timeout.count()));
  if (*exit_code == exit_not_found && pump.out.empty())
    throw Error(ErrorCode::not_found, fmt::format("{}: program not found", argv[0]));
  return ProcessResult{*exit_code, std::move(pump.out), std::move(pump.err)};
}

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
