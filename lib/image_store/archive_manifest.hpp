// Private: the metadata documents of image archives, read and written as pure values —
// docker's manifest.json and repositories, the OCI layout's oci-layout, and the names
// an OCI index gives its entries.
#pragma once

#include <knast/oci.hpp>
#include <knast/reference.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// The annotation containerd and docker (≥ 25) put the full image name in; their
/// org.opencontainers.image.ref.name holds only the tag.
inline constexpr std::string_view containerd_name_annotation = "io.containerd.image.name";

/// Largest oci-layout file read (it holds one short field).
inline constexpr std::size_t max_oci_layout_bytes = 4u << 10;

/// One image of a `docker save` archive's manifest.json.
struct DockerArchiveImage {
  std::string config;               ///< Entry name of the image config (normalised).
  std::vector<Reference> names;     ///< `RepoTags`, normalised ("alpine:3" → docker.io/library/alpine:3).
  std::vector<std::string> layers;  ///< Entry names of the layers, base first (normalised).

  friend bool operator==(const DockerArchiveImage&, const DockerArchiveImage&) = default;
};

/// Parses manifest.json: a JSON array (at most max_manifest_bytes) of objects with
/// `Config` (required), `RepoTags` (optional, may be null) and `Layers` (required);
/// other fields (`LayerSources`, `Parent`) are ignored. Paths are validated with
/// normalize_archive_path, names with Reference::parse, and digests are refused in names.
/// @throws Error invalid_argument or limit_exceeded: "manifest.json: [0].Layers[1]: …".
std::vector<DockerArchiveImage> parse_docker_manifest(std::string_view json);

/// Writes manifest.json for @p images, with `RepoTags` in docker's short form ("alpine:3").
std::string write_docker_manifest(const std::vector<DockerArchiveImage>& images);

/// Writes the legacy `repositories` file: {"<short name>": {"<tag>": "<top layer id>"}},
/// from each name and the legacy id of its image's top layer. Names without a tag are left out.
std::string write_docker_repositories(const std::vector<std::pair<Reference, std::string>>& top_layers);

/// Checks an `oci-layout` file says imageLayoutVersion 1.0.0.
/// @throws Error invalid_argument (malformed) or unsupported (another version).
void check_oci_layout(std::string_view json);
/// The `oci-layout` file knast writes.
std::string oci_layout_json();

/// The name an entry of an OCI archive's index.json gives its image: the
/// io.containerd.image.name annotation, else org.opencontainers.image.ref.name, parsed
/// as a reference ("busybox:1.36" → docker.io/library/busybox:1.36); nothing without
/// either. @throws Error invalid_argument naming the annotation if it is not a valid
/// tagged reference.
std::optional<Reference> oci_entry_name(const Descriptor& entry);

}  // namespace detail
}  // namespace v0
}  // namespace knast
