// Private: the small steps every tree walk of the Rootfs component shares (copy, remove,
// diff): reading a directory's names, lstat, readlink — never following a symlink.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// The names in the directory open as @p dir_fd, without "." and "..", in no order. The
/// descriptor's offset is left alone (the directory is read through a duplicate).
/// @throws Error (errno) naming @p path.
std::vector<std::string> list_names(int dir_fd, const std::filesystem::path& path);

/// The names in the directory @p dir, sorted bytewise; @p dir itself is opened with
/// O_NOFOLLOW, so a symlink is refused (ELOOP), not followed. @throws Error (errno).
std::vector<std::string> list_names_sorted(const std::filesystem::path& dir);

/// lstat(2) of @p path; nothing when it does not exist. @throws Error for other errors.
std::optional<struct stat> lstat_if_exists(const std::filesystem::path& path);

/// The target of the symbolic link @p path. @throws Error (errno).
std::string read_link(const std::filesystem::path& path);

}  // namespace detail
}  // namespace v0
}  // namespace knast
