// class Jail: the library's handle on a container. Everything that forks or changes
// namespaces happens in the supervisor (knast-shim); this side records, asks and waits.
#include <knast/jail.hpp>

#include "core/text.hpp"
#include "image_store/posix_io.hpp"
#include "jail/container_dir.hpp"
#include "jail/container_log.hpp"
#include "jail/container_network.hpp"
#include "jail/stdio_relay.hpp"
#include "jail/supervisor_client.hpp"
#include "jail/supervisor_protocol.hpp"
#include "network/network_state.hpp"
#include "platform/container.hpp"

#include <knast/error.hpp>

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <thread>

#ifndef KNAST_LIBEXEC_DIR
#define KNAST_LIBEXEC_DIR "/usr/local/libexec/knast"
#endif

namespace knast {
inline namespace v0 {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using detail::ContainerDir;
using detail::UniqueFd;

constexpr auto start_timeout = 30s;

bool executable(const fs::path& path) { return ::access(path.c_str(), X_OK) == 0; }

std::array<int, 3> supervisor_stdio(const ContainerIo& io) {
  switch (io.mode) {
    case StdioMode::inherit: return {0, 1, 2};
    case StdioMode::fds: return {io.fds[0], io.fds[1], io.fds[2]};
    case StdioMode::null:
    case StdioMode::log: return {-1, -1, -1};
  }
  return {-1, -1, -1};
}

// The bundle's spec with its root made absolute and checked.
RunSpec load_bundle(const fs::path& bundle) {
  RunSpec spec = read_bundle(bundle);
  fs::path root = spec.root.path;
  if (root.is_relative()) root = fs::absolute(bundle) / root;
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    throw Error(ErrorCode::not_found, "bundle " + bundle.string() + ": root " + root.string() + " is not a directory");
  spec.root.path = root.lexically_normal().string();
  return spec;
}

// Records a new container under the containers lock: the id and name must be free.
void record_container(const fs::path& state_root, const ContainerDir& dir, const JailOptions& options,
                      const RunSpec& spec) {
  // Beside containers/, not in it: every entry of containers/ is a container to Rootfs.
  const auto lock = detail::lock_file(state_root / "containers.lock", detail::LockKind::exclusive);
  if (dir.exists()) throw Error(ErrorCode::already_exists, "container " + dir.id() + " already exists");
  if (!options.name.empty())
    for (const auto& other : Jail::list(state_root))
      if (other.name == options.name)
        throw Error(ErrorCode::already_exists,
                    "container name \"" + options.name + "\" is in use by container " + other.id.substr(0, 12));
  detail::make_directory(dir.path());  // may exist: Rootfs::create() puts the root there
  dir.write_spec(spec);
  ContainerState state;
  state.id = dir.id();
  state.name = options.name;
  state.image = options.image;
  state.bundle = fs::absolute(options.bundle).lexically_normal().string();
  dir.write_state(state);
}

// Undoes record_container() after a failed create; the root (if any) stays with its maker.
void unrecord_quietly(const fs::path& state_root, const ContainerDir& dir) noexcept {
  // The supervisor undid its own wiring and ended the container (its stack is gone): only
  // the record is left to release, and no interface is deleted by name here.
  (void)detail::leave_network(state_root, dir.id(), /*stack_gone=*/true);
  for (const auto& file : {dir.config(), dir.state_file(), dir.log(), dir.start_fifo(), dir.supervisor_lock(),
                           dir.resolv_conf()}) {
    try {
      detail::remove_file(file);
    } catch (const Error&) {
    }
  }
  ::rmdir(dir.path().c_str());
}

}  // namespace

fs::path find_supervisor() {
  if (const char* env = std::getenv("KNAST_SHIM"); env != nullptr && *env != '\0') return env;
  std::vector<fs::path> tried;
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&find_supervisor), &info) != 0 && info.dli_fname != nullptr) {
    const fs::path library_dir = fs::path(info.dli_fname).parent_path();
    tried.push_back(library_dir / "knast-shim");
    tried.push_back(library_dir.parent_path() / "libexec/knast/knast-shim");
  }
  tried.push_back(fs::path(KNAST_LIBEXEC_DIR) / "knast-shim");
  for (const auto& path : tried)
    if (executable(path)) return path;
  std::string places;
  for (const auto& path : tried) places += " " + path.string();
  throw Error(ErrorCode::not_found,
              "the container supervisor knast-shim was not found (looked at" + places + "): set KNAST_SHIM to its path");
}

