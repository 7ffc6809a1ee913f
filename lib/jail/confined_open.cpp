#include "jail/confined_open.hpp"

#include "core/text.hpp"
#include "image_store/posix_io.hpp"
#include "rootfs/in_root.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <system_error>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

[[noreturn]] void throw_open_error(int error, const fs::path& root, const fs::path& relative) {
  const auto where = (root / relative).string();
  // O_NOFOLLOW refuses a final symbolic link with ELOOP on Linux and EMLINK on FreeBSD.
  if (error == ELOOP || error == EMLINK)
    throw Error(ErrorCode::unsupported,
                fmt::format("open {} inside the image root: {} is a symbolic link; knast resolves links in the "
                            "directories above a file it reads from an image, but not the file's own",
                            quote_untrusted(relative.string()), quote_untrusted(where)));
  throw Error(error, fmt::format("open {}: {}", quote_untrusted(where), std::generic_category().message(error)));
}

}  // namespace

UniqueFd open_in_root(const fs::path& root, const fs::path& relative) {
  for (const auto& part : relative.relative_path())
    if (part == "..")
      throw Error(ErrorCode::invalid_argument, fmt::format("open {} inside the image root: \"..\" is not allowed",
                                                           quote_untrusted(relative.string())));
  const auto clean = clean_layer_path(relative.string());
  if (!clean || clean->empty())
    throw Error(ErrorCode::invalid_argument,
                fmt::format("open {} inside the image root: not a file's path", quote_untrusted(relative.string())));
  UniqueFd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd)
    throw Error(errno, fmt::format("open image root {}: {}", root.string(), std::generic_category().message(errno)));
  // The directories resolve as they would inside the container (etc -> usr/etc works,
  // and no link leads outside the root); see lib/rootfs/in_root.hpp.
  const auto [parent, leaf] = split_parent(*clean);
  UniqueFd dir;
  try {
    dir = open_dir_in_root(root_fd.get(), parent, MissingDirs::absent_ok);
  } catch (const Error& e) {
    throw e.with_context(fmt::format("open {} inside the image root", quote_untrusted(*clean)));
  }
  if (!dir) return {};
  // O_NONBLOCK: a FIFO planted as etc/passwd must not hang the open; the caller checks
  // the file type on the descriptor afterwards.
  const std::string name(leaf);
  UniqueFd file(::openat(dir.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!file) {
    const int error = errno;
    if (error == ENOENT) return {};
    throw_open_error(error, root, *clean);
  }
  return file;
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
