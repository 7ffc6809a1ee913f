// Opening a file inside an image root from the host, so that a hostile image (etc ->
// /host/etc, etc/passwd -> /etc/shadow) cannot make knast read a file of the host: the
// directories resolve with chroot semantics (lib/rootfs/in_root.hpp), as they would inside
// the container; the file's own name is never followed when it is a link.
#pragma once

#include "core/unique_fd.hpp"

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace knast {
inline namespace v0 {
namespace detail {

/// Opens @p relative (a path inside the root, e.g. "etc/passwd"; a leading "/" is
/// allowed) below the directory @p root for reading. Its directories are resolved as if
/// @p root were `/` (open_dir_in_root(): symbolic links followed, absolute ones from the
/// root, never above it), so an image whose /etc links to usr/etc works; the last
/// component is opened with O_NOFOLLOW. ".." is refused.
/// @return an empty UniqueFd if the file or a directory above it does not exist (or a
///         component that should be a directory is not one).
/// @throws Error unsupported if the file itself is a symbolic link; invalid_argument for
///         "..", an empty path or a loop of links; Error with the errno for other failures.
UniqueFd open_in_root(const std::filesystem::path& root, const std::filesystem::path& relative);

/// The content of the regular file @p relative inside @p root (see open_in_root()), or
/// nothing if it does not exist. @throws Error invalid_argument if it is not a regular
/// file, limit_exceeded if it is larger than @p max_bytes, and as open_in_root().
std::optional<std::string> read_file_in_root(const std::filesystem::path& root, const std::filesystem::path& relative,
                                             std::size_t max_bytes);

}  // namespace detail
}  // namespace v0
}  // namespace knast
