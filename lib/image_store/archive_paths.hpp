// Private: the pure rules of archive loading — which entry names are acceptable, how a
// link inside an archive resolves, and what compression a stream starts with.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace detail {

/// Normalises an archive entry name, or a path an archive's metadata names:
/// "./a//b/" → "a/b", "." → "" (the archive's root). Every archive knast reads is
/// confined to itself, so absolute names and `..` components are refused outright
/// (even "a/../b", which would stay inside: no honest tool writes one).
/// @throws Error invalid_argument: "<what> \"<name>\": <problem>".
std::string normalize_archive_path(std::string_view name, std::string_view what);

/// The entry that a symbolic link at @p link (a normalised entry name) with target
/// @p target names, resolved lexically inside the archive: "a/layer.tar" with
/// "../b/layer.tar" gives "b/layer.tar" (docker save links duplicate layers that way).
/// @throws Error invalid_argument for an absolute target or one that climbs out.
std::string resolve_link_target(std::string_view link, std::string_view target);

/// The compressions a layer or rootfs tarball may come in, told apart by magic bytes.
enum class Compression { none, gzip, zstd, bzip2, xz };

/// How many leading bytes detect_compression() needs to look at.
inline constexpr std::size_t compression_magic_bytes = 6;

/// The compression the stream starting with @p head uses; none when no magic matches
/// (including a stream shorter than its magic).
Compression detect_compression(std::span<const std::byte> head) noexcept;

/// "uncompressed", "gzip", "zstd", "bzip2", "xz".
std::string_view to_string(Compression compression) noexcept;

/// The OCI layer media type of a blob stored with @p compression; nothing for the
/// compressions OCI has no layer type for (bzip2, xz).
std::optional<std::string_view> oci_layer_media_type(Compression compression) noexcept;

/// The compression a layer media type declares (OCI and Docker types); nothing for a
/// type that is not a layer type.
std::optional<Compression> layer_compression(std::string_view media_type) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace knast
