// Real servers for the registry client's integration tests, as RAII objects.
//
//   RegistryServer  Debian's distribution registry (docker-registry 2.8) on 127.0.0.1, no
//                   auth / htpasswd Basic / token auth, optionally TLS with a CA made per run
//   FaultServer     a registry that misbehaves on demand (tests/fixtures/fault_server.py)
//   make_image, make_multiplatform_image, push_image
//                   small OCI layouts, pushed with skopeo (not with knast's own push)
//   http            a plain libcurl request, for tests that poke a server by hand
//
// Each server is a Python launcher in tests/fixtures started as a child process in its own
// process group. Its stdin is a pipe held here: when the object goes (or the test binary
// dies) the launcher sees EOF and shuts its servers down; stop() then sweeps the process
// group and reaps, and the scratch directory is removed. Linux only (it reads /proc).
//
// Header-only on purpose: tests/integration/CMakeLists.txt builds only *_test.cpp files.
#pragma once

#include <curl/curl.h>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

#ifndef KNAST_FIXTURES_DIR
#error "KNAST_FIXTURES_DIR must name tests/fixtures (see tests/integration/CMakeLists.txt)"
#endif
#ifndef KNAST_FIXTURE_PYTHON
#define KNAST_FIXTURE_PYTHON "/usr/bin/python3"
#endif

namespace knast::test {

using Json = nlohmann::json;
using namespace std::chrono_literals;

/// Long enough for a loaded 2-core machine; a healthy start takes a fraction of a second.
inline constexpr std::chrono::seconds kReadyTimeout{60};
/// How long a launcher gets to shut down by itself before its process group is killed.
inline constexpr std::chrono::seconds kStopTimeout{15};

inline std::filesystem::path fixtures_dir() { return KNAST_FIXTURES_DIR; }

// ---------------------------------------------------------------------------------------
// Files, descriptors, processes
// ---------------------------------------------------------------------------------------

[[noreturn]] inline void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

/// An owned file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

/// A pipe whose ends close on exec: a child gets only what spawn_process hands it.
struct Pipe {
  UniqueFd read_end, write_end;

  static Pipe make() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe2");
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  }
};

/// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "knast-test-") {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = (std::filesystem::path(tmp && *tmp ? tmp : "/tmp") / prefix).string() + "XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw_errno("mkdtemp " + pattern);
    path_ = pattern;
  }
  TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  TempDir& operator=(TempDir&&) = delete;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// Where a spawned process's standard streams go. -1: /dev/null for stdin; for stderr,
/// stderr_file if set, else the same place as stdout.
struct SpawnIo {
  int stdin_fd = -1;
  int stdout_fd = -1;
  std::filesystem::path stderr_file{};
  bool own_process_group = false;
};

/// posix_spawnp with the given streams, default signal dispositions and an empty mask.
inline pid_t spawn_process(const std::vector<std::string>& argv, const SpawnIo& io) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  if (io.stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, io.stdin_fd, STDIN_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  if (io.stdout_fd >= 0) posix_spawn_file_actions_adddup2(&actions, io.stdout_fd, STDOUT_FILENO);
  if (!io.stderr_file.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, io.stderr_file.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
  } else {
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  }
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
  if (io.own_process_group) {
    flags = static_cast<short>(flags | POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
  }
  posix_spawnattr_setflags(&attr, flags);

  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "posix_spawnp " + argv[0]);
  return pid;
}

/// Appends what @p fd has to @p out until EOF, until @p done(out) or until @p deadline.
/// Returns true at EOF or done, false at the deadline.
template <typename Done>
bool read_until(int fd, std::string& out, std::chrono::steady_clock::time_point deadline, Done done) {
  char buffer[65536];
  while (!done(out)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) return false;
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) throw_errno("poll");
    if (ready <= 0) continue;
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno != EINTR) throw_errno("read");
    if (n == 0) return true;
    if (n > 0) out.append(buffer, static_cast<std::size_t>(n));
  }
  return true;
}

/// "exit N" or "signal N" for a wait status.
inline std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

struct CommandResult {
  int status = -1;     ///< the wait status; exit_code() for the usual question
  std::string output;  ///< stdout and stderr together
  bool timed_out = false;

