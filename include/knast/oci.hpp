/// @file oci.hpp
/// @brief OCI image-spec and Docker schema 2 documents as strict value types:
///        Descriptor, Manifest, Index and ImageConfig.
///
/// Parsing is strict: a document must be a JSON object of at most its size limit (checked
/// before parsing) and 64 levels of nesting, every required field must be present with the
/// right type, sizes are non-negative integers (not 1.0, not "1"), digests are valid and
/// media types are ones knast knows. Unknown *fields* are ignored, as the image spec
/// requires, and an optional field that is `null` reads as absent (Docker writes null for
/// empty fields). Every failure is an Error (invalid_argument; unsupported for an unknown
/// media type, a schema 1 manifest or an unknown schemaVersion; limit_exceeded for an
/// oversized or too deeply nested document) whose message names the document and the
/// field: "manifest: layers[2].size: must be a non-negative integer, got -1".
///
/// Media types accepted where (matched exactly, no parameters or case folding):
/// - Manifest `mediaType`: OCI manifest or Docker schema 2 manifest (absent → OCI).
/// - Manifest `config`: OCI or Docker image config; for an artifact (`artifactType` set)
///   also the empty descriptor (media_type::oci_empty).
/// - Manifest `layers[]`: any is_layer_media_type(), in OCI and Docker manifests alike;
///   for an artifact also oci_empty. Other artifact blobs (in-toto attestations,
///   signatures, SBOMs) are refused as unsupported: they are not images knast can run.
/// - Index `mediaType`: OCI index or Docker manifest list (absent → OCI).
/// - Index `manifests[]` and any `subject`: a manifest or an index type. BuildKit's
///   attestation entries are OCI manifests and pass; entries of other types are refused
///   rather than dropped, so to_json() never loses content.
///
/// to_json() writes compact JSON with object keys sorted, so equal values give equal bytes;
/// it always writes `schemaVersion` and `mediaType`, and an optional field only when it is
/// set (containers: when not empty). It does not reproduce the original bytes, so the
/// digest of a pulled document must be taken from the bytes received.
#pragma once

#include <knast/digest.hpp>
#include <knast/export.hpp>
#include <knast/platform.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {

/// Media type strings of the OCI image spec and Docker's schema 2.
namespace media_type {
/// OCI image manifest.
inline constexpr std::string_view oci_manifest = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
inline constexpr std::string_view oci_index = "application/vnd.oci.image.index.v1+json";
/// OCI image config.
inline constexpr std::string_view oci_config = "application/vnd.oci.image.config.v1+json";
/// OCI layer, uncompressed tar.
inline constexpr std::string_view oci_layer_tar = "application/vnd.oci.image.layer.v1.tar";
/// OCI layer, gzip-compressed tar.
inline constexpr std::string_view oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
/// OCI layer, zstd-compressed tar.
inline constexpr std::string_view oci_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
/// OCI non-distributable layer, tar (deprecated by the spec).
inline constexpr std::string_view oci_layer_nondist_tar = "application/vnd.oci.image.layer.nondistributable.v1.tar";
/// OCI non-distributable layer, gzip (deprecated).
inline constexpr std::string_view oci_layer_nondist_gzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
/// OCI non-distributable layer, zstd (deprecated).
inline constexpr std::string_view oci_layer_nondist_zstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
/// The OCI empty descriptor's type (`{}`), used by artifacts.
inline constexpr std::string_view oci_empty = "application/vnd.oci.empty.v1+json";
/// Docker schema 2 image manifest.
inline constexpr std::string_view docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list (multi-platform).
inline constexpr std::string_view docker_manifest_list = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image config.
inline constexpr std::string_view docker_config = "application/vnd.docker.container.image.v1+json";
/// Docker layer, gzip-compressed tar.
inline constexpr std::string_view docker_layer_gzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Docker foreign layer (Windows base layers).
inline constexpr std::string_view docker_layer_foreign_gzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
}  // namespace media_type

/// Largest manifest knast accepts (4 MiB, as containerd and the distribution registry).
inline constexpr std::size_t max_manifest_bytes = 4u << 20;
/// Largest index knast accepts.
inline constexpr std::size_t max_index_bytes = 4u << 20;
/// Largest image config knast accepts (configs carry history and labels, so more room).
inline constexpr std::size_t max_config_bytes = 8u << 20;

/// Whether @p type is a manifest media type (OCI or Docker schema 2).
KNAST_API bool is_manifest_media_type(std::string_view type) noexcept;
/// Whether @p type is an index media type (OCI index or Docker manifest list).
KNAST_API bool is_index_media_type(std::string_view type) noexcept;
/// Whether @p type is a layer media type knast can unpack or store.
KNAST_API bool is_layer_media_type(std::string_view type) noexcept;
/// Whether @p type is an image config media type.
KNAST_API bool is_config_media_type(std::string_view type) noexcept;

/// A content descriptor: what a blob is, its digest and its size.
struct KNAST_API Descriptor {
  std::string media_type;                          ///< `mediaType` (required).
  Digest digest = Digest::of(std::string_view{});  ///< `digest` (required).
  std::int64_t size = 0;                           ///< `size` in bytes (required, ≥ 0).
  std::vector<std::string> urls;                   ///< `urls`.
  std::map<std::string, std::string> annotations;  ///< `annotations`.
  std::optional<Platform> platform;                ///< `platform` (index entries), as written (not normalised).
  std::optional<std::string> artifact_type;        ///< `artifactType`.
  std::optional<std::string> data;                 ///< `data` (base64, as in the document; not decoded or verified).

