#include "image_store/posix_io.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <random>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

[[noreturn]] void throw_errno(std::string_view action, const fs::path& path) {
  const int saved = errno;
  throw Error(saved, fmt::format("{} {}: {}", action, path.string(), std::generic_category().message(saved)));
}

int flock_operation(LockKind kind) { return kind == LockKind::shared ? LOCK_SH : LOCK_EX; }

}  // namespace

UniqueFd open_file(const fs::path& path, int flags, mode_t mode) {
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC, mode));
  if (!fd) throw_errno("open", path);
  return fd;
}

UniqueFd open_if_exists(const fs::path& path, int flags) {
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (!fd && errno != ENOENT) throw_errno("open", path);
  return fd;
}

UniqueFd lock_file(const fs::path& path, LockKind kind) {
  UniqueFd fd = open_file(path, O_RDWR | O_CREAT);
  while (::flock(fd.get(), flock_operation(kind)) != 0)
    if (errno != EINTR) throw_errno("lock", path);
  return fd;
}

bool try_lock(const UniqueFd& fd, LockKind kind, const fs::path& path) {
  while (::flock(fd.get(), flock_operation(kind) | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return false;
    if (errno != EINTR) throw_errno("lock", path);
  }
  return true;
}

void write_all(const UniqueFd& fd, const void* data, std::size_t size, const fs::path& path) {
  const auto* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd.get(), bytes, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("write", path);
    }
    bytes += n;
    size -= static_cast<std::size_t>(n);
  }
}

std::size_t read_some(const UniqueFd& fd, void* buffer, std::size_t size, const fs::path& path) {
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, size);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) throw_errno("read", path);
  }
}

std::size_t read_fully_at(int fd, void* buffer, std::size_t size, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, static_cast<char*>(buffer) + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(errno, std::string("read: ") + std::strerror(errno));
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

std::string read_all(const UniqueFd& fd, std::size_t max_bytes, const fs::path& path) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno("stat", path);
  if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > max_bytes)
    throw Error(ErrorCode::limit_exceeded,
                fmt::format("{} has {} bytes, more than the {} allowed", path.string(), st.st_size, max_bytes));
  // Read to the end rather than trusting st_size: one byte more than allowed is refused.
  std::string bytes(static_cast<std::size_t>(st.st_size) + 1, '\0');
  std::size_t used = 0;
  for (;;) {
    if (used == bytes.size()) {
      if (bytes.size() > max_bytes)
        throw Error(ErrorCode::limit_exceeded, fmt::format("{} grew past the {} bytes allowed", path.string(), max_bytes));
      bytes.resize(std::min(bytes.size() * 2, max_bytes + 1));
    }
    const std::size_t n = read_some(fd, bytes.data() + used, bytes.size() - used, path);
    if (n == 0) break;
    used += n;
  }
  bytes.resize(used);
  return bytes;
}

void sync_file(const UniqueFd& fd, const fs::path& path) {
  while (::fsync(fd.get()) != 0)
    if (errno != EINTR) throw_errno("fsync", path);
}

void sync_directory(const fs::path& dir) {
  const UniqueFd fd = open_file(dir, O_RDONLY | O_DIRECTORY);
  sync_file(fd, dir);
}

bool make_directory(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0755) == 0) return true;
  if (errno != EEXIST) throw_errno("create directory", dir);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) throw_errno("stat", dir);
  if (!S_ISDIR(st.st_mode))
    throw Error(ErrorCode::invalid_argument, fmt::format("{} exists and is not a directory", dir.string()));
  return false;
}

void rename_durably(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) throw_errno(fmt::format("rename {} to", from.string()), to);
  sync_directory(to.parent_path());
}

bool remove_file(const fs::path& path) {
  if (::unlink(path.c_str()) == 0) return true;
  if (errno != ENOENT) throw_errno("remove", path);
  return false;
}

namespace {

void write_temp(const fs::path& temp, std::string_view bytes) {
  const UniqueFd fd = open_file(temp, O_WRONLY | O_CREAT | O_TRUNC);
  write_all(fd, bytes.data(), bytes.size(), temp);
  sync_file(fd, temp);
}

}  // namespace

void replace_file(const fs::path& target, const fs::path& temp, std::string_view bytes) {
  write_temp(temp, bytes);
  rename_durably(temp, target);
}

bool create_file_once(const fs::path& target, const fs::path& temp, std::string_view bytes) {
  write_temp(temp, bytes);
  const bool created = ::link(temp.c_str(), target.c_str()) == 0;
  const int saved = errno;
  remove_file(temp);
  if (!created && saved != EEXIST) {
    errno = saved;
    throw_errno(fmt::format("link {} to", temp.string()), target);
  }
  if (created) sync_directory(target.parent_path());
  return created;
}

std::string unique_name() {
  static std::atomic<std::uint64_t> counter{0};
  // Seeded per call: a forked child shares the parent's counter, never its pid.
  std::random_device random;
  return fmt::format("{}-{}-{:08x}", ::getpid(), counter.fetch_add(1), random());
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
