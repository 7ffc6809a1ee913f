// UniqueFd: the one owner of a file descriptor. Every descriptor knast opens is held by
// one from the moment it exists, so no throw between open() and close() can leak it, and
// a flock(2) taken on it lasts exactly as long as the object.
#pragma once

#include <unistd.h>

namespace knast {
inline namespace v0 {
namespace detail {

/// Owns a file descriptor and closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  /// Takes ownership of @p fd (-1 for none).
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd() { reset(); }
  /// Descriptors move but do not copy.
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  /// Closes the current descriptor and takes @p other's.
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  /// The descriptor, still owned.
  int get() const noexcept { return fd_; }
  /// Whether a descriptor is held.
  explicit operator bool() const noexcept { return fd_ >= 0; }
  /// Gives up ownership and returns the descriptor.
  int release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  /// Closes the current descriptor (if any) and holds @p fd instead. close(2) errors are
  /// ignored on purpose: data that matters was fsync'ed before, and retrying close after
  /// EINTR could close a descriptor another thread just got.
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace detail
}  // namespace v0
}  // namespace knast
