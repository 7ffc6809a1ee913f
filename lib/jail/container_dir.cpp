#include "jail/container_dir.hpp"

#include "core/text.hpp"
#include "image_store/posix_io.hpp"
#include "rootfs/container_records.hpp"

#include <knast/error.hpp>
#include <knast/layout.hpp>
#include <knast/rootfs.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace knast {
inline namespace v0 {

std::string_view to_string(ContainerStatus status) noexcept {
  switch (status) {
    case ContainerStatus::creating: return "creating";
    case ContainerStatus::created: return "created";
    case ContainerStatus::running: return "running";
    case ContainerStatus::stopped: return "stopped";
  }
  return "unknown";
}

std::string to_json(const ContainerState& state) { return detail::state_to_json(state); }

std::string new_container_id() { return detail::new_container_id(); }

namespace detail {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// state.json is knast's own file, but a crash or a hand edit may leave anything there.
constexpr std::size_t max_state_bytes = 64 * 1024;

ContainerStatus parse_status(const std::string& text) {
  for (auto status : {ContainerStatus::creating, ContainerStatus::created, ContainerStatus::running,
                      ContainerStatus::stopped})
    if (to_string(status) == text) return status;
  throw Error(ErrorCode::io, "unknown status " + quote_untrusted(text));
}

}  // namespace

ContainerDir::ContainerDir(const fs::path& state_root, std::string id)
    : dir_(containers_dir(state_root) / id), id_(std::move(id)) {}

bool ContainerDir::exists() const {
  std::error_code ec;
  return fs::is_regular_file(fs::symlink_status(state_file(), ec));
}

ContainerState ContainerDir::read_state() const {
  const auto fd = open_if_exists(state_file(), O_RDONLY);
  if (!fd) throw Error(ErrorCode::not_found, "container " + id_ + ": no such container");
  return state_from_json(read_all(fd, max_state_bytes, state_file()), state_file().string());
}

namespace {

// Replaces @p target with @p text through a temporary file renamed over it.
void replace_quickly(const fs::path& dir, const fs::path& target, const std::string& text, const std::string& what) {
  const fs::path temp = dir / (".state." + unique_name());
  {
    const auto fd = open_file(temp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    write_all(fd, text.data(), text.size(), temp);
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    const int saved = errno;
    remove_file(temp);
    throw Error(saved, what);
  }
}

}  // namespace

void ContainerDir::write_spec(const RunSpec& spec) const {
  replace_quickly(dir_, config(), to_json(spec), "container " + id_ + ": record its config");
}

void ContainerDir::write_state(const ContainerState& state) const {
  // Atomic (a temporary file renamed over the old one) but not fsync'ed: a state only
  // means something while the host is up — after a crash every container is stopped
  // whatever its record says — and three fsyncs per container were a third of the time
  // a short-lived container takes. A record torn by a crash reads as unreadable, and
  // remove(force) clears it.
  replace_quickly(dir_, state_file(), state_to_json(state), "container " + id_ + ": record its state");
}

RunSpec ContainerDir::read_spec() const { return read_bundle(dir_); }

bool ContainerDir::supervisor_alive() const {
  const auto fd = open_if_exists(supervisor_lock(), O_RDONLY);
  return fd && !try_lock(fd, LockKind::shared, supervisor_lock());
}

void remove_container(const fs::path& state_root, const ContainerDir& dir) {
  // The root first: if unmounting it fails, the record stays and a retry can finish.
  std::error_code ec;
  if (fs::exists(fs::symlink_status(dir.path() / "rootfs.json", ec)))
    Rootfs::open(StateLayout(state_root)).remove(dir.id());
  for (const auto& file : {dir.config(), dir.log(), dir.start_fifo(), dir.supervisor_lock(), dir.resolv_conf()})
    remove_file(file);
  for (const auto& entry : fs::directory_iterator(dir.path(), ec))
    if (entry.path().filename().string().rfind(".state.", 0) == 0) remove_file(entry.path());
  remove_file(dir.state_file());  // last: until now the container is still listed
  if (::rmdir(dir.path().c_str()) != 0 && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT)
    throw Error(errno, "remove " + dir.path().string());
}

fs::path containers_dir(const fs::path& state_root) { return state_root / "containers"; }

void check_container_name(std::string_view name) {
  // docker's rule for names is the rule for ids: one check, a message about names.
  try {
    check_container_id(name);
  } catch (const Error&) {
    throw Error(ErrorCode::invalid_argument, "container name " + quote_untrusted(name) +
                                                 ": use [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128 characters");
  }
}

std::string new_container_id() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw Error(ErrorCode::internal, "container id: the random generator failed");
  std::string id;
  for (const auto byte : bytes) id += fmt::format("{:02x}", byte);
  return id;
}

std::string state_to_json(const ContainerState& state) {
  json out = {{"ociVersion", "1.1.0"},
              {"id", state.id},
              {"status", std::string(to_string(state.status))},
              {"pid", state.pid},
              {"bundle", state.bundle},
              {"name", state.name},
              {"image", state.image},
              {"supervisorPid", state.supervisor_pid},
              {"created", state.created_at},
              {"started", state.started_at},
              {"finished", state.finished_at}};
  if (state.exit_code) out["exitCode"] = *state.exit_code;
  if (state.signal) out["signal"] = *state.signal;
  if (!state.error.empty()) out["error"] = state.error;
  return out.dump(2) + "\n";
}

ContainerState state_from_json(std::string_view text, const std::string& what) {
  try {
    const auto in = json::parse(text);
    ContainerState state;
    state.id = in.at("id").get<std::string>();
    state.status = parse_status(in.at("status").get<std::string>());
    state.pid = in.at("pid").get<std::int64_t>();
    state.bundle = in.value("bundle", "");
    state.name = in.value("name", "");
    state.image = in.value("image", "");
    state.supervisor_pid = in.value("supervisorPid", std::int64_t{0});
    state.created_at = in.value("created", "");
    state.started_at = in.value("started", "");
    state.finished_at = in.value("finished", "");
    if (in.contains("exitCode")) state.exit_code = in.at("exitCode").get<int>();
    if (in.contains("signal")) state.signal = in.at("signal").get<int>();
    state.error = in.value("error", "");
    return state;
  } catch (const json::exception& e) {
    throw Error(ErrorCode::io, what + ": not a container state record (" + e.what() + "): remove the container with force");
  } catch (const Error& e) {
    throw Error(ErrorCode::io, what + ": " + e.what());
  }
}

int exit_code_of(int wait_status) noexcept {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 255;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
