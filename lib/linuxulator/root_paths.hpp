// Paths inside a container root, resolved component by component from a descriptor of the
// root with O_NOFOLLOW at every step: a symlink anywhere on the way is refused, so nothing
// an image contains can aim a write outside the root. POSIX only.
#pragma once

#include "core/unique_fd.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// The components of @p path inside a root ("/etc/hosts" and "etc/hosts" give
/// {"etc", "hosts"}). @throws Error invalid_argument for "", "." or ".." components
/// anywhere, or nothing left.
std::vector<std::string> root_path_components(std::string_view path);

/// Opens the directory @p components name under @p root_fd (all of them; none: a
/// duplicate of the root), never following a symlink. When @p create, missing
/// directories are made (mode 0755) and their relative paths added to @p created.
/// @throws Error invalid_argument (a symlink or non-directory on the way), not_found
///         (missing, without @p create), io.
UniqueFd open_directory_beneath(int root_fd, const std::vector<std::string>& components, bool create,
                                std::vector<std::string>* created = nullptr);

/// Opens the file @p rel_path under @p root_fd with @p flags (O_NOFOLLOW and O_CLOEXEC
/// are added), never following a symlink. Returns an empty UniqueFd with errno set when
/// the last step fails; a symlinked parent throws as open_directory_beneath() does.
UniqueFd open_file_beneath(int root_fd, std::string_view rel_path, int flags);

/// "/" + the components joined: how paths inside a root are shown.
std::string shown_root_path(const std::vector<std::string>& components);

}  // namespace detail
}  // namespace v0
}  // namespace knast
