#include "linuxulator/root_paths.hpp"

#include "core/text.hpp"

#include <knast/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

// Linux answers O_DIRECTORY | O_NOFOLLOW on a symlink with ENOTDIR: look again to say
// which it is.
bool is_symlink_at(int dir, const std::string& name) {
  struct stat st{};
  return ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

[[noreturn]] void refuse_step(const std::string& shown, int err) {
  if (err == ELOOP || err == EMLINK)  // FreeBSD reports a final symlink under O_NOFOLLOW as EMLINK
    throw Error(ErrorCode::invalid_argument,
                "inside the root, " + shown + " is a symlink: refusing to follow it (it could lead outside the root)");
  if (err == ENOTDIR)
    throw Error(ErrorCode::invalid_argument, "inside the root, " + shown + " is not a directory");
  throw Error(err, "open " + shown + " inside the root: " + std::strerror(err));
}

}  // namespace

std::vector<std::string> root_path_components(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t at = 0;
  while (at <= path.size()) {
    const std::size_t slash = std::min(path.find('/', at), path.size());
    const std::string_view part = path.substr(at, slash - at);
    if (part == "." || part == "..")
      throw Error(ErrorCode::invalid_argument, "path " + quote_untrusted(path) + " inside a root has a \".\" or \"..\" component");
    if (!part.empty()) parts.emplace_back(part);
    at = slash + 1;
  }
  if (parts.empty()) throw Error(ErrorCode::invalid_argument, "path " + quote_untrusted(path) + " names no file inside the root");
  return parts;
}

std::string shown_root_path(const std::vector<std::string>& components) {
  std::string shown;
  for (const auto& c : components) shown += '/' + c;
  return shown.empty() ? "/" : shown;
}

UniqueFd open_directory_beneath(int root_fd, const std::vector<std::string>& components, bool create,
                                std::vector<std::string>* created) {
  UniqueFd dir(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  if (!dir) throw Error(errno, std::string("dup of the root descriptor: ") + std::strerror(errno));
  std::vector<std::string> walked;
  for (const auto& name : components) {
    walked.push_back(name);
    const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    UniqueFd next(::openat(dir.get(), name.c_str(), flags));
    if (!next && errno == ENOENT && create) {
      if (::mkdirat(dir.get(), name.c_str(), 0755) != 0 && errno != EEXIST)
        throw Error(errno, "create " + shown_root_path(walked) + " inside the root: " + std::strerror(errno));
      if (created) created->push_back(shown_root_path(walked));
      next = UniqueFd(::openat(dir.get(), name.c_str(), flags));
    }
    if (!next) {
      const int err = errno;
      refuse_step(shown_root_path(walked), err == ENOTDIR && is_symlink_at(dir.get(), name) ? ELOOP : err);
    }
    dir = std::move(next);
  }
  return dir;
}

UniqueFd open_file_beneath(int root_fd, std::string_view rel_path, int flags) {
  std::vector<std::string> parts = root_path_components(rel_path);
  const std::string leaf = parts.back();
  parts.pop_back();
  UniqueFd parent = open_directory_beneath(root_fd, parts, false);
  return UniqueFd(::openat(parent.get(), leaf.c_str(), flags | O_NOFOLLOW | O_CLOEXEC));
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
