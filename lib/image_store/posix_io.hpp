// Small POSIX file helpers for the store: every failure becomes a knast::Error that keeps
// errno (so ENOSPC reads as limit_exceeded) and names the file. Only calls POSIX has
// (open, flock, fsync, rename, link), so this compiles unchanged on Linux and FreeBSD.
#pragma once

#include "core/unique_fd.hpp"

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace detail {

namespace fs = std::filesystem;

/// Opens @p path with @p flags (O_CLOEXEC is added). @throws Error with errno.
UniqueFd open_file(const fs::path& path, int flags, mode_t mode = 0644);
/// As open_file(), but an absent file gives an empty UniqueFd instead of an error.
UniqueFd open_if_exists(const fs::path& path, int flags);

/// How a lock is shared.
enum class LockKind { shared, exclusive };
/// Opens (creating it if needed) the lock file @p path and takes a flock(2) on it,
/// waiting for it. The lock lives exactly as long as the returned descriptor.
UniqueFd lock_file(const fs::path& path, LockKind kind);
/// Takes a flock(2) on @p fd without waiting: false when someone else holds it.
bool try_lock(const UniqueFd& fd, LockKind kind, const fs::path& path);

/// Writes all @p size bytes (retrying short writes and EINTR).
void write_all(const UniqueFd& fd, const void* data, std::size_t size, const fs::path& path);
/// Reads the whole file, refusing (limit_exceeded) one longer than @p max_bytes.
std::string read_all(const UniqueFd& fd, std::size_t max_bytes, const fs::path& path);
/// Reads at most @p size bytes into @p buffer; 0 at the end of the file.
std::size_t read_some(const UniqueFd& fd, void* buffer, std::size_t size, const fs::path& path);
/// pread(2) of @p size bytes at @p offset into @p buffer, retrying short reads and EINTR;
/// fewer only at the end of the file. @throws Error (errno) "read: ...".
std::size_t read_fully_at(int fd, void* buffer, std::size_t size, std::uint64_t offset);
/// fsync(2).
void sync_file(const UniqueFd& fd, const fs::path& path);
/// fsyncs a directory, making renames and unlinks in it durable.
void sync_directory(const fs::path& dir);
/// Creates directory @p dir if it is missing (its parent must exist); true when created.
bool make_directory(const fs::path& dir);
/// rename(2) then fsync of the target's directory.
void rename_durably(const fs::path& from, const fs::path& to);
/// Removes a file, ignoring one that is already gone; false if it was.
bool remove_file(const fs::path& path);

/// Writes @p bytes to @p temp, fsyncs it and renames it over @p target: readers see the
/// old or the new content, never a mix, whatever moment the process dies at.
void replace_file(const fs::path& target, const fs::path& temp, std::string_view bytes);
/// As replace_file(), but leaves an existing @p target alone (link(2) instead of rename,
/// which refuses to replace): true when this call created it.
bool create_file_once(const fs::path& target, const fs::path& temp, std::string_view bytes);

/// A name no other process or thread of this host picks at the same time:
/// "<pid>-<counter>-<random>".
std::string unique_name();

}  // namespace detail
}  // namespace v0
}  // namespace knast
