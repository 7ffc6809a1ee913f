// Opening a file inside an image root without ever following a symbolic link, so that a
// hostile image (etc -> /host/etc, etc/passwd -> /etc/shadow) cannot make knast read a
// file of the host. lib/rootfs had no confined-open helper on main when this was written;
// once it exports one, this should give way to it.
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
/// allowed) below the directory @p root for reading. Every component is opened with
/// openat(2) and O_NOFOLLOW relative to the one before, so nothing outside @p root is
/// ever reached; ".." is refused. The root directory itself is opened as given.
/// @return an empty UniqueFd if a component does not exist or is not a directory.
/// @throws Error unsupported if a component is a symbolic link; invalid_argument for
///         "..", Error with the errno for other failures.
UniqueFd open_in_root(const std::filesystem::path& root, const std::filesystem::path& relative);

/// The content of the regular file @p relative inside @p root (see open_in_root()), or
/// nothing if it does not exist. @throws Error invalid_argument if it is not a regular
/// file, limit_exceeded if it is larger than @p max_bytes, and as open_in_root().
std::optional<std::string> read_file_in_root(const std::filesystem::path& root, const std::filesystem::path& relative,
                                             std::size_t max_bytes);

}  // namespace detail
}  // namespace v0
}  // namespace knast