namespace {

// The supervisor's lock file, open for reading, closed with its last holder.
std::shared_ptr<const int> open_exit_record(const ContainerDir& dir) {
  const int fd = ::open(dir.supervisor_lock().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  return {new int(fd), [](const int* held) {
            ::close(*held);
            delete held;
          }};
}

// The exit code the supervisor recorded in its lock file @p fd, if it has.
std::optional<int> recorded_exit_code(int fd, const fs::path& path) {
  char buffer[64 * 1024];
  const ssize_t got = ::pread(fd, buffer, sizeof buffer, 0);
  if (got <= 0) return std::nullopt;
  return detail::state_from_json(std::string_view(buffer, static_cast<std::size_t>(got)), path.string()).exit_code;
}

}  // namespace

Jail::Jail(fs::path state_root, std::string id)
    : state_root_(std::move(state_root)),
      id_(std::move(id)),
      exit_record_(open_exit_record(ContainerDir(state_root_, id_))) {}

fs::path Jail::directory() const { return ContainerDir(state_root_, id_).path(); }

Jail Jail::create(const JailOptions& options) {
  const std::string id = options.id.empty() ? detail::new_container_id() : options.id;
  detail::check_container_id(id);
  if (!options.name.empty()) detail::check_container_name(options.name);
  const RunSpec spec = load_bundle(options.bundle);
  fs::create_directories(detail::containers_dir(options.state_root));
  const fs::path supervisor = options.supervisor.empty() ? find_supervisor() : options.supervisor;
  const ContainerDir dir(options.state_root, id);
  record_container(options.state_root, dir, options, spec);
  try {
    if (!options.network.network.empty() || !options.network.ports.empty())
      dir.write_spec(detail::join_container_network(options, dir, spec));
    auto [answer_read, answer_write] = detail::cloexec_pipe();
    std::vector<std::string> args{"create", "--root", options.state_root.string(), "--id", id};
    if (options.io.mode == StdioMode::log) args.emplace_back("--log");
    if (options.remove_on_exit) args.emplace_back("--rm");
    const pid_t intermediate =
        detail::spawn_supervisor(supervisor, args, supervisor_stdio(options.io), answer_write.get());
    answer_write.reset();
    const std::string answer = detail::read_answer(answer_read.get());
    detail::wait_for_child(intermediate);
    detail::parse_status(answer, "create container " + id);
  } catch (const Error&) {
    unrecord_quietly(options.state_root, dir);
    throw;
  }
  return Jail(options.state_root, id);
}

Jail Jail::open(const fs::path& state_root, std::string_view id_or_name) {
  if (id_or_name.empty()) throw Error(ErrorCode::invalid_argument, "container: empty id or name");
  const std::string wanted(id_or_name);
  if (wanted.find('/') == std::string::npos && ContainerDir(state_root, wanted).exists()) return Jail(state_root, wanted);
  std::vector<std::string> prefixed;
  for (const auto& state : list(state_root)) {
    if (state.name == wanted) return Jail(state_root, state.id);
    if (state.id.compare(0, wanted.size(), wanted) == 0) prefixed.push_back(state.id);
  }
  if (prefixed.size() == 1) return Jail(state_root, prefixed.front());
  if (prefixed.empty()) throw Error(ErrorCode::not_found, "no such container: " + detail::quote_untrusted(wanted));
  throw Error(ErrorCode::invalid_argument,
              "container id prefix " + detail::quote_untrusted(wanted) + " is ambiguous: give more of the id");
}

std::vector<ContainerState> Jail::list(const fs::path& state_root) {
  std::vector<ContainerState> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(detail::containers_dir(state_root), ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.front() == '.' || !entry.is_directory(ec)) continue;
    try {
      out.push_back(Jail(state_root, name).state());
    } catch (const Error&) {
      // Being created or removed right now by another process: not listed.
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
  });
  return out;
}

