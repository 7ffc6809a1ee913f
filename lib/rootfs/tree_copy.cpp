#include "rootfs/tree_copy.hpp"

#include "core/unique_fd.hpp"
#include "platform/file_clone.hpp"
#include "platform/xattr.hpp"
#include "rootfs/tree_walk.hpp"

#include <knast/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

namespace fs = std::filesystem;

constexpr int dir_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

/// One directory being copied: descriptors and paths of both sides.
struct DirPair {
  int from;
  int to;
  const fs::path& from_path;
  const fs::path& to_path;
};

class TreeCopier {
 public:
  explicit TreeCopier(const ElfIndexCarry* carry) : carry_(carry) {}

  TreeCopyStats copy(const fs::path& from, const fs::path& to) {
    struct stat st {};
    if (::lstat(from.c_str(), &st) != 0) throw Error(errno, "copy tree " + from.string());
    if (!S_ISDIR(st.st_mode)) throw Error(ENOTDIR, "copy tree " + from.string());
    if (::mkdir(to.c_str(), 0700) != 0) {
      // An empty directory may stand there already: a mount point, a caller's folder.
      const int err = errno;
      const auto existing = lstat_if_exists(to);
      const bool empty_dir = err == EEXIST && existing && S_ISDIR(existing->st_mode) && list_names_sorted(to).empty();
      if (!empty_dir) throw Error(err == EEXIST ? ENOTEMPTY : err, "copy tree: create " + to.string());
    }
    ++stats_.entries;
    const UniqueFd src(::open(from.c_str(), dir_flags));
    if (!src) throw Error(errno, "copy tree: open " + from.string());
    const UniqueFd dst(::open(to.c_str(), dir_flags));
    if (!dst) throw Error(errno, "copy tree: open " + to.string());
    copy_contents({src.get(), dst.get(), from, to});
    finish(dst.get(), to, st, from);
    flush_index();
    return stats_;
  }

 private:
  void copy_contents(const DirPair& dirs) {
    for (const std::string& name : list_names(dirs.from, dirs.from_path)) {
      struct stat st {};
      const fs::path from_path = dirs.from_path / name;
      const fs::path to_path = dirs.to_path / name;
      if (::fstatat(dirs.from, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        throw Error(errno, "copy tree: stat " + from_path.string());
      if (S_ISSOCK(st.st_mode)) continue;
      if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 && link_again(dirs.to, name, st, to_path)) continue;
      if (S_ISDIR(st.st_mode)) {
        copy_directory(dirs, name, st, from_path, to_path);
      } else if (S_ISREG(st.st_mode)) {
        copy_file(dirs, name, st, from_path, to_path);
      } else if (S_ISLNK(st.st_mode)) {
        copy_symlink(dirs, name, st, from_path, to_path);
      } else {
        copy_special(dirs, name, st, from_path, to_path);
      }
      ++stats_.entries;
      if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) first_links_.emplace(std::pair(st.st_dev, st.st_ino), to_path);
    }
  }

  /// A hardlink to an inode already copied: link to the copy. False on its first sight.
  bool link_again(int to_dir, const std::string& name, const struct stat& st, const fs::path& to_path) {
    const auto it = first_links_.find(std::pair(st.st_dev, st.st_ino));
    if (it == first_links_.end()) return false;
    if (::linkat(AT_FDCWD, it->second.c_str(), to_dir, name.c_str(), 0) != 0)
      throw Error(errno, "copy tree: link " + to_path.string() + " to " + it->second.string());
    ++stats_.entries;
    if (const auto content = listed_as(st)) {  // only regular files are listed
      // The link moved the copy's ctime: list it again as it is now.
      struct stat copy{};
      if (::fstatat(to_dir, name.c_str(), &copy, AT_SYMLINK_NOFOLLOW) != 0)
        throw Error(errno, "copy tree: stat " + to_path.string());
      list_copy(copy, *content);
    }
    return true;
  }

  void copy_directory(const DirPair& dirs, const std::string& name, const struct stat& st, const fs::path& from_path,
                      const fs::path& to_path) {
    if (::mkdirat(dirs.to, name.c_str(), 0700) != 0) throw Error(errno, "copy tree: create " + to_path.string());
    const UniqueFd src(::openat(dirs.from, name.c_str(), dir_flags));
    if (!src) throw Error(errno, "copy tree: open " + from_path.string());
    const UniqueFd dst(::openat(dirs.to, name.c_str(), dir_flags));
    if (!dst) throw Error(errno, "copy tree: open " + to_path.string());
    copy_contents({src.get(), dst.get(), from_path, to_path});
    finish(dst.get(), to_path, st, from_path);
  }

