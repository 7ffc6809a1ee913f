// Private: the two archive formats, each loaded into and saved from a store.
//
// Loading puts blobs into the store (the caller holds a lease) and returns the names to
// tag; it tags nothing itself, so a failure at any point leaves no new name (blobs
// written before it are unreferenced, and garbage collection removes them).
#pragma once

#include "image_store/archive_reader.hpp"
#include "image_store/archive_writer.hpp"

#include <knast/image_store.hpp>

#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// A name an archive gives an image, and the manifest or index it names.
struct NamedTarget {
  Reference name;
  Descriptor target;
};

/// Loads a `docker save` archive whose manifest.json (already read by the scan) is
/// @p manifest_json: classic (`<id>/layer.tar`), skopeo (`<digest>.tar`) and docker ≥ 25
/// (`blobs/sha256/…`) layouts alike, as they all list their files in manifest.json.
/// Configs are stored as they are; each image gets a new OCI manifest whose layers are
/// the layer files as they are (uncompressed, gzip or zstd, by their magic bytes).
std::vector<NamedTarget> load_docker_archive(ImageStore& store, ArchiveFile& archive, std::string_view manifest_json);

/// Loads an OCI archive (an OCI image layout in a tar) whose index.json and oci-layout
/// are @p index_json and @p layout_json. Every blob is stored under its own digest,
/// documents byte for byte, so manifest and index digests are kept.
std::vector<NamedTarget> load_oci_archive(ImageStore& store, ArchiveFile& archive, std::string_view index_json,
                                          std::string_view layout_json);

/// Writes @p names as a `docker save` archive: `<config hex>.json`, `<layer digest
/// hex>.tar`, the legacy `<id>/{VERSION,json,layer.tar}` folders, manifest.json and
/// repositories, as skopeo writes them.
void save_docker_archive(const ImageStore& store, const std::vector<Reference>& names, TarWriter& out);

/// Writes @p names as an OCI archive: oci-layout, blobs/ and index.json whose entries
/// carry the full name in org.opencontainers.image.ref.name and io.containerd.image.name.
void save_oci_archive(const ImageStore& store, const std::vector<Reference>& names, TarWriter& out);

/// The image's blob streamed from @p store into @p out as entry @p name, its digest
/// checked on the way (a damaged blob is never exported).
void copy_blob(const ImageStore& store, const Descriptor& blob, std::string_view name, TarWriter& out);

}  // namespace detail
}  // namespace v0
}  // namespace knast
