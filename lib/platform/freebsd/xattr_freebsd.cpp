// FreeBSD extattrs through the extattr_*_link calls, which act on a symlink itself. The
// user and system namespaces are named "user." and "system." as libarchive names them.
#include "platform/xattr.hpp"
#include "platform/freebsd/extattr_names_freebsd.hpp"

#include <knast/error.hpp>

#include <sys/types.h>
#include <sys/extattr.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

namespace knast::platform {
namespace {

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
  for (const freebsd::ExtattrNamespace& ns : freebsd::extattr_namespaces) {
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
  const auto attr = freebsd::split_extattr_name(attribute.name);
  if (!attr) return false;  // a Linux namespace (trusted., security.) FreeBSD has no place for
  if (::extattr_set_link(path.c_str(), attr->namespace_id, attr->name.c_str(), attribute.value.data(),
                         attribute.value.size()) >= 0)
    return true;
  if (no_xattrs_here(errno)) return false;
  throw Error(errno, "set extattr " + attribute.name + " on " + path.string());
}

}  // namespace knast::platform
