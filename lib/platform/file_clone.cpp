// The portable half of file_clone.hpp: the read/write loop every OS falls back to.
#include "platform/file_clone.hpp"

#include <knast/error.hpp>

#include <unistd.h>

#include <cerrno>
#include <vector>

namespace knast::platform {

void copy_file_by_read_write(int from, int to, std::uint64_t size) {
  std::vector<char> buffer(std::size_t{1} << 17);
  std::uint64_t left = size;
  while (left > 0) {
    const ssize_t got = ::read(from, buffer.data(), buffer.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      throw Error(errno, "copy file: read");
    }
    if (got == 0) break;  // the file shrank: copy what there is, as cp does
    for (ssize_t put = 0; put < got;) {
      const ssize_t n = ::write(to, buffer.data() + put, static_cast<std::size_t>(got - put));
      if (n < 0) {
        if (errno == EINTR) continue;
        throw Error(errno, "copy file: write");
      }
      put += n;
    }
    left -= left < static_cast<std::uint64_t>(got) ? left : static_cast<std::uint64_t>(got);
  }
}

}  // namespace knast::platform