  bool ok() const { return !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0; }
};

/// Runs a command to its end (killed after @p timeout) and collects its output.
inline CommandResult run_command(const std::vector<std::string>& argv, std::chrono::seconds timeout = 120s) {
  Pipe out = Pipe::make();
  const pid_t pid = spawn_process(argv, SpawnIo{.stdout_fd = out.write_end.get()});
  out.write_end.reset();
  CommandResult result;
  result.timed_out = !read_until(out.read_end.get(), result.output, std::chrono::steady_clock::now() + timeout,
                                 [](const std::string&) { return false; });
  if (result.timed_out) ::kill(pid, SIGKILL);
  while (::waitpid(pid, &result.status, 0) < 0 && errno == EINTR) {
  }
  return result;
}

/// The processes (not zombies) whose process group is @p pgid, from /proc.
inline std::vector<pid_t> processes_in_group(pid_t pgid) {
  std::vector<pid_t> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    const std::string stat = read_file(entry.path() / "stat");
    // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 1));
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (fields >> state >> ppid >> pgrp && pgrp == pgid && state != 'Z') {
      found.push_back(static_cast<pid_t>(std::stol(name)));
    }
  }
  return found;
}

/// Whether @p pid is a running process (not gone, not a zombie).
inline bool process_running(pid_t pid) {
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

/// Polls @p condition every 20 ms until it holds or @p timeout passes; returns the last
/// answer.
template <typename Condition>
bool wait_for(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// A launcher process
// ---------------------------------------------------------------------------------------

/// How a launcher ended.
struct LauncherExit {
  int status = 0;                 ///< wait status of the launcher
  bool graceful = false;          ///< it was gone within kStopTimeout, without stop() killing it
  /// Other processes of its group still running once it had exited (or was to be killed)
  std::vector<pid_t> stragglers;
};

/// One launcher of tests/fixtures (registry.py, fault_server.py, ...), started with
/// `--dir <scratch>` and read up to its ready line. Not movable: hold it in a
/// std::optional or std::unique_ptr to start it later than its owner.
class FixtureProcess {
 public:
  FixtureProcess(const std::string& script, std::vector<std::string> args,
                 std::chrono::seconds ready_timeout = kReadyTimeout)
      : scratch_(std::in_place, "knast-fixture-") {
    std::vector<std::string> argv{KNAST_FIXTURE_PYTHON, "-B", (fixtures_dir() / script).string()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--dir", (scratch_->path() / "work").string()});
    log_path_ = scratch_->path() / "launcher.log";
    Pipe in = Pipe::make();
    Pipe out = Pipe::make();
    pid_ = spawn_process(argv, SpawnIo{.stdin_fd = in.read_end.get(),
                                       .stdout_fd = out.write_end.get(),
                                       .stderr_file = log_path_,
                                       .own_process_group = true});
    // Only the launcher may hold these ends: EOF on its stdout then means it has gone.
    in.read_end.reset();
    out.write_end.reset();
    stdin_ = std::move(in.write_end);
    stdout_ = std::move(out.read_end);
    read_ready_line(script, ready_timeout);
  }

  FixtureProcess(const FixtureProcess&) = delete;
  FixtureProcess& operator=(const FixtureProcess&) = delete;
  ~FixtureProcess() { stop(); }

  /// The launcher's ready line.
  const Json& ready() const { return ready_; }
  /// The launcher's pid, which is also its process group.
  pid_t pid() const { return pid_; }
  /// What the launcher wrote on stderr so far (kept until stop()).
  std::string log() const { return scratch_ ? read_file(log_path_) : std::string(); }
  /// The scratch directory (gone after stop()).
  std::filesystem::path scratch_dir() const { return scratch_ ? scratch_->path() : std::filesystem::path(); }

  /// Closes the launcher's stdin, gives it kStopTimeout to stop its servers, then kills
  /// whatever is left of its process group, reaps it and removes the scratch directory.
  /// Idempotent: later calls return the first call's result.
  const LauncherExit& stop() {
    if (exit_) return *exit_;
    LauncherExit result;
    stdin_.reset();
    result.graceful = wait_for([this] { return exited(); }, kStopTimeout);
    // The launcher is a zombie now (or about to be killed): its pid stays reserved as a
    // process group id until it is reaped, so signalling the group hits nobody else.
    result.stragglers = processes_in_group(pid_);
    std::erase(result.stragglers, pid_);
    ::kill(-pid_, SIGKILL);
    while (::waitpid(pid_, &result.status, 0) < 0 && errno == EINTR) {
    }
    stdout_.reset();
    scratch_.reset();
    return exit_.emplace(std::move(result));
  }

 private:
  bool exited() const {
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid_;
  }

  void read_ready_line(const std::string& script, std::chrono::seconds timeout) {
    std::string out;
    const bool in_time = read_until(stdout_.get(), out, std::chrono::steady_clock::now() + timeout,
                                    [](const std::string& text) { return text.find('\n') != std::string::npos; });
    const auto newline = out.find('\n');
    if (in_time && newline != std::string::npos) {
      ready_ = Json::parse(out.substr(0, newline), nullptr, false);
      if (!ready_.is_discarded() && ready_.is_object()) return;
    }
    const std::string log_text = log();
    stop();
    throw std::runtime_error(script + (in_time ? " stopped before it was ready" : " was not ready in time") +
                             "; stdout: " + out + "\nlog:\n" + log_text);
  }

  std::optional<TempDir> scratch_;
  std::filesystem::path log_path_;
  pid_t pid_ = -1;
  UniqueFd stdin_, stdout_;
  Json ready_;
  std::optional<LauncherExit> exit_;
};

/// The text of a ready-line field, empty when it is null or missing.
inline std::string field(const Json& ready, const char* key) {
  const auto it = ready.find(key);
  return it != ready.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// "--user" options for NAME:PASSWORD[:ACTIONS] accounts.
inline std::vector<std::string> user_args(const std::vector<std::string>& users) {
  std::vector<std::string> args;
  for (const std::string& user : users) args.insert(args.end(), {"--user", user});
  return args;
}

// ---------------------------------------------------------------------------------------
// A libcurl request, for poking servers by hand
// ---------------------------------------------------------------------------------------

struct HttpRequest {
  std::string method = "GET";
  std::string url{};
  std::vector<std::string> headers{};  ///< "Name: value"
  std::string body{};
  std::optional<std::filesystem::path> ca_file{};  ///< trust only this CA (else the system's)
  std::string basic_auth{};                        ///< "user:password"
  bool follow_redirects = false;
  long timeout_seconds = 30;
};

struct HttpResponse {
  long status = 0;     ///< 0 when no HTTP answer came; see error
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< of the last answer
  std::string error;   ///< libcurl's message when the transfer failed
  std::string effective_url;

  /// The first header named @p name (any case).
  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (std::equal(key.begin(), key.end(), name.begin(), name.end(),
                     [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) ==
                                                 std::tolower(static_cast<unsigned char>(b)); })) {
        return value;
      }
    }
    return std::nullopt;
  }
};

namespace detail {

inline std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

inline std::size_t collect_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
  std::string line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) headers->clear();  // a new answer (after a redirect)
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    const auto value_start = line.find_first_not_of(" \t", colon + 1);
    const auto value_end = line.find_last_not_of("\r\n");
    headers->emplace_back(line.substr(0, colon), value_start == std::string::npos || value_end < value_start
                                                     ? std::string()
                                                     : line.substr(value_start, value_end - value_start + 1));
  }
  return size * count;
}

