#include "rootfs/tree_remove.hpp"

#include "core/text.hpp"
#include "core/unique_fd.hpp"
#include "rootfs/tree_walk.hpp"

#include <knast/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

namespace fs = std::filesystem;

/// Opens the directory @p name in @p parent without following a symlink, granting
/// ourselves access first when its mode refuses it (a non-root caller and a 0555 dir).
UniqueFd open_directory_nofollow(int parent, const char* name, const fs::path& path) {
  constexpr int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  UniqueFd fd(::openat(parent, name, flags));
  if (!fd && errno == EACCES && ::fchmodat(parent, name, 0700, AT_SYMLINK_NOFOLLOW) == 0) fd.reset(::openat(parent, name, flags));
  if (!fd) throw Error(errno, "remove " + path.string() + ": open directory");
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && (st.st_mode & 0700) != 0700) ::fchmod(fd.get(), (st.st_mode & 07777) | 0700);
  return fd;
}

void remove_entry(int parent, const std::string& name, const fs::path& path);

/// Empties the directory open as @p dir.
void remove_contents(int dir, const fs::path& path) {
  for (const std::string& name : list_names(dir, path)) remove_entry(dir, name, path / name);
}

/// Removes @p name in @p parent: a directory after its contents, anything else at once.
void remove_entry(int parent, const std::string& name, const fs::path& path) {
  // Trying unlink first saves a stat per file; EISDIR (Linux) or EPERM (POSIX) says it
  // is a directory. A symlink to a directory is unlinked like any file.
  if (::unlinkat(parent, name.c_str(), 0) == 0 || errno == ENOENT) return;
  if (errno != EISDIR && errno != EPERM) throw Error(errno, "remove " + path.string());
  struct stat st {};
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return;
    throw Error(errno, "remove " + path.string() + ": stat");
  }
  if (!S_ISDIR(st.st_mode)) throw Error(EPERM, "remove " + path.string());
  {
    const UniqueFd dir = open_directory_nofollow(parent, name.c_str(), path);
    remove_contents(dir.get(), path);
  }
  if (::unlinkat(parent, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    throw Error(errno, "remove " + path.string());
}

}  // namespace

bool delete_tree_at(int dir_fd, const std::string& name) {
  struct stat st {};
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    throw Error(errno, "remove " + quote_untrusted(name) + ": stat");
  }
  remove_entry(dir_fd, name, quote_untrusted(name));
  return true;
}

bool delete_tree(const fs::path& path) {
  fs::path absolute = (path.is_absolute() ? path : fs::absolute(path)).lexically_normal();
  if (absolute.filename().empty()) absolute = absolute.parent_path();  // "dir/" names "dir"
  const fs::path parent_path = absolute.parent_path();
  const std::string name = absolute.filename().string();
  if (name.empty() || name == "." || name == "..")
    throw Error(ErrorCode::invalid_argument, "remove " + path.string() + ": not a removable name");
  const UniqueFd parent(::open(parent_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent) {
    if (errno == ENOENT) return false;
    throw Error(errno, "remove " + path.string() + ": open " + parent_path.string());
  }
  struct stat st {};
  if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    throw Error(errno, "remove " + path.string() + ": stat");
  }
  remove_entry(parent.get(), name, absolute);
  return true;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
