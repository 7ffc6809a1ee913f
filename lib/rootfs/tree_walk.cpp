#include "rootfs/tree_walk.hpp"

#include "core/unique_fd.hpp"

#include <knast/error.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace detail {

std::vector<std::string> list_names(int dir_fd, const std::filesystem::path& path) {
  // A new open file description of the same directory (dup would share the caller's
  // offset): fdopendir takes it over and closedir() closes it.
  UniqueFd copy(::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  DIR* stream = copy ? ::fdopendir(copy.get()) : nullptr;
  if (stream == nullptr) throw Error(errno, "read directory " + path.string());
  copy.release();
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(stream)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int err = errno;
  ::closedir(stream);
  if (err != 0) throw Error(err, "read directory " + path.string());
  return names;
}

std::vector<std::string> list_names_sorted(const std::filesystem::path& dir) {
  const UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) throw Error(errno, "open directory " + dir.string());
  std::vector<std::string> names = list_names(fd.get(), dir);
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<struct stat> lstat_if_exists(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return st;
  if (errno == ENOENT) return std::nullopt;
  throw Error(errno, "stat " + path.string());
}

std::string read_link(const std::filesystem::path& path) {
  std::string target(256, '\0');
  for (;;) {
    const ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
    if (n < 0) throw Error(errno, "read link " + path.string());
    if (static_cast<std::size_t>(n) < target.size()) {
      target.resize(static_cast<std::size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);
  }
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
