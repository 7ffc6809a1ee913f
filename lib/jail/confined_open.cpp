#include "jail/confined_open.hpp"

#include "core/text.hpp"
#include "image_store/posix_io.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <system_error>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

// O_NOFOLLOW on a symbolic link fails with ELOOP on Linux and EMLINK on FreeBSD (open(2));
// with O_DIRECTORY as well, Linux says ENOTDIR, so that case is told apart by lstat.
bool is_symlink_refusal(int error, int dir, const fs::path& name) noexcept {
  if (error == ELOOP || error == EMLINK) return true;
  struct stat st {};
  return error == ENOTDIR && ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

[[noreturn]] void throw_open_error(int error, bool symlink, const fs::path& root, const fs::path& so_far) {
  const auto where = (root / so_far).string();
  if (symlink)
    throw Error(ErrorCode::unsupported,
                fmt::format("open {} inside the image root: {} is a symbolic link, and knast does not follow links "
                            "inside an image when reading it from the host",
                            quote_untrusted(so_far.string()), quote_untrusted(where)));
  throw Error(error, fmt::format("open {}: {}", quote_untrusted(where), std::generic_category().message(error)));
}

}  // namespace

UniqueFd open_in_root(const fs::path& root, const fs::path& relative) {
  UniqueFd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir)
    throw Error(errno, fmt::format("open image root {}: {}", root.string(), std::generic_category().message(errno)));
  std::vector<fs::path> parts;
  for (const auto& part : relative.relative_path()) {
    if (part == "..")
      throw Error(ErrorCode::invalid_argument, fmt::format("open {} inside the image root: \"..\" is not allowed",
                                                           quote_untrusted(relative.string())));
    if (!part.empty() && part != ".") parts.push_back(part);
  }
  fs::path so_far;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    so_far /= parts[i];
    const bool last = i + 1 == parts.size();
    // O_NONBLOCK: a FIFO planted as etc/passwd must not hang the open; the caller checks
    // the file type on the descriptor afterwards.
    const int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? O_NONBLOCK : O_DIRECTORY);
    UniqueFd next(::openat(dir.get(), parts[i].c_str(), flags));
    if (!next) {
      const int error = errno;
      const bool symlink = is_symlink_refusal(error, dir.get(), parts[i]);
      if (!symlink && (error == ENOENT || error == ENOTDIR)) return {};
      throw_open_error(error, symlink, root, so_far);
    }
    dir = std::move(next);
  }
  return dir;
}

std::optional<std::string> read_file_in_root(const fs::path& root, const fs::path& relative, std::size_t max_bytes) {
  const UniqueFd fd = open_in_root(root, relative);
  if (!fd) return std::nullopt;
  struct stat st {};
  const auto path = root / relative.relative_path();
  if (::fstat(fd.get(), &st) != 0)
    throw Error(errno,
                fmt::format("stat {}: {}", quote_untrusted(path.string()), std::generic_category().message(errno)));
  if (!S_ISREG(st.st_mode))
    throw Error(ErrorCode::invalid_argument,
                fmt::format("read {} from the image: not a regular file", quote_untrusted(path.string())));
  return read_all(fd, max_bytes, path);
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