  /// Descriptors compare field by field.
  friend bool operator==(const Descriptor&, const Descriptor&) = default;
};

/// An image manifest: OCI image manifest or Docker schema 2 manifest.
struct KNAST_API Manifest {
  int schema_version = 2;                          ///< Always 2.
  std::string media_type{media_type::oci_manifest};  ///< OCI or Docker manifest type.
  std::optional<std::string> artifact_type;        ///< `artifactType`.
  Descriptor config;                               ///< The image config blob.
  std::vector<Descriptor> layers;                  ///< Layers, base first.
  std::optional<Descriptor> subject;               ///< `subject` (referrers).
  std::map<std::string, std::string> annotations;  ///< `annotations`.

  /// Parses and validates @p json (at most max_manifest_bytes). A document without
  /// `mediaType` is taken as OCI; `config` and `layers` (possibly empty) are required.
  /// An index is refused with "is an index, not a manifest".
  static Manifest parse(std::string_view json);
  /// Serialises to compact JSON.
  std::string to_json() const;
  /// Sum of the config and layer sizes (saturating at the int64 maximum).
  std::int64_t total_size() const noexcept;

  /// Manifests compare field by field.
  friend bool operator==(const Manifest&, const Manifest&) = default;
};

/// An image index: OCI image index or Docker manifest list.
struct KNAST_API Index {
  int schema_version = 2;                          ///< Always 2.
  std::string media_type{media_type::oci_index};   ///< OCI index or Docker list type.
  std::optional<std::string> artifact_type;        ///< `artifactType`.
  std::vector<Descriptor> manifests;               ///< Entries, each a manifest or index.
  std::optional<Descriptor> subject;               ///< `subject`.
  std::map<std::string, std::string> annotations;  ///< `annotations`.

  /// Parses and validates @p json (at most max_index_bytes). A document without
  /// `mediaType` is taken as OCI; `manifests` (possibly empty) is required. A manifest is
  /// refused with "is a manifest, not an index".
  static Index parse(std::string_view json);
  /// Serialises to compact JSON.
  std::string to_json() const;

  /// Indexes compare field by field.
  friend bool operator==(const Index&, const Index&) = default;
};

/// One entry of an image's `history`.
struct KNAST_API HistoryEntry {
  std::optional<std::string> created;     ///< RFC 3339 time, as written in the document.
  std::optional<std::string> created_by;  ///< The command that made the layer.
  std::optional<std::string> author;      ///< `author`.
  std::optional<std::string> comment;     ///< `comment`.
  bool empty_layer = false;               ///< `empty_layer`: no layer blob for this step.

  /// Entries compare field by field.
  friend bool operator==(const HistoryEntry&, const HistoryEntry&) = default;
};

/// The execution parameters of an image (`config` inside the image config).
struct KNAST_API ContainerConfig {
  std::optional<std::string> user;                 ///< `User`.
  std::vector<std::string> exposed_ports;          ///< Keys of `ExposedPorts` ("80/tcp"), sorted.
  std::vector<std::string> env;                    ///< `Env`, "NAME=value".
  std::optional<std::vector<std::string>> entrypoint;  ///< `Entrypoint` (absent ≠ empty).
  std::optional<std::vector<std::string>> cmd;     ///< `Cmd` (absent ≠ empty).
  std::vector<std::string> volumes;                ///< Keys of `Volumes`, sorted.
  std::optional<std::string> working_dir;          ///< `WorkingDir`.
  std::map<std::string, std::string> labels;       ///< `Labels`.
  std::optional<std::string> stop_signal;          ///< `StopSignal`.

  /// Configs compare field by field.
  friend bool operator==(const ContainerConfig&, const ContainerConfig&) = default;
};

/// An image configuration: platform, execution parameters, layer diff IDs and history.
struct KNAST_API ImageConfig {
  std::optional<std::string> created;  ///< RFC 3339 time, as written.
  std::optional<std::string> author;   ///< `author`.
  std::string architecture;            ///< `architecture` (required).
  std::string os;                      ///< `os` (required).
  std::optional<std::string> os_version;   ///< `os.version` (an empty one reads as absent).
  std::vector<std::string> os_features;    ///< `os.features`.
  std::optional<std::string> variant;      ///< `variant` (an empty one reads as absent).
  ContainerConfig config;                  ///< `config`.
  /// `rootfs.diff_ids` (rootfs is required and rootfs.type must be "layers"; diff_ids may
  /// be absent, as Docker omits it for an image without layers).
  std::vector<Digest> diff_ids;
  std::vector<HistoryEntry> history;       ///< `history`.

  /// Parses and validates @p json (at most max_config_bytes). `architecture`, `os` and
  /// `rootfs` are required; `config` and `history` are optional.
  static ImageConfig parse(std::string_view json);
  /// Serialises to compact JSON.
  std::string to_json() const;
  /// The platform the image is built for.
  Platform platform() const;

  /// Configs compare field by field.
  friend bool operator==(const ImageConfig&, const ImageConfig&) = default;
};

}  // namespace v0
}  // namespace knast
