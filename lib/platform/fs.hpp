// File-system calls that differ per OS, for applying layers (lib/rootfs): the kernel's
// own confined path resolution, extended attributes and device nodes. Answered by
// lib/platform/<os>/fs_<os>.cpp.
#pragma once

#include <fcntl.h>
#include <sys/types.h>

#include <cerrno>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace knast::platform {

/// What open_dir_in_root_fast() found.
enum class FastResolve {
  opened,       ///< The directory was opened; the descriptor is in the out-parameter.
  fall_back,    ///< The kernel cannot decide here (missing, escaping, no support): walk it.
};

/// Opens the directory @p path (relative, no `..` climbing above the start, no leading
/// `/`) under the directory @p root_fd, resolving every component — symbolic links
/// included — as if @p root_fd were `/`, with the kernel's own confinement: Linux
/// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), FreeBSD O_RESOLVE_BENEATH (which
/// refuses instead of clamping, so escapes fall back to the caller's walk). On success
/// stores a new close-on-exec descriptor in @p fd. Never creates anything.
FastResolve open_dir_in_root_fast(int root_fd, const char* path, int& fd) noexcept;

/// The kernel mechanism open_dir_in_root_fast() uses ("openat2(RESOLVE_IN_ROOT)",
/// "O_RESOLVE_BENEATH", or "none"), for messages and tests.
std::string_view in_root_mechanism() noexcept;

/// Whether open_dir_in_root_fast() can ever answer `opened` on this host (false when the
/// kernel lacks the call or a seccomp filter refuses it).
bool has_fast_in_root() noexcept;

/// Sets the extended attribute @p name (as tar stores it: "user.x", "security.x",
/// "system.x", ...) on the open file @p fd. Returns 0, or the errno when the file
/// system or OS refuses it (ENOTSUP, EPERM, ...): callers count those, not fail.
int set_xattr_fd(int fd, std::string_view name, std::span<const std::byte> value) noexcept;

/// As set_xattr_fd(), for the entry @p entry of the directory @p dir_fd without following
/// it when it is a symbolic link (and without opening it: it may be a FIFO or a device).
int set_xattr_nofollow(int dir_fd, const char* entry, std::string_view name, std::span<const std::byte> value) noexcept;

/// mknodat(2) of a character or block device (@p type_and_mode holds S_IFCHR or S_IFBLK)
/// with the device number made from @p major and @p minor. Returns 0 or the errno.
int make_device_at(int dir_fd, const char* entry, mode_t type_and_mode, std::uint32_t major,
                   std::uint32_t minor) noexcept;

/// Asks the kernel to start writing the dirty pages of bytes [@p offset, @p offset +
/// @p length) of @p fd to disk, without waiting for them, so that a later fsync(2) finds
/// little left to write. A hint: errors are ignored, durability still comes from fsync.
/// Linux sync_file_range(SYNC_FILE_RANGE_WRITE). FreeBSD has no call that starts the
/// writeback of a range without waiting for it, so there it does nothing and the fsync
/// writes everything.
void start_writeback(int fd, std::uint64_t offset, std::uint64_t length) noexcept;

/// The open(2) flag that keeps a read from updating the file's access time: O_NOATIME on
/// Linux (allowed to the file's owner and to CAP_FOWNER; open fails with EPERM otherwise),
/// 0 where no such flag exists (FreeBSD: the mount's atime setting decides).
int no_atime_open_flag() noexcept;

/// openat(2) of @p name with @p flags plus no_atime_open_flag(), retried without it when
/// the kernel refuses it (EPERM: not the owner, no CAP_FOWNER). A descriptor, or -1 with
/// errno set.
inline int openat_without_atime(int dir_fd, const char* name, int flags) noexcept {
  const int fd = ::openat(dir_fd, name, flags | no_atime_open_flag());
  if (fd >= 0 || errno != EPERM || no_atime_open_flag() == 0) return fd;
  return ::openat(dir_fd, name, flags);
}

/// The errno with which open(2) with O_NOFOLLOW refuses a final symbolic link: ELOOP on
/// Linux, EMLINK on FreeBSD.
int nofollow_symlink_errno() noexcept;

}  // namespace knast::platform
