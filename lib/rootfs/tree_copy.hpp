// Private: a faithful copy of a directory tree — the directory driver's container roots
// and the seed of a chain built on a cached prefix. File contents are cloned (reflink,
// else copy_file_range, else read/write: lib/platform/file_clone.hpp); modes (setuid,
// setgid, sticky included), owners (when root), mtimes and atimes, extended attributes,
// hardlinks, symlinks, device nodes and fifos are kept. Sockets are skipped (no layer can
// carry one). Nothing is ever followed: every step is openat/fstatat with O_NOFOLLOW.
#pragma once

#include "rootfs/elf_index.hpp"

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
  std::uint64_t indexed = 0;         ///< Files listed in the carried ELF index.
};

/// An ELF index to carry over a copy: a copy has new inodes and ctimes, so the source's
/// index matches none of its files. Each regular file @p from lists (unchanged since) is
/// appended to the index at @p to as its copy stands when the copy is done.
struct ElfIndexCarry {
  const ElfIndex& from;
  std::filesystem::path to;
};

/// Copies the directory @p from to @p to, which must not exist (its parent must) or be
/// an empty directory (a mount point): its mode, owner and times become @p from's. On
/// failure what was copied so far stays: the caller removes @p to (delete_tree). With
/// @p carry, the copies of the files its index lists are listed in its `to` (not synced:
/// the caller syncs it with what it publishes).
/// @throws Error (errno) naming the entry; not_found when @p from is missing.
TreeCopyStats copy_tree(const std::filesystem::path& from, const std::filesystem::path& to,
                        const ElfIndexCarry* carry = nullptr);

}  // namespace detail
}  // namespace v0
}  // namespace knast