struct CurlHandle {
  CURL* curl = curl_easy_init();
  curl_slist* headers = nullptr;
  ~CurlHandle() {
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
  }
};

}  // namespace detail

/// One request; never throws for HTTP or transfer errors (see status and error).
inline HttpResponse http(const HttpRequest& request) {
  HttpResponse response;
  detail::CurlHandle handle;
  CURL* curl = handle.curl;
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");  // fixtures are on loopback; never via a proxy
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, request.timeout_seconds);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (!request.body.empty() || request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
  }
  for (const std::string& h : request.headers) handle.headers = curl_slist_append(handle.headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, handle.headers);
  if (request.ca_file) curl_easy_setopt(curl, CURLOPT_CAINFO, request.ca_file->c_str());
  if (!request.basic_auth.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERPWD, request.basic_auth.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, detail::append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, detail::collect_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  const CURLcode rc = curl_easy_perform(curl);
  if (rc != CURLE_OK) response.error = curl_easy_strerror(rc);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  char* effective = nullptr;
  if (curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK && effective) {
    response.effective_url = effective;
  }
  return response;
}

inline HttpResponse http_get(const std::string& url) { return http(HttpRequest{.url = url}); }
inline HttpResponse http_post(const std::string& url) { return http(HttpRequest{.method = "POST", .url = url}); }

