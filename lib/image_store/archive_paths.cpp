#include "image_store/archive_paths.hpp"

#include "oci/json_reader.hpp"

#include <knast/error.hpp>
#include <knast/oci.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

std::vector<std::string_view> split_components(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

std::string join_components(const std::vector<std::string_view>& components) {
  std::string out;
  for (const auto c : components) {
    if (!out.empty()) out += '/';
    out += c;
  }
  return out;
}

[[noreturn]] void refuse(std::string_view what, std::string_view name, std::string_view problem) {
  throw Error(ErrorCode::invalid_argument, fmt::format("{} {}: {}", what, quote_text(name), problem));
}

struct Magic {
  Compression compression;
  std::array<unsigned char, compression_magic_bytes> bytes;
  std::size_t size;
};

// The magic numbers of RFC 1952 (gzip), RFC 8878 (zstd frames), bzip2 and xz.
constexpr std::array magics{
    Magic{Compression::gzip, {0x1f, 0x8b}, 2},
    Magic{Compression::zstd, {0x28, 0xb5, 0x2f, 0xfd}, 4},
    Magic{Compression::bzip2, {'B', 'Z', 'h'}, 3},
    Magic{Compression::xz, {0xfd, '7', 'z', 'X', 'Z', 0x00}, 6},
};

bool starts_with(std::span<const std::byte> head, const Magic& magic) noexcept {
  if (head.size() < magic.size) return false;
  for (std::size_t i = 0; i < magic.size; ++i)
    if (std::to_integer<unsigned char>(head[i]) != magic.bytes[i]) return false;
  return true;
}

}  // namespace

std::string normalize_archive_path(std::string_view name, std::string_view what) {
  if (name.empty()) refuse(what, name, "is empty");
  if (name.front() == '/') refuse(what, name, "is absolute; archive entries must be relative");
  std::vector<std::string_view> kept;
  for (const auto component : split_components(name)) {
    if (component.empty() || component == ".") continue;
    if (component == "..") refuse(what, name, "has a '..' component; archive entries must stay inside the archive");
    kept.push_back(component);
  }
  return join_components(kept);
}

std::string resolve_link_target(std::string_view link, std::string_view target) {
  constexpr std::string_view what = "link target";
  if (target.empty()) refuse(what, target, "is empty");
  if (target.front() == '/') refuse(what, target, "is absolute; links must stay inside the archive");
  auto resolved = split_components(link);
  if (!resolved.empty()) resolved.pop_back();  // a target is relative to the link's folder
  for (const auto component : split_components(target)) {
    if (component.empty() || component == ".") continue;
    if (component != "..") {
      resolved.push_back(component);
    } else if (resolved.empty()) {
      refuse(what, target, fmt::format("climbs out of the archive from {}", quote_text(link)));
    } else {
      resolved.pop_back();
    }
  }
  return join_components(resolved);
}

Compression detect_compression(std::span<const std::byte> head) noexcept {
  const auto it = std::find_if(magics.begin(), magics.end(), [&](const Magic& m) { return starts_with(head, m); });
  return it == magics.end() ? Compression::none : it->compression;
}

std::string_view to_string(Compression compression) noexcept {
  switch (compression) {
    case Compression::none: return "uncompressed";
    case Compression::gzip: return "gzip";
    case Compression::zstd: return "zstd";
    case Compression::bzip2: return "bzip2";
    case Compression::xz: return "xz";
  }
  return "unknown";
}

std::optional<std::string_view> oci_layer_media_type(Compression compression) noexcept {
  switch (compression) {
    case Compression::none: return media_type::oci_layer_tar;
    case Compression::gzip: return media_type::oci_layer_gzip;
    case Compression::zstd: return media_type::oci_layer_zstd;
    case Compression::bzip2:
    case Compression::xz: return std::nullopt;
  }
  return std::nullopt;
}

std::optional<Compression> layer_compression(std::string_view type) noexcept {
  if (!is_layer_media_type(type)) return std::nullopt;
  if (type.ends_with("+gzip") || type.ends_with(".tar.gzip")) return Compression::gzip;
  if (type.ends_with("+zstd")) return Compression::zstd;
  return Compression::none;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
