#include "jail/supervisor.hpp"

#include "core/text.hpp"
#include "image_store/posix_io.hpp"
#include "jail/container_dir.hpp"
#include "jail/stdio_relay.hpp"
#include "jail/supervisor_protocol.hpp"
#include "network/network_state.hpp"
#include "platform/container.hpp"

#include <knast/error.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

namespace fs = std::filesystem;

struct Arguments {
  std::string command;  // "create" or "exec"
  fs::path root;
  std::string id;
  bool log = false;     // stdio into container.log (a detached container)
  bool remove = false;  // delete the container when its first process exits
};

Arguments parse_arguments(int argc, char** argv) {
  Arguments args;
  if (argc < 2) throw Error(ErrorCode::invalid_argument, "knast-shim: usage: knast-shim create|exec --root DIR --id ID [--log] [--rm]");
  args.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--log") args.log = true;
    else if (arg == "--rm") args.remove = true;
    else if (arg == "--root" && i + 1 < argc) args.root = argv[++i];
    else if (arg == "--id" && i + 1 < argc) args.id = argv[++i];
    else throw Error(ErrorCode::invalid_argument, "knast-shim: unknown argument " + quote_untrusted(arg));
  }
  if ((args.command != "create" && args.command != "exec") || args.root.empty() || args.id.empty())
    throw Error(ErrorCode::invalid_argument, "knast-shim: usage: knast-shim create|exec --root DIR --id ID [--log] [--rm]");
  check_container_id(args.id);
  return args;
}

// ---- Signals: handlers only set flags; the loop acts on them with ppoll(). ----

volatile std::sig_atomic_t child_exited = 0;
volatile std::sig_atomic_t window_changed = 0;
volatile std::sig_atomic_t pending[4] = {0, 0, 0, 0};
constexpr std::array<int, 4> forwarded = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

void on_signal(int signal) {
  if (signal == SIGCHLD) child_exited = 1;
  if (signal == SIGWINCH) window_changed = 1;
  for (std::size_t i = 0; i < forwarded.size(); ++i)
    if (forwarded[i] == signal) pending[i] = 1;
}

// Every signal back to its default and unblocked: the caller (Python, a daemon) may have
// ignored or blocked some, and the container inherits what the supervisor has.
void reset_signals() {
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal)
    if (signal != SIGKILL && signal != SIGSTOP) ::sigaction(signal, &action, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// Installs the flag handlers and blocks those signals outside ppoll(), so none is lost
// between a check and the wait.
void catch_signals() {
  sigset_t blocked;
  sigemptyset(&blocked);
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGCHLD, SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
    ::sigaction(signal, &action, nullptr);
    sigaddset(&blocked, signal);
  }
  ::signal(SIGPIPE, SIG_IGN);
  ::sigprocmask(SIG_BLOCK, &blocked, nullptr);
}

// The caller may have gone away; the supervisor carries on either way.
void answer(const std::string& line) {
  write_or_drop(supervisor_status_fd, line.data(), line.size());
  ::close(supervisor_status_fd);
}

// ---- The wait loop shared by create and exec ----

// Waits for process @p pid while relaying stdio and forwarding signals; when @p start_fd
// is open, a start byte read from it calls @p on_start once. Returns the wait status.
template <typename OnStart>
int supervise(pid_t pid, StdioRelay& relay, int start_fd, OnStart&& on_start) {
  bool started = start_fd < 0;
  bool first = true;
  for (;;) {
    if (child_exited || first) {
      child_exited = 0;
      first = false;
      int status = 0;
      for (pid_t reaped; (reaped = ::waitpid(-1, &status, WNOHANG)) > 0;)
        if (reaped == pid) return status;
    }
    for (std::size_t i = 0; i < forwarded.size(); ++i)
      if (pending[i]) {
        pending[i] = 0;
        ::kill(pid, forwarded[i]);
      }
    if (window_changed) {
      window_changed = 0;
      relay.resize();
    }
    std::vector<pollfd> fds;
    if (!started) fds.push_back(pollfd{start_fd, POLLIN, 0});
    relay.add_to(fds);
    sigset_t none;
    sigemptyset(&none);
    if (::ppoll(fds.data(), fds.size(), nullptr, &none) <= 0) continue;  // a signal: loop to act on it
    if (!started && (fds[0].revents & POLLIN) != 0) {
      char request = 0;
      if (::read(start_fd, &request, 1) == 1 && request == start_request) {
        started = true;
        on_start();
      }
    }
    relay.pump(fds);
  }
}

