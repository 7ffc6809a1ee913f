// Linux: FICLONE shares the blocks on file systems with reflinks (btrfs, xfs, bcachefs);
// elsewhere copy_file_range(2) copies in the kernel (ext4, tmpfs, overlay, NFS server-side).
#include "platform/file_clone.hpp"

#include <knast/error.hpp>

#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

namespace knast::platform {
namespace {

/// Errors that mean "this file system (pair) cannot do that here", not a real failure.
bool not_supported_here(int err) noexcept {
  return err == EOPNOTSUPP || err == ENOTTY || err == EXDEV || err == EINVAL || err == ENOSYS || err == EPERM;
}

/// copy_file_range until @p size bytes are copied; false if the kernel refused at once.
bool copy_with_copy_file_range(int from, int to, std::uint64_t size) {
  std::uint64_t left = size;
  bool first = true;
  while (left > 0) {
    const std::size_t chunk = left > (std::uint64_t{1} << 30) ? std::size_t{1} << 30 : static_cast<std::size_t>(left);
    const ssize_t n = ::copy_file_range(from, nullptr, to, nullptr, chunk, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (first && not_supported_here(errno)) return false;
      throw Error(errno, "copy file: copy_file_range");
    }
    if (n == 0) break;  // the source shrank
    left -= static_cast<std::uint64_t>(n);
    first = false;
  }
  return true;
}

}  // namespace

CloneMethod clone_file_contents(int from, int to, std::uint64_t size) {
  if (size == 0) return CloneMethod::reflink;
  if (::ioctl(to, FICLONE, from) == 0) return CloneMethod::reflink;
  if (!not_supported_here(errno)) throw Error(errno, "copy file: FICLONE");
  if (copy_with_copy_file_range(from, to, size)) return CloneMethod::copy_range;
  copy_file_by_read_write(from, to, size);
  return CloneMethod::read_write;
}

}  // namespace knast::platform
