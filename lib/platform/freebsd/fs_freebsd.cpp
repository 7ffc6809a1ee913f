// FreeBSD: O_RESOLVE_BENEATH for confined resolution (13.0 and later), extattr(2) for
// extended attributes, mknodat(2).
#include "platform/fs.hpp"
#include "platform/freebsd/extattr_names_freebsd.hpp"

#include <sys/param.h>
#include <sys/types.h>
#include <sys/extattr.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>

#include <fcntl.h>
#include <unistd.h>

namespace knast::platform {
namespace {

// O_RESOLVE_BENEATH arrived in 13.0 (r366022). An older kernel ignores an open flag it
// does not know, which would let an absolute symlink lead out of the root: only trust
// the flag on a 13.0-RELEASE or later kernel.
constexpr int first_osreldate_with_resolve_beneath = 1300139;

bool resolve_beneath_usable() noexcept {
  static const bool usable = ::getosreldate() >= first_osreldate_with_resolve_beneath;
  return usable;
}

}  // namespace

FastResolve open_dir_in_root_fast(int root_fd, const char* path, int& fd) noexcept {
  if (!resolve_beneath_usable()) return FastResolve::fall_back;
  // Beneath (not in-root): ".." above root_fd and absolute symlinks fail with
  // ENOTCAPABLE instead of clamping; every other resolution is exactly what chroot
  // semantics give, so a success is the answer and any failure falls back to the walk.
  const int result = ::openat(root_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_RESOLVE_BENEATH);
  if (result >= 0) {
    fd = result;
    return FastResolve::opened;
  }
  return FastResolve::fall_back;
}

std::string_view in_root_mechanism() noexcept { return "O_RESOLVE_BENEATH"; }

bool has_fast_in_root() noexcept { return resolve_beneath_usable(); }

int set_xattr_fd(int fd, std::string_view name, std::span<const std::byte> value) noexcept {
  const auto attr = freebsd::split_extattr_name(name);
  if (!attr) return EOPNOTSUPP;
  return ::extattr_set_fd(fd, attr->namespace_id, attr->name.c_str(), value.data(), value.size()) >= 0 ? 0 : errno;
}

int set_xattr_nofollow(int, const char*, std::string_view, std::span<const std::byte>) noexcept {
  // extattr_set_link(2) takes a path and FreeBSD has no *at() variant: naming the entry
  // by a path would resolve it outside our descriptors. Not restored (counted).
  return EOPNOTSUPP;
}

int make_device_at(int dir_fd, const char* entry, mode_t type_and_mode, std::uint32_t major,
                   std::uint32_t minor) noexcept {
  return ::mknodat(dir_fd, entry, type_and_mode, ::makedev(major, minor)) == 0 ? 0 : errno;
}

// sync_file_range(2) has no FreeBSD counterpart (aio_fsync(2) would need an aiocb kept
// alive per range, and the fsync that follows waits for all of it anyway).
void start_writeback(int, std::uint64_t, std::uint64_t) noexcept {}

int no_atime_open_flag() noexcept { return 0; }

int nofollow_symlink_errno() noexcept { return EMLINK; }

}  // namespace knast::platform
