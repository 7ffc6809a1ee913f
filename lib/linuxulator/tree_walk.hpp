// A parallel walk over a directory tree that never follows a symlink and never leaves the
// tree's file system: a few threads take directories from a shared stack (depth first,
// holding few descriptors), read them (opening subdirectories with
// openat(O_NOFOLLOW | O_DIRECTORY)) and hand each directory's regular files, by name and
// with the directory's descriptor, to a visitor.
// POSIX only (fdopendir, openat, fstatat), so it is the same code on Linux and FreeBSD.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// A regular file as its directory lists it.
struct WalkFile {
  std::string name;
  /// The inode number the listing shows (d_ino): a hint only, since the entry can change
  /// before the file is opened (and on some file systems differs from what stat shows).
  std::uint64_t inode = 0;
};

/// Receives regular files of one directory: @p dirfd (open while the call lasts), the
/// directory's path relative to the root ("" for the root itself) and some of its
/// regular files (as readdir reported them; the visitor must open them with O_NOFOLLOW,
/// since an entry can change between readdir and open). A directory of many files comes
/// in several calls, each with its share of the files. Called from several threads at
/// once.
using DirectoryVisitor = std::function<void(int dirfd, const std::string& rel_dir, const std::vector<WalkFile>& files)>;
/// Receives a path (relative to the root) the walk could not enter, and why.
using SkipVisitor = std::function<void(const std::string& rel_path, const std::string& reason)>;

/// Walks the tree under the directory @p root_fd with @p threads threads (at least 1).
/// Symlinks, devices, fifos and sockets are not reported; directories on another file
/// system than the root's (mount points) are skipped and reported. The first exception a
/// visitor throws stops the walk and is rethrown here.
void walk_tree(int root_fd, unsigned threads, const DirectoryVisitor& visit, const SkipVisitor& skip);

/// "a/b" from "a" and "b"; "b" from "" and "b".
std::string join_relative(const std::string& dir, const std::string& name);

}  // namespace detail
}  // namespace v0
}  // namespace knast
