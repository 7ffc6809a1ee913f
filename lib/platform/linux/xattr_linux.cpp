// Linux xattrs through the l*xattr calls, which act on a symlink itself.
#include "platform/xattr.hpp"

#include <knast/error.hpp>

#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

namespace knast::platform {
namespace {

bool no_xattrs_here(int err) noexcept { return err == ENOTSUP || err == EOPNOTSUPP || err == ENOSYS; }

/// Calls @p get(buffer, size) until the buffer is large enough (attributes may grow
/// between the size query and the read).
template <typename Get>
std::string read_sized(Get get, const std::filesystem::path& path, std::string_view what) {
  std::string buffer;
  for (;;) {
    const ssize_t need = get(nullptr, 0);
    if (need < 0) throw Error(errno, std::string(what) + " of " + path.string());
    buffer.resize(static_cast<std::size_t>(need));
    const ssize_t got = get(buffer.data(), buffer.size());
    if (got >= 0) {
      buffer.resize(static_cast<std::size_t>(got));
      return buffer;
    }
    if (errno != ERANGE) throw Error(errno, std::string(what) + " of " + path.string());
  }
}

}  // namespace

std::vector<ExtendedAttribute> read_xattrs(const std::filesystem::path& path) {
  const char* p = path.c_str();
  std::string names;
  try {
    names = read_sized([p](char* b, std::size_t n) { return ::llistxattr(p, b, n); }, path, "list xattrs");
  } catch (const Error& e) {
    if (no_xattrs_here(e.sys_errno())) return {};
    throw;
  }
  std::vector<ExtendedAttribute> out;
  for (std::size_t start = 0; start < names.size();) {
    const std::size_t end = names.find('\0', start);
    std::string name = names.substr(start, end - start);
    start = end == std::string::npos ? names.size() : end + 1;
    if (name.empty()) continue;
    try {
      std::string value = read_sized(
          [p, &name](char* b, std::size_t n) { return ::lgetxattr(p, name.c_str(), b, n); }, path, "read xattr " + name);
      out.push_back({std::move(name), std::move(value)});
    } catch (const Error& e) {
      if (e.sys_errno() != ENODATA) throw;  // removed since it was listed
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

bool write_xattr(const std::filesystem::path& path, const ExtendedAttribute& attribute) {
  if (::lsetxattr(path.c_str(), attribute.name.c_str(), attribute.value.data(), attribute.value.size(), 0) == 0)
    return true;
  if (no_xattrs_here(errno) || errno == EPERM || errno == EACCES) return false;
  throw Error(errno, "set xattr " + attribute.name + " on " + path.string());
}

}  // namespace knast::platform