ContainerState Jail::state() const {
  const ContainerDir dir(state_root_, id_);
  // Liveness first, then the record: a supervisor found gone has written its last state
  // before it went, so a record still saying created/running then means it died. (The
  // other order races with a supervisor that finishes between the two reads.)
  const bool supervised = dir.supervisor_alive();
  ContainerState state = dir.read_state();
  const bool live = state.status == ContainerStatus::created || state.status == ContainerStatus::running;
  if (live && !supervised) {
    // The supervisor was killed: nobody will reap or record. Say so rather than pretend.
    state.status = ContainerStatus::stopped;
    if (state.error.empty()) state.error = "the supervisor died; the exit status is unknown (remove with force)";
  }
  return state;
}

RunSpec Jail::spec() const { return ContainerDir(state_root_, id_).read_spec(); }

void Jail::start() {
  const ContainerDir dir(state_root_, id_);
  const auto before = state();
  if (before.status != ContainerStatus::created)
    throw Error(ErrorCode::invalid_argument,
                "container " + id_ + " is " + std::string(to_string(before.status)) + ": only a created container can start");
  {
    const UniqueFd fifo(::open(dir.start_fifo().c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fifo) throw Error(errno, "start container " + id_ + ": its supervisor is not listening");
    const char request = detail::start_request;
    if (::write(fifo.get(), &request, 1) != 1) throw Error(errno, "start container " + id_);
  }
  // The supervisor records the outcome; a fresh process is running within microseconds.
  const auto deadline = std::chrono::steady_clock::now() + start_timeout;
  for (auto pause = 20us;; pause = std::min<std::chrono::microseconds>(pause * 2, 5ms)) {
    ContainerState now;
    try {
      now = state();
    } catch (const Error& e) {
      // Only a remove-on-exit container goes by itself: it ran, ended and was removed
      // before this loop looked (its exit code stays readable by wait()).
      if (e.kind() == ErrorCode::not_found && !dir.exists()) return;
      throw;
    }
    if (now.status == ContainerStatus::running) return;
    if (now.status == ContainerStatus::stopped) {
      if (!now.error.empty()) throw Error(ErrorCode::io, "start container " + id_ + ": " + now.error);
      return;  // ran and finished already
    }
    if (std::chrono::steady_clock::now() > deadline)
      throw Error(ErrorCode::busy, "start container " + id_ + ": its supervisor did not answer in 30 s");
    std::this_thread::sleep_for(pause);
  }
}

std::optional<int> Jail::wait(std::optional<std::chrono::milliseconds> timeout) const {
  const ContainerDir dir(state_root_, id_);
  const UniqueFd lock = detail::open_if_exists(dir.supervisor_lock(), O_RDONLY);
  if (lock) {
    if (timeout) {
      const auto deadline = std::chrono::steady_clock::now() + *timeout;
      while (!detail::try_lock(lock, detail::LockKind::shared, dir.supervisor_lock())) {
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(5ms);
      }
    } else {
      while (::flock(lock.get(), LOCK_SH) != 0)
        if (errno != EINTR) throw Error(errno, "wait for container " + id_);
    }
    // The supervisor's last words: they survive a remove-on-exit.
    if (const auto code = recorded_exit_code(lock.get(), dir.supervisor_lock())) return code;
  } else if (exit_record_ && !dir.exists()) {
    // Removed on exit before this call: the file is gone only after its supervisor wrote
    // the record into it, and this object still has it open.
    if (const auto code = recorded_exit_code(*exit_record_, dir.supervisor_lock())) return code;
  }
  const auto now = state();
  if (now.status != ContainerStatus::stopped)
    throw Error(ErrorCode::invalid_argument, "container " + id_ + " has no supervisor: it never ran");
  if (!now.exit_code) throw Error(ErrorCode::io, "container " + id_ + ": " + now.error);
  return now.exit_code;
}

void Jail::kill(int signal, bool all) {
  const auto now = state();
  if (now.status != ContainerStatus::created && now.status != ContainerStatus::running) return;
  if (all) {
    platform::signal_container(id_, static_cast<pid_t>(now.pid), signal);
  } else if (::kill(static_cast<pid_t>(now.pid), signal) != 0 && errno != ESRCH) {
    throw Error(errno, "kill container " + id_);
  }
}

int Jail::stop(std::chrono::milliseconds grace) {
  kill(SIGTERM);
  if (const auto code = wait(grace)) return *code;
  kill(SIGKILL, true);
  return *wait();
}

int Jail::exec(const RunProcess& process, const ExecOptions& options) {
  if (options.io.mode == StdioMode::log)
    throw Error(ErrorCode::invalid_argument, "exec in container " + id_ + ": a log is only for the first process");
  const auto now = state();
  if (now.status != ContainerStatus::running)
    throw Error(ErrorCode::invalid_argument,
                "container " + id_ + " is " + std::string(to_string(now.status)) + ", not running: cannot exec in it");
  RunSpec request = spec();
  request.process = process;
  int pair[2] = {-1, -1};
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) throw Error(errno, "exec: socketpair");
  UniqueFd ours(pair[0]);
  UniqueFd theirs(pair[1]);
  const pid_t shim = detail::spawn_supervisor(find_supervisor(), {"exec", "--root", state_root_.string(), "--id", id_},
                                              supervisor_stdio(options.io), theirs.get());
  theirs.reset();
  const std::string text = to_json(request);
  detail::write_all(ours, text.data(), text.size(), directory());
  ::shutdown(ours.get(), SHUT_WR);
  const std::string answer = detail::read_answer(ours.get());
  try {
    detail::parse_status(answer, "exec in container " + id_);
  } catch (const Error&) {
    detail::wait_for_child(shim);
    throw;
  }
  return detail::exit_code_of(detail::wait_for_child(shim));
}

