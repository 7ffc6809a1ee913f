/// @file manifests.hpp
/// @brief Private: fetching and checking manifests and indexes — the Accept list, the
///        digest checks against the reference and Docker-Content-Digest, telling a
///        manifest from an index, choosing the manifests of an index to pull.
#pragma once

#include "registry/client.hpp"

#include <knast/oci.hpp>
#include <knast/reference.hpp>
#include <knast/registry.hpp>

#include <atomic>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace registry_detail {

/// The Accept header of manifest requests: OCI manifest and index, Docker schema 2
/// manifest and manifest list.
std::string manifest_accept_header();

/// A manifest or index as received, parsed.
struct FetchedDocument {
  ResolvedManifest resolved;      ///< Descriptor and bytes.
  std::optional<Manifest> manifest;  ///< Set when it is a manifest.
  std::optional<Index> index;        ///< Set when it is an index.
};

/// Checks and parses the bytes of a manifest answer (pure):
/// - the digest is that of @p bytes, which must equal @p expected (a digest reference)
///   and the Docker-Content-Digest header when there is one (integrity otherwise; a
///   malformed header is integrity too);
/// - the kind comes from the Content-Type when it names a manifest or index type,
///   otherwise from the document (`manifests` makes an index); the descriptor's media
///   type is the document's own `mediaType` when it declares one;
/// - the document must parse as that kind (invalid_argument, unsupported for schema 1).
/// @p what names it in messages. @throws Error.
FetchedDocument check_document(std::string bytes, std::optional<std::string> content_type,
                               std::optional<std::string> content_digest, const std::optional<Digest>& expected,
                               std::string_view what);

/// GETs manifest @p reference (a tag or digest) of @p repository from @p endpoint.
/// @throws Error (not_found for 404, limit_exceeded beyond max_manifest_bytes, ...).
FetchedDocument fetch_document(RegistryClient& client, const Endpoint& endpoint, std::string_view repository,
                               std::string_view reference, const std::optional<Digest>& expected, std::string_view what,
                               const std::atomic<bool>* cancel);

/// What a reference resolved to, and the endpoint that answered (a mirror, maybe).
struct Resolution {
  FetchedDocument document;  ///< The manifest or index.
  Endpoint endpoint;         ///< Where it came from.
};

/// Fetches manifest @p reference of @p repository from the first of @p endpoints that
/// has it; when all fail, the last one's error (the registry's own) is reported.
Resolution fetch_from_first(RegistryClient& client, const std::vector<Endpoint>& endpoints, std::string_view repository,
                            std::string_view reference, const std::optional<Digest>& expected,
                            const std::atomic<bool>* cancel);

/// Resolves @p ref on its endpoints in order (mirrors first), as fetch_from_first().
Resolution resolve_reference(RegistryClient& client, const Reference& ref, const std::atomic<bool>* cancel);

/// The manifest digest or tag part of a reference for the API path: the digest when
/// there is one (it pins the content), else the tag.
std::string api_reference(const Reference& ref);

/// Whether an index entry is an attestation or other non-image (BuildKit's
/// `vnd.docker.reference.type` annotation, or platform unknown/unknown).
bool is_attestation(const Descriptor& entry);

/// The image manifests of @p entries (an index's, or several nested indexes' gathered) to
/// pull: every one with @p all_platforms, else the best match for @p wanted
/// (PlatformMatcher's rules). Other entries (nested indexes, attestations) are passed over.
/// @throws Error not_found naming @p what, the platform wanted and those available.
std::vector<Descriptor> select_manifests(const std::vector<Descriptor>& entries, const Platform& wanted,
                                         bool all_platforms, std::string_view what);

/// select_manifests() of @p index's entries.
inline std::vector<Descriptor> select_manifests(const Index& index, const Platform& wanted, bool all_platforms,
                                                std::string_view what) {
  return select_manifests(index.manifests, wanted, all_platforms, what);
}

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
