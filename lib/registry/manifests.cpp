#include "registry/manifests.hpp"

#include "image_store/platform_choice.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace knast {
inline namespace v0 {
namespace registry_detail {
namespace {

using Json = nlohmann::json;

/// The annotation BuildKit puts on attestation entries of an index.
constexpr std::string_view reference_type_annotation = "vnd.docker.reference.type";

[[noreturn]] void fail(std::string_view what, ErrorCode code, std::string_view problem) {
  throw Error(code, fmt::format("{}: {}", what, problem));
}

/// The document's top-level `mediaType`, if it declares one. Only called on bytes that
/// already parsed as a manifest or index, so they are a small, well-formed object.
std::optional<std::string> declared_media_type(std::string_view bytes) {
  const Json doc = Json::parse(bytes, nullptr, false);
  if (!doc.is_object()) return std::nullopt;
  const auto it = doc.find("mediaType");
  if (it == doc.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

bool looks_like_index(std::string_view bytes) {
  const Json doc = Json::parse(bytes, nullptr, false);
  return doc.is_object() && doc.contains("manifests");
}

Digest check_digest(std::string_view bytes, const std::optional<std::string>& content_digest,
                    const std::optional<Digest>& expected, std::string_view what) {
  std::optional<Digest> announced;
  if (content_digest) {
    announced = Digest::try_parse(trim_ows(*content_digest));
    if (!announced) fail(what, ErrorCode::integrity, "malformed Docker-Content-Digest " + quote_header(*content_digest));
  }
  const DigestAlgorithm algorithm = expected ? expected->algorithm() : announced ? announced->algorithm() : DigestAlgorithm::sha256;
  const Digest actual = Digest::of(bytes, algorithm);
  if (expected && actual != *expected)
    fail(what, ErrorCode::integrity, fmt::format("received content with digest {}, not {}", actual.string(), expected->string()));
  if (announced) {
    const Digest checked = announced->algorithm() == algorithm ? actual : Digest::of(bytes, announced->algorithm());
    if (checked != *announced)
      fail(what, ErrorCode::integrity,
           fmt::format("received content with digest {}, but the registry's Docker-Content-Digest says {}",
                       checked.string(), announced->string()));
  }
  return actual;
}

std::string platforms_of(const std::vector<Descriptor>& entries) {
  std::vector<std::string> names;
  for (const auto& entry : entries)
    if (entry.platform) names.push_back(entry.platform->string());
  return names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

std::string manifest_accept_header() {
  return fmt::format("Accept: {}, {}, {}, {}", media_type::oci_manifest, media_type::oci_index,
                     media_type::docker_manifest, media_type::docker_manifest_list);
}

FetchedDocument check_document(std::string bytes, std::optional<std::string> content_type,
                               std::optional<std::string> content_digest, const std::optional<Digest>& expected,
                               std::string_view what) {
  FetchedDocument out;
  Descriptor& descriptor = out.resolved.descriptor;
  descriptor.digest = check_digest(bytes, content_digest, expected, what);
  descriptor.size = static_cast<std::int64_t>(bytes.size());
  const std::string type = content_type ? media_type_of(*content_type) : std::string();
  const bool index = is_index_media_type(type) || (!is_manifest_media_type(type) && looks_like_index(bytes));
  try {
    if (index) {
      out.index = Index::parse(bytes);
      descriptor.media_type = out.index->media_type;
    } else {
      out.manifest = Manifest::parse(bytes);
      descriptor.media_type = out.manifest->media_type;
    }
  } catch (const Error& e) {
    throw e.with_context(what);
  }
  // The parsed value says OCI when the document declares nothing; a registry's own
  // Content-Type of the same kind is then the better word for it.
  if (!declared_media_type(bytes) && (index ? is_index_media_type(type) : is_manifest_media_type(type)))
    descriptor.media_type = type;
  out.resolved.bytes = std::move(bytes);
  return out;
}

FetchedDocument fetch_document(RegistryClient& client, const Endpoint& endpoint, std::string_view repository,
                               std::string_view reference, const std::optional<Digest>& expected, std::string_view what,
                               const std::atomic<bool>* cancel) {
  RegistryCall call;
  call.what = std::string(what);
  call.path = manifest_path(repository, reference);
  call.headers = {manifest_accept_header()};
  call.scopes = {pull_scope(repository)};
  BufferSink sink(std::max(max_manifest_bytes, max_index_bytes), call.what);
  const HttpResponse response = client.send(endpoint, call, &sink, cancel);
  if (response.status != 200) throw status_error(what, response);
  return check_document(std::move(sink.body()), response.headers.get("Content-Type"),
                        response.headers.get("Docker-Content-Digest"), expected, what);
}

std::string api_reference(const Reference& ref) {
  return ref.digest() ? ref.digest()->string() : ref.tag().value_or(std::string(Reference::default_tag));
}

Resolution fetch_from_first(RegistryClient& client, const std::vector<Endpoint>& endpoints, std::string_view repository,
                            std::string_view reference, const std::optional<Digest>& expected,
                            const std::atomic<bool>* cancel) {
  for (std::size_t i = 0;; ++i) {
    const Endpoint& endpoint = endpoints.at(i);
    const std::string what = endpoint.mirror ? fmt::format("manifest {} (mirror {})", reference, endpoint.host)
                                             : fmt::format("manifest {}", reference);
    try {
      return Resolution{fetch_document(client, endpoint, repository, reference, expected, what, cancel), endpoint};
    } catch (const Error& e) {
      // A mirror that fails or lacks the image is skipped; the registry's answer counts.
      if (e.kind() == ErrorCode::cancelled || i + 1 == endpoints.size()) throw;
    }
  }
}

Resolution resolve_reference(RegistryClient& client, const Reference& ref, const std::atomic<bool>* cancel) {
  return fetch_from_first(client, client.endpoints(ref.domain(), true), ref.path(), api_reference(ref), ref.digest(),
                          cancel);
}

bool is_attestation(const Descriptor& entry) {
  const auto it = entry.annotations.find(std::string(reference_type_annotation));
  return it != entry.annotations.end() || (entry.platform && detail::is_attestation(*entry.platform));
}

std::vector<Descriptor> select_manifests(const std::vector<Descriptor>& entries, const Platform& wanted,
                                         bool all_platforms, std::string_view what) {
  std::vector<Descriptor> images;
  for (const auto& entry : entries)
    if (is_manifest_media_type(entry.media_type) && !is_attestation(entry)) images.push_back(entry);
  if (all_platforms) {
    if (images.empty()) fail(what, ErrorCode::not_found, "the index lists no image manifests");
    return images;
  }
  std::vector<Descriptor> candidates;
  std::vector<Platform> platforms;
  for (const auto& entry : images) {
    if (!entry.platform) continue;
    candidates.push_back(entry);
    platforms.push_back(*entry.platform);
  }
  if (candidates.empty())
    fail(what, ErrorCode::not_found,
         fmt::format("the index names no platform for its images (entries: {})", platforms_of(entries)));
  return {candidates[detail::choose_platform(platforms, wanted, what)]};
}

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
