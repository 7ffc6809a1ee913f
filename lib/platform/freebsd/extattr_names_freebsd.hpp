// How tar (libarchive) names FreeBSD extended attributes: "<namespace>.<name>", where only
// the user and system namespaces exist here (security.* and trusted.* are Linux's). One
// table for the two places that translate: fs_freebsd.cpp (applying layers through a
// descriptor) and xattr_freebsd.cpp (reading and writing by path for drivers and diffs).
#pragma once

#include <sys/types.h>
#include <sys/extattr.h>

#include <optional>
#include <string>
#include <string_view>

namespace knast::platform::freebsd {

/// A FreeBSD extattr namespace and the prefix tar gives its names.
struct ExtattrNamespace {
  int id;                   ///< EXTATTR_NAMESPACE_USER or EXTATTR_NAMESPACE_SYSTEM.
  std::string_view prefix;  ///< "user." or "system.".
};

inline constexpr ExtattrNamespace extattr_namespaces[] = {{EXTATTR_NAMESPACE_USER, "user."},
                                                          {EXTATTR_NAMESPACE_SYSTEM, "system."}};

/// A tar attribute name split into its FreeBSD namespace and the name within it.
struct ExtattrName {
  int namespace_id;
  std::string name;
};

/// "user.x" → {USER, "x"}; nothing for a Linux namespace or an empty name.
inline std::optional<ExtattrName> split_extattr_name(std::string_view tar_name) {
  for (const ExtattrNamespace& ns : extattr_namespaces)
    if (tar_name.starts_with(ns.prefix) && tar_name.size() > ns.prefix.size())
      return ExtattrName{ns.id, std::string(tar_name.substr(ns.prefix.size()))};
  return std::nullopt;
}

}  // namespace knast::platform::freebsd
