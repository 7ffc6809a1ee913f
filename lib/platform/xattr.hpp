// Extended attributes of a file, read and written without following a final symlink:
// Linux xattrs ("user.x", "trusted.x", "security.capability"), FreeBSD extattrs (named
// "user.x" and "system.x", as libarchive names them in tar files). Answered by
// lib/platform/<os>/xattr_<os>.cpp.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace knast::platform {

/// One extended attribute.
struct ExtendedAttribute {
  std::string name;   ///< With its namespace: "user.mime_type", "security.capability".
  std::string value;  ///< Raw bytes.
  /// Attributes compare by name and value.
  friend bool operator==(const ExtendedAttribute&, const ExtendedAttribute&) = default;
};

/// The attributes of @p path (itself, when it is a symlink), sorted by name. A file
/// system without extended attributes gives none.
/// @throws Error (errno) naming @p path.
std::vector<ExtendedAttribute> read_xattrs(const std::filesystem::path& path);

/// Sets one attribute on @p path (itself, when it is a symlink). Returns false when the
/// file system or the kernel refuses this attribute (unsupported namespace, not
/// privileged, a symlink that cannot carry it): the caller counts it as skipped.
/// @throws Error (errno) for any other failure.
bool write_xattr(const std::filesystem::path& path, const ExtendedAttribute& attribute);

}  // namespace knast::platform
