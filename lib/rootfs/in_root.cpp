#include "rootfs/in_root.hpp"

#include "core/text.hpp"
#include "platform/fs.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <deque>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

constexpr int dir_open_flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;

// Calls @p fn for each non-empty component of @p path, in order.
template <typename F>
void for_each_component(std::string_view path, F&& fn) {
  while (!path.empty()) {
    const auto slash = path.find('/');
    const auto component = path.substr(0, slash);
    if (!component.empty()) fn(component);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
}

std::string read_link_at(int dir_fd, const std::string& name, std::string_view resolving) {
  std::string target(256, '\0');
  for (;;) {
    const auto n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
    if (n < 0)
      throw Error(errno, fmt::format("read the symbolic link {} while resolving {} inside the root",
                                     quote_untrusted(name), quote_untrusted(resolving)));
    if (static_cast<std::size_t>(n) < target.size()) {
      target.resize(static_cast<std::size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);
  }
}

UniqueFd reopen_directory(int fd) {
  UniqueFd copy(::openat(fd, ".", dir_open_flags));
  if (!copy) throw Error(errno, "open the root directory");
  return copy;
}

// One resolution: a stack of open directories from the root down (the root itself is
// not on it), and the components still to walk, symlink targets spliced in front.
class Walk {
 public:
  Walk(int root_fd, std::string_view path, MissingDirs missing, const CreatedDirFn& created)
      : root_fd_(root_fd), path_(path), missing_(missing), created_(created) {
    for_each_component(path, [&](std::string_view c) { pending_.emplace_back(c); });
  }

  UniqueFd run() {
    while (!pending_.empty()) {
      std::string name = std::move(pending_.front());
      pending_.pop_front();
      if (name == ".") continue;
      if (name == "..") {
        if (!stack_.empty()) stack_.pop_back();  // ".." of the root is the root
        continue;
      }
      if (!step(name)) return {};
    }
    return stack_.empty() ? reopen_directory(root_fd_) : std::move(stack_.back());
  }

 private:
  int current() const noexcept { return stack_.empty() ? root_fd_ : stack_.back().get(); }

  // Enters @p name; false when it is missing (or not a directory) and that is fine.
  bool step(const std::string& name) {
    for (int attempt = 0;; ++attempt) {
      UniqueFd next(::openat(current(), name.c_str(), dir_open_flags | O_NOFOLLOW));
      if (next) {
        stack_.push_back(std::move(next));
        return true;
      }
      const int err = errno;
      if (err == ENOENT) {
        if (missing_ == MissingDirs::absent_ok) return false;
        if (missing_ == MissingDirs::fail)
          throw Error(ErrorCode::not_found, fmt::format("{} does not exist inside the root (resolving {})",
                                                        quote_untrusted(name), quote_untrusted(path_)));
        if (::mkdirat(current(), name.c_str(), 0755) == 0) {
          if (created_) created_(current(), name);
        } else if (errno != EEXIST || attempt > 2) {
          throw Error(errno, fmt::format("create the directory {} while resolving {} inside the root",
                                         quote_untrusted(name), quote_untrusted(path_)));
        }
        continue;  // open what now exists
      }
      struct stat st {};
      if (::fstatat(current(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        throw Error(errno, fmt::format("look at {} while resolving {} inside the root", quote_untrusted(name),
                                       quote_untrusted(path_)));
      if (S_ISLNK(st.st_mode)) {
        follow(name);
        return true;
      }
      if (S_ISDIR(st.st_mode))
        throw Error(err, fmt::format("open the directory {} while resolving {} inside the root",
                                     quote_untrusted(name), quote_untrusted(path_)));
      if (missing_ == MissingDirs::absent_ok) return false;
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{} is not a directory inside the root (resolving {})", quote_untrusted(name),
                              quote_untrusted(path_)));
    }
  }

  // Splices the target of the link @p name in front of what is left to walk.
  void follow(const std::string& name) {
    if (++links_ > max_symlinks_followed)
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("more than {} symbolic links (a loop?) while resolving {} inside the root",
                              max_symlinks_followed, quote_untrusted(path_)));
    const std::string target = read_link_at(current(), name, path_);
    if (target.starts_with('/')) stack_.clear();  // absolute: from the root, not the host's /
    std::vector<std::string> parts;
    for_each_component(target, [&](std::string_view c) { parts.emplace_back(c); });
    pending_.insert(pending_.begin(), parts.begin(), parts.end());
  }

  int root_fd_;
  std::string_view path_;
  MissingDirs missing_;
  const CreatedDirFn& created_;
  std::vector<UniqueFd> stack_;
  std::deque<std::string> pending_;
  int links_ = 0;
};

}  // namespace

std::optional<std::string> clean_layer_path(std::string_view name) {
  std::vector<std::string_view> parts;
  bool escapes = false;
  for_each_component(name, [&](std::string_view c) {
    if (c == ".") return;
    if (c == "..") {
      if (parts.empty()) escapes = true;
      else parts.pop_back();
      return;
    }
    parts.push_back(c);
  });
  if (escapes) return std::nullopt;
  std::string out;
  for (const auto part : parts) {
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

std::pair<std::string_view, std::string_view> split_parent(std::string_view clean) noexcept {
  const auto slash = clean.rfind('/');
  if (slash == std::string_view::npos) return {std::string_view{}, clean};
  return {clean.substr(0, slash), clean.substr(slash + 1)};
}

UniqueFd walk_dir_in_root(int root_fd, std::string_view path, MissingDirs missing, const CreatedDirFn& created) {
  return Walk(root_fd, path, missing, created).run();
}

UniqueFd open_dir_in_root(int root_fd, std::string_view path, MissingDirs missing, const CreatedDirFn& created) {
  if (path.empty()) return reopen_directory(root_fd);
  int fd = -1;
  const std::string c_path(path);
  if (platform::open_dir_in_root_fast(root_fd, c_path.c_str(), fd) == platform::FastResolve::opened)
    return UniqueFd(fd);
  return walk_dir_in_root(root_fd, path, missing, created);
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
