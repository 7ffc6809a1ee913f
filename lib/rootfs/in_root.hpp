// Private: resolving paths of a layer inside a root directory with chroot semantics, and
// removing trees without ever following a symbolic link. Everything works on directory
// descriptors, so nothing a layer (or anyone) does to the root's ancestors, or to the
// symlinks inside it, can lead a call outside the root.
#pragma once

#include "core/unique_fd.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// Most symbolic links one resolution follows before calling it a loop (Linux's
/// MAXSYMLINKS; FreeBSD's is 32, so a chain the kernel accepts is accepted here too).
inline constexpr int max_symlinks_followed = 40;

/// An entry name of a layer, cleaned for applying it inside a root the way docker does:
/// "./a//b/" → "a/b"; an absolute name is taken relative to the root ("/etc/x" →
/// "etc/x"); "a/../b" → "b" (lexically, before any symlink is looked at); "", "." and "/"
/// → "" (the root itself). Nothing when `..` climbs above the root ("../x",
/// "a/../../x"): docker refuses such a name as a breakout, and so do the callers.
std::optional<std::string> clean_layer_path(std::string_view name);

/// A cleaned path split into its parent and its last component: "a/b/c" → {"a/b", "c"},
/// "c" → {"", "c"}, "" → {"", ""}.
std::pair<std::string_view, std::string_view> split_parent(std::string_view clean) noexcept;

/// What resolving a directory does when a component is missing (or is not a directory).
enum class MissingDirs {
  fail,       ///< Throw Error not_found (missing) or invalid_argument (not a directory).
  create,     ///< Create missing directories (0755), as docker does for a layer's parents.
  absent_ok,  ///< Return an empty descriptor: nothing there, nothing to do.
};

/// Told about each directory a resolution created: the descriptor of its parent and its name.
using CreatedDirFn = std::function<void(int parent_fd, std::string_view name)>;

/// The portable, component-by-component resolution of the directory @p path (a cleaned
/// path, see clean_layer_path(); "" is the root) under @p root_fd, as if @p root_fd were
/// `/`: each component is opened with O_NOFOLLOW; a symbolic link is read and its target
/// resolved by this walk — an absolute target from the root, `..` never above the root —
/// so the result is always @p root_fd or a directory below it. Every component, the last
/// included, is followed when it is a link (it names a directory to work in).
/// @throws Error invalid_argument (a loop of more than max_symlinks_followed links, or a
///         component that is not a directory, with MissingDirs::fail or create),
///         not_found (MissingDirs::fail), or the errno of a failing call.
UniqueFd walk_dir_in_root(int root_fd, std::string_view path, MissingDirs missing,
                          const CreatedDirFn& created = {});

/// As walk_dir_in_root(), but asks the kernel first (platform::open_dir_in_root_fast():
/// openat2 RESOLVE_IN_ROOT on Linux, O_RESOLVE_BENEATH on FreeBSD) and walks only when
/// the kernel cannot answer (a missing component, an escape O_RESOLVE_BENEATH refuses, no
/// support). Both give the same directory.
UniqueFd open_dir_in_root(int root_fd, std::string_view path, MissingDirs missing,
                          const CreatedDirFn& created = {});

}  // namespace detail
}  // namespace v0
}  // namespace knast