// ---- create ----

class ContainerSupervisor {
 public:
  explicit ContainerSupervisor(const Arguments& args) : args_(args), dir_(args.root, args.id) {}

  // Makes the container; throws what the caller should see.
  void create() {
    lock_ = open_file(dir_.supervisor_lock(), O_RDWR | O_CREAT, 0600);
    if (!try_lock(lock_, LockKind::exclusive, dir_.supervisor_lock()))
      throw Error(ErrorCode::busy, "container " + args_.id + ": another supervisor holds it");
    spec_ = dir_.read_spec();
    state_ = dir_.read_state();
    if (args_.log) log_ = open_file(dir_.log(), O_WRONLY | O_CREAT | O_APPEND, 0640);
    relay_.emplace(log_ ? log_.get() : -1, spec_.process.terminal);
    if (::mkfifo(dir_.start_fifo().c_str(), 0600) != 0 && errno != EEXIST)
      throw Error(errno, "container " + args_.id + ": make the start fifo");
    // Read-write, so the fifo never reports end-of-file while no `start` has it open.
    start_ = open_file(dir_.start_fifo(), O_RDWR | O_NONBLOCK);
    platform::ContainerLaunch launch;
    launch.id = args_.id;
    launch.spec = spec_;
    launch.state_dir = dir_.path();
    const auto stdio = relay_->container_stdio();
    std::copy(stdio.begin(), stdio.end(), launch.stdio);
    container_ = platform::create_container(launch);
    // Its stack exists now (and nothing runs in it yet): wire it to its network, if any.
    connect_container(args_.root, args_.id, container_->pid());
    relay_->close_container_side();
    state_.status = ContainerStatus::created;
    state_.pid = container_->pid();
    state_.supervisor_pid = ::getpid();
    state_.created_at = now_rfc3339();
    dir_.write_state(state_);
  }

  // Supervises the created container to its end; returns the exit code.
  int run() {
    relay_->attach_terminal();
    int status = 0;
    try {
      status = supervise(container_->pid(), *relay_, start_.get(), [this] { start(); });
    } catch (const std::exception& e) {
      // Whatever went wrong, the container must not outlive its record: end it, say why.
      state_.error = std::string("supervisor: ") + e.what();
      ::kill(container_->pid(), SIGKILL);
      while (::waitpid(container_->pid(), &status, 0) < 0 && errno == EINTR) {
      }
    }
    relay_->drain();
    finish(status);
    return *state_.exit_code;
  }

 private:
  void start() {
    try {
      container_->start();
      state_.status = ContainerStatus::running;
      state_.started_at = now_rfc3339();
    } catch (const std::exception& e) {
      state_.error = e.what();
      ::kill(container_->pid(), SIGKILL);
    }
    save_state();
  }

  void finish(int status) {
    try {
      container_->teardown();
    } catch (const std::exception& e) {
      add_error(std::string("teardown: ") + e.what());
    }
    // Its address and published ports go back to the network as soon as it has stopped.
    if (const std::string trouble = leave_network(args_.root, args_.id, /*stack_gone=*/true); !trouble.empty())
      add_error("network: " + trouble);
    state_.status = ContainerStatus::stopped;
    state_.exit_code = exit_code_of(status);
    if (WIFSIGNALED(status)) state_.signal = WTERMSIG(status);
    state_.finished_at = now_rfc3339();
    save_state();
    record_final_state();
    if (args_.remove) {
      try {
        remove_container(args_.root, dir_);
      } catch (const Error& e) {
        std::fprintf(stderr, "knast-shim: remove container %s: %s\n", args_.id.c_str(), e.what());
      }
    }
  }

  void add_error(const std::string& text) { state_.error += (state_.error.empty() ? "" : "; ") + text; }

