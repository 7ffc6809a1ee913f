// Mounting and unmounting file systems from a plan. A MountStep is plain data built by
// portable code (the overlay driver's plan); lib/platform/<os>/mount_<os>.cpp carries it
// out with the OS's system calls, and the unsupported build refuses (ErrorCode::unsupported).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace knast::platform {

/// One mount, as mount(8) would take it: `mount -t FSTYPE -o OPTIONS SOURCE TARGET`.
struct MountStep {
  std::string fstype;              ///< "overlay", "tmpfs", "nullfs", ...
  std::string source;              ///< What is mounted ("overlay" for overlay).
  std::filesystem::path target;    ///< The mount point (an existing directory).
  std::string options;             ///< Comma-separated, escaped as the file system wants.
  /// Steps compare field by field.
  friend bool operator==(const MountStep&, const MountStep&) = default;
};

/// Carries out @p step. @throws Error (errno) naming the target; unsupported where this
/// OS has no executor.
void mount(const MountStep& step);

/// How unmount() went.
enum class UnmountResult {
  unmounted,    ///< Unmounted normally.
  detached,     ///< Busy: detached (Linux MNT_DETACH, FreeBSD MNT_FORCE); gone from the namespace.
  not_mounted,  ///< Nothing was mounted there.
};

/// Unmounts whatever is mounted at @p target, detaching it when it is busy.
/// @throws Error (errno) for any other failure.
UnmountResult unmount(const std::filesystem::path& target);

/// Whether a file system is mounted exactly at @p target (the path as given, absolute).
bool is_mount_point(const std::filesystem::path& target);

/// Whether the kernel knows the file system type @p fstype (Linux: /proc/filesystems).
bool filesystem_available(std::string_view fstype);

}  // namespace knast::platform
