// Private: the one recursive removal of the Rootfs component. Unpacked roots hold links
// such as dev/stdin -> /proc/self/fd/0 and may hold hostile ones (etc -> /): removing a
// tree must never follow one, and must work on trees whose modes forbid writing (0555
// directories, 0000 files), as layers make them.
#pragma once

#include <filesystem>
#include <string>

namespace knast {
inline namespace v0 {
namespace detail {

/// Removes @p path and, if it is a directory, everything under it. Every step is
/// relative to an open directory descriptor (openat/unlinkat with O_NOFOLLOW), so a
/// symlink anywhere in the tree — @p path itself included — is removed, never followed.
/// Directories that deny writing or searching are opened up (chmod 0700) first. The
/// components of @p path above its last one are trusted (they are knast's own folders).
/// Returns false when @p path did not exist.
/// @throws Error (errno) naming the entry that could not be removed. Mount points inside
/// the tree are not detected: unmount before removing.
bool delete_tree(const std::filesystem::path& path);

/// As delete_tree(), for the entry @p name of the open directory @p dir_fd (a name from a
/// layer: errors quote it as untrusted text). Returns false when there was no such entry.
bool delete_tree_at(int dir_fd, const std::string& name);

}  // namespace detail
}  // namespace v0
}  // namespace knast