/// The parameters of a `Bearer realm="...",service="...",scope="..."` challenge.
inline std::vector<std::pair<std::string, std::string>> challenge_params(std::string_view challenge) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t pos = challenge.find(' ');
  while (pos != std::string_view::npos && pos < challenge.size()) {
    const auto eq = challenge.find("=\"", pos);
    if (eq == std::string_view::npos) break;
    const auto end = challenge.find('"', eq + 2);
    if (end == std::string_view::npos) break;
    const auto key_start = challenge.find_first_not_of(" ,", pos);
    params.emplace_back(std::string(challenge.substr(key_start, eq - key_start)),
                        std::string(challenge.substr(eq + 2, end - eq - 2)));
    pos = end + 1;
  }
  return params;
}

// ---------------------------------------------------------------------------------------
// The servers
// ---------------------------------------------------------------------------------------

enum class RegistryAuth { none, basic, token };

inline const char* to_string(RegistryAuth auth) {
  switch (auth) {
    case RegistryAuth::none: return "none";
    case RegistryAuth::basic: return "basic";
    case RegistryAuth::token: return "token";
  }
  return "none";
}

struct RegistryOptions {
  RegistryAuth auth = RegistryAuth::none;
  bool tls = false;
  /// With tls: require a client certificate (client_certificate() has one that passes).
  bool client_certs = false;
  /// NAME:PASSWORD[:ACTIONS] (ACTIONS: comma-separated pull,push,delete,*; all when left
  /// out). Empty: alice:secret with every action.
  std::vector<std::string> users{};
  /// Token auth: expires_in of the tokens.
  int token_lifetime = 300;
  /// Token auth: make the registry refuse a token once expires_in has passed (it otherwise
  /// allows 60 s of clock skew).
  bool backdate_exp = false;
  /// Token auth, requests without credentials: "none" (a token granting nothing), "pull",
  /// or "deny" (401 from the token server).
  std::string anonymous = "none";
  std::vector<std::string> extra_args{};
};

/// The distribution registry, started for one test (or suite).
class RegistryServer {
 public:
  explicit RegistryServer(const RegistryOptions& options = {}) : process_("registry.py", args_for(options)) {}

  /// "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT".
  std::string url() const { return field(ready(), "url"); }
  /// "127.0.0.1:PORT", as it goes into an image reference.
  std::string host() const { return field(ready(), "host"); }
  /// "127.0.0.1:PORT/@p repository", e.g. reference("test/busybox:1.0").
  std::string reference(const std::string& repository) const { return host() + "/" + repository; }
  /// The CA certificate (PEM) of a TLS registry.
  std::optional<std::filesystem::path> ca_file() const {
    const std::string ca = field(ready(), "ca");
    return ca.empty() ? std::nullopt : std::optional<std::filesystem::path>(ca);
  }
  /// The client certificate and key (PEM files) a registry started with client_certs
  /// accepts; nothing otherwise.
  std::optional<std::pair<std::filesystem::path, std::filesystem::path>> client_certificate() const {
    const std::string cert = field(ready(), "client_cert");
    if (cert.empty()) return std::nullopt;
    return std::pair<std::filesystem::path, std::filesystem::path>(cert, field(ready(), "client_key"));
  }
  /// The token endpoint (token auth), e.g. "http://127.0.0.1:PORT/token".
  std::string token_url() const { return field(ready(), "token_url"); }
  /// The token service name the registry's challenge carries.
  std::string token_service() const { return field(ready(), "token_service"); }
  /// The first account (empty without auth).
  std::string user() const { return account("user"); }
  std::string password() const { return account("password"); }
  RegistryAuth auth() const { return auth_; }
  const Json& ready() const { return process_.ready(); }
  FixtureProcess& process() { return process_; }