  void copy_file(const DirPair& dirs, const std::string& name, const struct stat& st, const fs::path& from_path,
                 const fs::path& to_path) {
    const UniqueFd src(::openat(dirs.from, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!src) throw Error(errno, "copy tree: open " + from_path.string());
    const UniqueFd dst(::openat(dirs.to, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!dst) throw Error(errno, "copy tree: create " + to_path.string());
    try {
      const auto size = static_cast<std::uint64_t>(st.st_size);
      if (platform::clone_file_contents(src.get(), dst.get(), size) == platform::CloneMethod::reflink) ++stats_.reflinked;
      stats_.bytes += size;
    } catch (const Error& e) {
      throw e.with_context("copy tree: " + from_path.string() + " to " + to_path.string());
    }
    finish(dst.get(), to_path, st, from_path);
    if (const auto content = listed_as(st)) {
      struct stat copy{};
      if (::fstat(dst.get(), &copy) != 0) throw Error(errno, "copy tree: stat " + to_path.string());
      list_copy(copy, *content);
    }
  }

  // What the carried index says of the source file @p st as it is: unset when there is
  // no index or it does not list the file.
  std::optional<IndexedContent> listed_as(const struct stat& st) const {
    return carry_ == nullptr ? std::nullopt : carry_->from.look_up(st);
  }

  // Lists the copy @p copy, whose content is @p content (the source's: a copy's bytes are its source's).
  void list_copy(const struct stat& copy, const IndexedContent& content) {
    index_entries_.push_back({identity_of(copy), content});
    ++stats_.indexed;
    if (index_entries_.size() >= elf_index_batch) flush_index();
  }

  void flush_index() {
    if (carry_ == nullptr) return;
    append_elf_index(carry_->to, index_entries_);
    index_entries_.clear();
  }

  void copy_symlink(const DirPair& dirs, const std::string& name, const struct stat& st, const fs::path& from_path,
                    const fs::path& to_path) {
    std::string target(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 0) + 1, '\0');
    for (;;) {
      const ssize_t n = ::readlinkat(dirs.from, name.c_str(), target.data(), target.size());
      if (n < 0) throw Error(errno, "copy tree: read link " + from_path.string());
      if (static_cast<std::size_t>(n) < target.size()) {
        target.resize(static_cast<std::size_t>(n));
        break;
      }
      target.resize(target.size() * 2);
    }
    if (::symlinkat(target.c_str(), dirs.to, name.c_str()) != 0)
      throw Error(errno, "copy tree: create link " + to_path.string());
    finish_at(dirs.to, name, to_path, st, from_path);
  }

  void copy_special(const DirPair& dirs, const std::string& name, const struct stat& st, const fs::path& from_path,
                    const fs::path& to_path) {
    if (::mknodat(dirs.to, name.c_str(), (st.st_mode & S_IFMT) | 0600, st.st_rdev) != 0)
      throw Error(errno, "copy tree: create node " + to_path.string());
    finish_at(dirs.to, name, to_path, st, from_path);
  }

  void copy_xattrs(const fs::path& from_path, const fs::path& to_path) {
    for (const auto& attribute : platform::read_xattrs(from_path))
      if (!platform::write_xattr(to_path, attribute)) ++stats_.skipped_xattrs;
  }

  /// Owner, attributes, mode and times of a file or directory open as @p fd, in the order
  /// that keeps each: chown clears setuid and capabilities, so it goes first.
  void finish(int fd, const fs::path& to_path, const struct stat& st, const fs::path& from_path) {
    if (root_ && ::fchown(fd, st.st_uid, st.st_gid) != 0) throw Error(errno, "copy tree: chown " + to_path.string());
    copy_xattrs(from_path, to_path);
    if (::fchmod(fd, st.st_mode & 07777) != 0) throw Error(errno, "copy tree: chmod " + to_path.string());
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::futimens(fd, times) != 0) throw Error(errno, "copy tree: set times of " + to_path.string());
  }

  /// finish() for what cannot be opened: symlinks and device nodes.
  void finish_at(int dir, const std::string& name, const fs::path& to_path, const struct stat& st,
                 const fs::path& from_path) {
    if (root_ && ::fchownat(dir, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0)
      throw Error(errno, "copy tree: chown " + to_path.string());
    copy_xattrs(from_path, to_path);
    if (!S_ISLNK(st.st_mode) && ::fchmodat(dir, name.c_str(), st.st_mode & 07777, 0) != 0)
      throw Error(errno, "copy tree: chmod " + to_path.string());
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::utimensat(dir, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
      throw Error(errno, "copy tree: set times of " + to_path.string());
  }

  const bool root_ = ::geteuid() == 0;
  const ElfIndexCarry* carry_;
  std::vector<ElfIndexEntry> index_entries_;
  TreeCopyStats stats_;
  std::map<std::pair<dev_t, ino_t>, fs::path> first_links_;
};

}  // namespace

TreeCopyStats copy_tree(const fs::path& from, const fs::path& to, const ElfIndexCarry* carry) {
  return TreeCopier(carry).copy(from, to);
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
