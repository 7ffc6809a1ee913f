// Linux: openat2(2) for confined resolution, xattr(7), mknodat(2) with makedev(3).
#include "platform/fs.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <string>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace knast::platform {
namespace {

// Cleared the first time the kernel (older than 5.6) or a seccomp filter (container
// runtimes often answer EPERM or ENOSYS for syscalls they do not know) refuses openat2.
std::atomic<bool> openat2_usable{true};

}  // namespace

FastResolve open_dir_in_root_fast(int root_fd, const char* path, int& fd) noexcept {
  if (!openat2_usable.load(std::memory_order_relaxed)) return FastResolve::fall_back;
  open_how how{};
  how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  // RESOLVE_IN_ROOT: ".." and absolute symlinks stay at root_fd (chroot semantics).
  // RESOLVE_NO_MAGICLINKS: a /proc/self/fd/N style link is never a way out.
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const long result = ::syscall(SYS_openat2, root_fd, path, &how, sizeof how);
  if (result >= 0) {
    fd = static_cast<int>(result);
    return FastResolve::opened;
  }
  if (errno == ENOSYS || errno == EPERM) openat2_usable.store(false, std::memory_order_relaxed);
  // Anything else (missing, not a directory, a loop, EAGAIN after a concurrent rename):
  // the portable walk gives the definitive answer and the precise message.
  return FastResolve::fall_back;
}

std::string_view in_root_mechanism() noexcept { return "openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS)"; }

bool has_fast_in_root() noexcept {
  if (!openat2_usable.load(std::memory_order_relaxed)) return false;
  int fd = -1;
  // Probe with "." under the root directory: succeeds wherever openat2 is allowed.
  const int root = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return false;
  const bool ok = open_dir_in_root_fast(root, ".", fd) == FastResolve::opened;
  if (ok) ::close(fd);
  ::close(root);
  return ok;
}

int set_xattr_fd(int fd, std::string_view name, std::span<const std::byte> value) noexcept {
  const std::string key(name);
  return ::fsetxattr(fd, key.c_str(), value.data(), value.size(), 0) == 0 ? 0 : errno;
}

int set_xattr_nofollow(int dir_fd, const char* entry, std::string_view name, std::span<const std::byte> value) noexcept {
  // There is no lsetxattrat(2) before Linux 6.13 (and no glibc wrapper for it): name the
  // entry through the directory's descriptor. /proc/self/fd/N is the directory already
  // opened inside the root, and lsetxattr does not follow the entry itself.
  char path[64 + 256];
  const int n = std::snprintf(path, sizeof path, "/proc/self/fd/%d/%s", dir_fd, entry);
  if (n < 0 || static_cast<std::size_t>(n) >= sizeof path) return ENAMETOOLONG;
  const std::string key(name);
  return ::lsetxattr(path, key.c_str(), value.data(), value.size(), 0) == 0 ? 0 : errno;
}

int make_device_at(int dir_fd, const char* entry, mode_t type_and_mode, std::uint32_t major,
                   std::uint32_t minor) noexcept {
  return ::mknodat(dir_fd, entry, type_and_mode, ::makedev(major, minor)) == 0 ? 0 : errno;
}

void start_writeback(int fd, std::uint64_t offset, std::uint64_t length) noexcept {
  // Queues the writes and returns; it blocks only while the device's queue is full.
  (void)::sync_file_range(fd, static_cast<off64_t>(offset), static_cast<off64_t>(length), SYNC_FILE_RANGE_WRITE);
}

int no_atime_open_flag() noexcept { return O_NOATIME; }

int nofollow_symlink_errno() noexcept { return ELOOP; }

}  // namespace knast::platform