 private:
  std::vector<std::string> args_for(const RegistryOptions& o) {
    auth_ = o.auth;
    std::vector<std::string> args{"--auth", to_string(o.auth), "--token-lifetime", std::to_string(o.token_lifetime),
                                  "--anonymous", o.anonymous};
    if (o.tls) args.emplace_back("--tls");
    if (o.client_certs) args.emplace_back("--client-certs");
    if (o.backdate_exp) args.emplace_back("--backdate-exp");
    const auto users = user_args(o.users);
    args.insert(args.end(), users.begin(), users.end());
    args.insert(args.end(), o.extra_args.begin(), o.extra_args.end());
    return args;
  }

  std::string account(const char* key) const {
    const Json& users = ready().at("users");
    return users.empty() ? std::string() : users.at(0).at(key).get<std::string>();
  }

  RegistryAuth auth_ = RegistryAuth::none;
  FixtureProcess process_;
};

struct FaultOptions {
  /// Modes in force for every request (see fault_server.py); repository names can switch
  /// on more per request.
  std::vector<std::string> faults{};
  /// How many requests each transient fault (drop-blob, 429, 500) hits per method and path.
  int times = 1;
  /// An OCI layout to serve instead of the built-in image (a 512 KiB random layer and a
  /// small one).
  std::optional<std::filesystem::path> layout{};
  /// As RegistryOptions::users, for auth-basic and auth-bearer.
  std::vector<std::string> users{};
  int token_lifetime = 300;
  std::vector<std::string> extra_args{};
};

/// The fault server: the image under any repository name, the faults the options and the
/// name ask for. Its ready line also says what it serves: "digest" (the tag's manifest),
/// "config", "layers", "blobs" (digest -> size), "big_manifest", "bad_json_manifest".
class FaultServer {
 public:
  explicit FaultServer(const FaultOptions& options = {}) : process_("fault_server.py", args_for(options)) {}

  std::string url() const { return field(ready(), "url"); }
  std::string host() const { return field(ready(), "host"); }
  /// "127.0.0.1:PORT/@p repository": faults named in @p repository apply, e.g.
  /// reference("drop-blob/429/image:latest").
  std::string reference(const std::string& repository) const { return host() + "/" + repository; }
  /// The blob store that "redirect" sends blob downloads to.
  std::string blob_url() const { return field(ready(), "blob_url"); }
  std::string token_url() const { return field(ready(), "token_url"); }
  std::string tag() const { return field(ready(), "tag"); }
  /// The manifest digest the tag names when no manifest fault is on.
  std::string digest() const { return field(ready(), "digest"); }
  std::vector<std::string> layers() const { return ready().at("layers").get<std::vector<std::string>>(); }
  std::string user() const { return ready().at("users").at(0).at("user").get<std::string>(); }
  std::string password() const { return ready().at("users").at(0).at("password").get<std::string>(); }
  const Json& ready() const { return process_.ready(); }
  FixtureProcess& process() { return process_; }

  /// {"requests": [{"listener", "method", "path", "range", "authorization", "status",
  /// "fault"}], "token_requests": [...]} since the start or the last reset().
  Json stats() const;
  /// Forgets the requests and re-arms the transient faults.
  void reset() const;

 private:
  static std::vector<std::string> args_for(const FaultOptions& o) {
    std::vector<std::string> args{"--times", std::to_string(o.times), "--token-lifetime",
                                  std::to_string(o.token_lifetime)};
    for (const std::string& fault : o.faults) args.insert(args.end(), {"--fault", fault});
    if (o.layout) args.insert(args.end(), {"--layout", o.layout->string()});
    const auto users = user_args(o.users);
    args.insert(args.end(), users.begin(), users.end());
    args.insert(args.end(), o.extra_args.begin(), o.extra_args.end());
    return args;
  }

  FixtureProcess process_;
};