  // A supervisor must get to its end whatever the disk does: a state it cannot write is
  // said on stderr, and the lock file still carries the exit status to waiters.
  void save_state() noexcept {
    try {
      dir_.write_state(state_);
    } catch (const Error& e) {
      std::fprintf(stderr, "knast-shim: container %s: %s\n", args_.id.c_str(), e.what());
    }
  }

  void record_final_state() noexcept {
    const std::string record = state_to_json(state_);
    if (::ftruncate(lock_.get(), 0) == 0 &&
        ::pwrite(lock_.get(), record.data(), record.size(), 0) != static_cast<ssize_t>(record.size()))
      std::fprintf(stderr, "knast-shim: container %s: could not record the exit status\n", args_.id.c_str());
  }

  const Arguments& args_;
  ContainerDir dir_;
  UniqueFd lock_;
  UniqueFd log_;
  UniqueFd start_;
  RunSpec spec_;
  ContainerState state_;
  std::optional<StdioRelay> relay_;
  std::unique_ptr<platform::Container> container_;
};

int run_create(const Arguments& args) {
  // Nobody's child: the caller reaps this intermediate at once; the supervisor carries on.
  const pid_t child = ::fork();
  if (child < 0) {
    answer(status_error(Error(errno, "container " + args.id + ": fork the supervisor")));
    return 1;
  }
  if (child > 0) ::_exit(0);
  if (args.log) ::setsid();  // detached: no terminal signals from the caller's session
  ContainerSupervisor supervisor(args);
  try {
    supervisor.create();
  } catch (const Error& e) {
    answer(status_error(e));
    return 1;
  }
  catch_signals();
  answer(status_ok(::getpid()));
  return supervisor.run();
}

// ---- exec ----

constexpr std::size_t max_exec_request_bytes = max_run_spec_bytes;

std::string read_request() {
  std::string text;
  char buffer[16 * 1024];
  for (;;) {
    const ssize_t got = ::read(supervisor_status_fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw Error(errno, "knast-shim exec: read the request");
    if (got == 0) return text;
    text.append(buffer, static_cast<std::size_t>(got));
    if (text.size() > max_exec_request_bytes) throw Error(ErrorCode::limit_exceeded, "knast-shim exec: request too large");
  }
}

int run_exec(const Arguments& args) {
  std::optional<StdioRelay> relay;
  pid_t pid = 0;
  try {
    const ContainerDir dir(args.root, args.id);
    const RunSpec request = RunSpec::parse(read_request());
    const ContainerState state = dir.read_state();
    if (state.status != ContainerStatus::running || !dir.supervisor_alive())
      throw Error(ErrorCode::invalid_argument, "container " + args.id + " is " +
                                                   std::string(to_string(state.status)) + ", not running: cannot exec in it");
    relay.emplace(-1, request.process.terminal);
    platform::ExecLaunch launch;
    launch.id = args.id;
    launch.init_pid = static_cast<pid_t>(state.pid);
    launch.spec = dir.read_spec();
    launch.process = request.process;
    const auto stdio = relay->container_stdio();
    std::copy(stdio.begin(), stdio.end(), launch.stdio);
    pid = platform::exec_in_container(launch);
    relay->close_container_side();
  } catch (const Error& e) {
    answer(status_error(e));
    return 1;
  }
  catch_signals();
  answer(status_ok(pid));
  relay->attach_terminal();
  const int status = supervise(pid, *relay, -1, [] {});
  relay->drain();
  return exit_code_of(status);
}

}  // namespace

int supervisor_main(int argc, char** argv) noexcept {
  reset_signals();
  // The answer channel must not leak into the container's processes.
  ::fcntl(supervisor_status_fd, F_SETFD, FD_CLOEXEC);
  try {
    const Arguments args = parse_arguments(argc, argv);
    return args.command == "create" ? run_create(args) : run_exec(args);
  } catch (const Error& e) {
    answer(status_error(e));
    return 2;
  } catch (const std::exception& e) {
    answer(status_error(Error(ErrorCode::internal, std::string("knast-shim: ") + e.what())));
    return 2;
  }
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
