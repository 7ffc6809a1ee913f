// FreeBSD extattrs through the extattr_*_link calls, which act on a symlink itself. The
// user and system namespaces are named "user." and "system." as libarchive names them.
#include "platform/xattr.hpp"

#include <knast/error.hpp>

#include <sys/types.h>
#include <sys/extattr.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

namespace knast::platform {
namespace {

struct Namespace {
  int id;
  std::string_view prefix;
};
constexpr Namespace namespaces[] = {{EXTATTR_NAMESPACE_USER, "user."}, {EXTATTR_NAMESPACE_SYSTEM, "system."}};

bool no_xattrs_here(int err) noexcept { return err == EOPNOTSUPP || err == ENOSYS || err == EPERM || err == EACCES; }

template <typename Get>
std::string read_sized(Get get, const std::filesystem::path& path, std::string_view what) {
  std::string buffer;
  for (;;) {
    const ssize_t need = get(nullptr, 0);
    if (need < 0) throw Error(errno, std::string(what) + " of " + path.string());
    buffer.resize(static_cast<std::size_t>(need));
    const ssize_t got = get(buffer.data(), buffer.size());
    if (got < 0) throw Error(errno, std::string(what) + " of " + path.string());
    if (static_cast<std::size_t>(got) <= buffer.size()) {
      buffer.resize(static_cast<std::size_t>(got));
      return buffer;
    }
  }
}

}  // namespace

std::vector<ExtendedAttribute> read_xattrs(const std::filesystem::path& path) {
  const char* p = path.c_str();
  std::vector<ExtendedAttribute> out;
  for (const Namespace& ns : namespaces) {
    std::string list;
    try {
      list = read_sized([&](char* b, std::size_t n) { return ::extattr_list_link(p, ns.id, b, n); }, path,
                        "list extattrs");
    } catch (const Error& e) {
      if (no_xattrs_here(e.sys_errno())) continue;  // no such namespace here, or not root for system
      throw;
    }
    // The list is a sequence of (length byte, name without terminator).
    for (std::size_t i = 0; i < list.size();) {
      const std::size_t length = static_cast<unsigned char>(list[i]);
      std::string name = list.substr(i + 1, length);
      i += 1 + length;
      try {
        std::string value = read_sized(
            [&](char* b, std::size_t n) { return ::extattr_get_link(p, ns.id, name.c_str(), b, n); }, path,
            "read extattr " + name);
        out.push_back({std::string(ns.prefix) + name, std::move(value)});
      } catch (const Error& e) {
        if (e.sys_errno() != ENOATTR) throw;
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

bool write_xattr(const std::filesystem::path& path, const ExtendedAttribute& attribute) {
  for (const Namespace& ns : namespaces) {
    if (!attribute.name.starts_with(ns.prefix)) continue;
    const std::string name = attribute.name.substr(ns.prefix.size());
    if (::extattr_set_link(path.c_str(), ns.id, name.c_str(), attribute.value.data(), attribute.value.size()) >= 0)
      return true;
    if (no_xattrs_here(errno)) return false;
    throw Error(errno, "set extattr " + attribute.name + " on " + path.string());
  }
  return false;  // a Linux namespace (trusted., security.) FreeBSD has no place for
}

}  // namespace knast::platform
