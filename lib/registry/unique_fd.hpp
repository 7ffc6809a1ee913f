/// @file unique_fd.hpp
/// @brief Private: move-only owners of a file descriptor and of a temporary file path.
#pragma once

#include <string>
#include <utility>

#include <unistd.h>

namespace knast {
inline namespace v0 {
namespace registry_detail {

/// Owns a file descriptor; closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  /// Takes ownership of @p fd (may be -1).
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  /// Gives up ownership.
  int release() noexcept { return std::exchange(fd_, -1); }
  /// Closes the descriptor held, if any, and holds @p fd instead.
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);  // nothing useful to do about a failed close here
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

/// Unlinks a temporary file on destruction unless release() was called.
class TempFileGuard {
 public:
  explicit TempFileGuard(std::string path) : path_(std::move(path)) {}
  ~TempFileGuard() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  /// The file is kept (it was renamed into place).
  void release() noexcept { path_.clear(); }

 private:
  std::string path_;
};

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
