// Private: the changes between two trees, or in an overlay upper directory, as an OCI
// layer (write_layer_diff() is the public entry point for two trees).
//
// Two trees are compared entry by entry with lstat, never following a link: an entry is
// written when it is new, of another type, or differs in mode, owner, size, mtime, link
// target, device number or extended attributes. A regular file whose metadata are all
// equal is taken as unchanged without reading it (docker's "naive" differ does the same;
// a same-size rewrite within one mtime tick is missed — write tools update mtimes).
// A removed entry gives `.wh.NAME`; a directory that replaced a non-directory gets
// `.wh..wh..opq` after it. A directory with changes below it is written too (as docker
// does), so applying the layer restores its mtime. When one member of a set of hardlinks
// is written, all are: the first as a file, the others as hardlinks to it.
#pragma once

#include <knast/rootfs.hpp>

#include <filesystem>

namespace knast {
inline namespace v0 {
namespace detail {

/// The changes an overlay mount recorded in its upper directory @p upper, as a layer at
/// @p output: a character device 0/0 is a whiteout, a directory with the xattr
/// `trusted.overlay.opaque=y` is opaque; the overlay's own `trusted.overlay.*` attributes
/// are left out. The mount must have been made with redirect_dir and metacopy off (the
/// overlay driver's plan does), so that every changed file is whole in @p upper.
LayerDiff write_overlay_diff(const std::filesystem::path& upper, const std::filesystem::path& output,
                             LayerCompression compression);

}  // namespace detail
}  // namespace v0
}  // namespace knast