void Jail::remove(bool force) {
  const ContainerDir dir(state_root_, id_);
  const ContainerState recorded = dir.read_state();
  if (dir.supervisor_alive()) {
    if (recorded.status == ContainerStatus::running && !force)
      throw Error(ErrorCode::busy, "container " + id_ + " is running: stop it first, or remove it with force");
    kill(SIGKILL, true);
    (void)wait();
  } else if (recorded.status != ContainerStatus::stopped && recorded.pid > 0) {
    // The supervisor died before tearing down: clean up by name.
    platform::destroy_container(id_, static_cast<pid_t>(recorded.pid), dir.read_spec());
  }
  // Normally the supervisor has released the address already; not if it died.
  const std::string network_trouble = detail::leave_network(state_root_, id_);
  detail::remove_container(state_root_, dir);
  if (!network_trouble.empty())
    throw Error(ErrorCode::io, "container " + id_ + " removed, but not all of its network: " + network_trouble);
}

void Jail::read_logs(const std::function<void(int, std::string_view)>& sink, bool follow) const {
  const ContainerDir dir(state_root_, id_);
  UniqueFd log = detail::open_if_exists(dir.log(), O_RDONLY);
  detail::LogDecoder decoder(sink);
  char buffer[64 * 1024];
  for (;;) {
    if (!log) log = detail::open_if_exists(dir.log(), O_RDONLY);
    const std::size_t got = log ? detail::read_some(log, buffer, sizeof buffer, dir.log()) : 0;
    if (got > 0) {
      decoder.feed(std::string_view(buffer, got));
      continue;
    }
    if (!follow || !dir.exists() || !dir.supervisor_alive()) {
      if (follow && log) {  // the supervisor may have written its last bytes since
        for (std::size_t more; (more = detail::read_some(log, buffer, sizeof buffer, dir.log())) > 0;)
          decoder.feed(std::string_view(buffer, more));
      }
      return;
    }
    std::this_thread::sleep_for(100ms);
  }
}

}  // namespace v0
}  // namespace knast
