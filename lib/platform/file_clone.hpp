// Copying one file's content into another as cheaply as the file system allows: sharing
// blocks (a reflink) where it can, an in-kernel copy where it cannot, read/write last.
// Answered by lib/platform/<os>/file_clone_<os>.cpp.
#pragma once

#include <cstdint>

namespace knast::platform {

/// How clone_file_contents() copied.
enum class CloneMethod {
  reflink,     ///< Blocks shared (Linux FICLONE on btrfs, xfs, bcachefs...).
  copy_range,  ///< copy_file_range(2): in the kernel, no user-space buffer.
  read_write,  ///< A plain read/write loop.
};

/// Copies the @p size bytes of the file open for reading as @p from into the empty file
/// open for writing as @p to. Both offsets must be 0.
/// @throws Error (errno) naming the step that failed; the caller adds the file names.
CloneMethod clone_file_contents(int from, int to, std::uint64_t size);

/// The portable fallback of clone_file_contents(): read(2) and write(2) of the bytes
/// from the current offsets on, with short writes and EINTR retried.
void copy_file_by_read_write(int from, int to, std::uint64_t size);

}  // namespace knast::platform
