// FreeBSD 13+: copy_file_range(2) copies in the kernel (and, on ZFS with block cloning
// enabled, shares blocks). There is no FICLONE.
#include "platform/file_clone.hpp"

#include <knast/error.hpp>

#include <sys/types.h>
#include <unistd.h>

#include <cerrno>

namespace knast::platform {

CloneMethod clone_file_contents(int from, int to, std::uint64_t size) {
  std::uint64_t left = size;
  bool first = true;
  while (left > 0) {
    const std::size_t chunk = left > (std::uint64_t{1} << 30) ? std::size_t{1} << 30 : static_cast<std::size_t>(left);
    const ssize_t n = ::copy_file_range(from, nullptr, to, nullptr, chunk, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (first && (errno == EINVAL || errno == EOPNOTSUPP || errno == ENOSYS)) {
        copy_file_by_read_write(from, to, size);
        return CloneMethod::read_write;
      }
      throw Error(errno, "copy file: copy_file_range");
    }
    if (n == 0) break;
    left -= static_cast<std::uint64_t>(n);
    first = false;
  }
  return CloneMethod::copy_range;
}

}  // namespace knast::platform
