// Private: the pure rules of applying a layer entry — OCI whiteout names and owner ids.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace detail {

/// The prefix of a whiteout file's name (OCI image spec, "Whiteouts").
inline constexpr std::string_view whiteout_prefix = ".wh.";
/// The name of the opaque-directory marker.
inline constexpr std::string_view opaque_marker = ".wh..wh..opq";
/// The prefix of aufs metadata (".wh..wh.plnk", ".wh..wh.aufs"): not files of the image.
inline constexpr std::string_view aufs_meta_prefix = ".wh..wh.";

/// What the last component of an entry name says.
struct WhiteoutName {
  enum class Kind {
    none,       ///< An ordinary entry.
    remove,     ///< `.wh.NAME`: remove NAME of the lower layers (in target).
    opaque,     ///< `.wh..wh..opq`: hide everything of the lower layers in this directory.
    aufs_meta,  ///< `.wh..wh.*` other than the opaque marker: aufs bookkeeping, skipped.
    invalid,    ///< `.wh.`, `.wh..`, `.wh...`: names nothing (or the directory itself).
  } kind = Kind::none;
  std::string_view target;  ///< NAME, for Kind::remove.
};

/// Parses the last component @p base of an entry name.
WhiteoutName parse_whiteout(std::string_view base) noexcept;

/// Whether a component of a cleaned path other than the last starts with ".wh.": such
/// an entry would put a whiteout name into the result.
bool has_whiteout_parent(std::string_view clean_path) noexcept;

/// The owner id @p id from a tar header as a uid_t/gid_t, or nothing when it cannot be
/// one: negative, too large, or (uid_t)-1, which chown(2) reads as "leave unchanged".
std::optional<std::uint32_t> owner_id(std::int64_t id) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace knast
