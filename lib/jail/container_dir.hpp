// The directory of one container, `<state root>/containers/<id>/`, shared by the library
// (class Jail, any process) and the supervisor (knast-shim): the names of its files, the
// state record and its atomic replacement, and the checks on ids and names.
#pragma once

#include "core/unique_fd.hpp"
#include "rootfs/container_records.hpp"  // check_container_id(): one rule for ids

#include <knast/jail.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace detail {

/// The files of a container directory.
class ContainerDir {
 public:
  ContainerDir(const std::filesystem::path& state_root, std::string id);

  const std::string& id() const noexcept { return id_; }
  const std::filesystem::path& path() const noexcept { return dir_; }
  std::filesystem::path config() const { return dir_ / "config.json"; }
  std::filesystem::path state_file() const { return dir_ / "state.json"; }
  std::filesystem::path log() const { return dir_ / "container.log"; }
  /// What a container on a network sees at /etc/resolv.conf (bind-mounted).
  std::filesystem::path resolv_conf() const { return dir_ / "resolv.conf"; }
  /// The fifo a `start` request is written into (the supervisor holds it open O_RDWR).
  std::filesystem::path start_fifo() const { return dir_ / "start"; }
  /// Locked (exclusive) by the supervisor for its whole life; on exit it writes the final
  /// state into it, so a waiter holding it open reads the exit status even after a
  /// remove-on-exit supervisor deleted the directory.
  std::filesystem::path supervisor_lock() const { return dir_ / "supervisor.lock"; }

  /// Whether the container is recorded (its state.json exists). The directory alone may
  /// exist for a root made by Rootfs::create() under the same id.
  bool exists() const;
  /// Reads state.json. @throws Error not_found (no such container), io (unreadable).
  ContainerState read_state() const;
  /// Replaces state.json atomically (a temporary file renamed; not fsync'ed, see there).
  void write_state(const ContainerState& state) const;
  /// Writes config.json the same way (the bundle's own copy stays where it is).
  void write_spec(const RunSpec& spec) const;
  /// Reads config.json (the RunSpec the container runs).
  RunSpec read_spec() const;

  /// Whether a supervisor holds the lock right now.
  bool supervisor_alive() const;

 private:
  std::filesystem::path dir_;
  std::string id_;
};

/// Removes the container's own files, then its root when Rootfs::create() made one for
/// the same id (rootfs.json present: unmounted, clone destroyed, files removed), then the
/// directory once empty. Never follows a link.
void remove_container(const std::filesystem::path& state_root, const ContainerDir& dir);

/// `<state root>/containers`.
std::filesystem::path containers_dir(const std::filesystem::path& state_root);

/// Checks a container name (docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128).
void check_container_name(std::string_view name);
/// A new random id: 64 hex digits.
std::string new_container_id();

/// The state as JSON and back (state.json, the final record in the supervisor lock).
std::string state_to_json(const ContainerState& state);
/// @throws Error io naming @p what when @p text is not a state record.
ContainerState state_from_json(std::string_view text, const std::string& what);

/// The exit code of a wait status: the code, or 128 + N for signal N.
int exit_code_of(int wait_status) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace knast