inline Json FaultServer::stats() const {
  const HttpResponse response = http_get(url() + "/_stats");
  if (response.status != 200) throw std::runtime_error("fault server /_stats: " + response.error);
  return Json::parse(response.body);
}

inline void FaultServer::reset() const {
  const HttpResponse response = http_post(url() + "/_reset");
  if (response.status != 200) throw std::runtime_error("fault server /_reset: " + response.error);
}

// ---------------------------------------------------------------------------------------
// Images
// ---------------------------------------------------------------------------------------

/// An OCI image layout written by tests/fixtures/oci_image.py.
struct TestImage {
  std::filesystem::path layout;
  std::string tag;
  std::string digest;      ///< the image manifest's, or the index's for several platforms
  std::string media_type;  ///< of that manifest or index
  std::vector<std::string> layers;
  Json description;        ///< all oci_image.py said ("manifests", "diff_ids", "blobs", ...)

  /// The skopeo/containers-image name of the layout.
  std::string oci_reference() const { return "oci:" + layout.string() + ":" + tag; }
};

/// Builds an image into the new directory @p dir. @p spec is oci_image.py's (layers,
/// config, platforms, tag, format); the default is busybox (from busybox-static) in one
/// layer and a symlink and a text file in a second, for linux/amd64. A layout with
/// "format": "docker" suits FaultServer but not push_image (skopeo reads OCI layouts with
/// OCI media types only): push with PushFormat::docker_schema2 instead.
inline TestImage make_image(const std::filesystem::path& dir, const Json& spec = Json::object()) {
  const CommandResult result = run_command({KNAST_FIXTURE_PYTHON, "-B", (fixtures_dir() / "oci_image.py").string(),
                                            "--out", dir.string(), "--spec", spec.dump()});
  if (!result.ok()) throw std::runtime_error("oci_image.py failed: " + result.output);
  Json d = Json::parse(result.output);
  return TestImage{d.at("layout").get<std::string>(), d.at("tag").get<std::string>(), d.at("digest").get<std::string>(),
                   d.at("media_type").get<std::string>(), d.at("layers").get<std::vector<std::string>>(), d};
}

/// The default image for several platforms: one index, one config per platform, the same
/// layers.
inline TestImage make_multiplatform_image(const std::filesystem::path& dir,
                                          const std::vector<std::string>& platforms = {"linux/amd64",
                                                                                       "linux/arm64"}) {
  return make_image(dir, Json{{"platforms", platforms}});
}

/// What push_image sends.
enum class PushFormat {
  as_is,           ///< the layout's manifests byte for byte: the digests stay the same
  docker_schema2,  ///< converted to Docker schema 2 manifests and lists (new digests)
};

/// Pushes @p image to @p registry as @p repository (e.g. "test/busybox:latest") with skopeo,
/// an index with all its images, and returns the pushed manifest's (or list's) digest.
inline std::string push_image(const TestImage& image, const RegistryServer& registry, const std::string& repository,
                              PushFormat format = PushFormat::as_is) {
  TempDir scratch("knast-push-");
  const std::filesystem::path digest_file = scratch.path() / "digest";
  std::vector<std::string> argv{"skopeo", "--insecure-policy", "copy", "--quiet", "--all",
                                "--digestfile", digest_file.string()};
  if (format == PushFormat::as_is) {
    argv.emplace_back("--preserve-digests");
  } else {
    argv.insert(argv.end(), {"--format", "v2s2"});
  }
  if (const auto ca = registry.ca_file()) {
    // The CA alone in its directory, with the client certificate when there is one.
    argv.insert(argv.end(), {"--dest-cert-dir", ca->parent_path().string()});
  } else {
    argv.emplace_back("--dest-tls-verify=false");  // plain http: skopeo tries https first, then falls back
  }
  if (registry.auth() != RegistryAuth::none) {
    argv.insert(argv.end(), {"--dest-creds", registry.user() + ":" + registry.password()});
  }
  argv.insert(argv.end(), {image.oci_reference(), "docker://" + registry.reference(repository)});
  const CommandResult result = run_command(argv);
  if (!result.ok()) throw std::runtime_error("skopeo copy failed (" + describe_status(result.status) + "): " + result.output);
  return read_file(digest_file);
}

}  // namespace knast::test
