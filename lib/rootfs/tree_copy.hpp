// Private: a faithful copy of a directory tree — the directory driver's container roots
// and the seed of a chain built on a cached prefix. File contents are cloned (reflink,
// else copy_file_range, else read/write: lib/platform/file_clone.hpp); modes (setuid,
// setgid, sticky included), owners (when root), mtimes and atimes, extended attributes,
// hardlinks, symlinks, device nodes and fifos are kept. Sockets are skipped (no layer can
// carry one). Nothing is ever followed: every step is openat/fstatat with O_NOFOLLOW.
#pragma once

#include <cstdint>
#include <filesystem>

namespace knast {
inline namespace v0 {
namespace detail {

/// What copy_tree() did.
struct TreeCopyStats {
  std::uint64_t entries = 0;         ///< Entries created (the top directory included).
  std::uint64_t bytes = 0;           ///< Bytes of file content copied.
  std::uint64_t reflinked = 0;       ///< Regular files whose blocks are shared.
  std::uint64_t skipped_xattrs = 0;  ///< Attributes the destination refused.
};

/// Copies the directory @p from to @p to, which must not exist (its parent must) or be
/// an empty directory (a mount point): its mode, owner and times become @p from's. On
/// failure what was copied so far stays: the caller removes @p to (delete_tree).
/// @throws Error (errno) naming the entry; not_found when @p from is missing.
TreeCopyStats copy_tree(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace detail
}  // namespace v0
}  // namespace knast
