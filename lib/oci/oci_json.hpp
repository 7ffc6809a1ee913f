/// @file oci_json.hpp
/// @brief Private: the JSON pieces several OCI documents share — descriptors, platforms,
///        and the `schemaVersion`/`mediaType` header of manifests and indexes.
#pragma once

#include "oci/json_reader.hpp"

#include <knast/oci.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace detail {

/// Which media types a descriptor may carry where it is read, and how to name them in
/// the error for any other ("expected a layer").
struct MediaTypeRule {
  std::function<bool(std::string_view)> accepts;
  std::string_view expected;
};

/// A descriptor whose mediaType must satisfy @p rule (else Error unsupported at
/// `<path>.mediaType`). Other fields are checked for type, digest validity and size ≥ 0.
Descriptor read_descriptor(const JsonReader& node, const MediaTypeRule& rule);
/// The JSON object of @p descriptor, with only the optional fields that are set.
Json write_descriptor(const Descriptor& descriptor);

/// The rule for descriptors that point at a manifest or index: index entries, `subject`.
MediaTypeRule manifest_or_index_rule();

/// A platform object; `architecture` and `os` are required and non-empty.
Platform read_platform(const JsonReader& node);
/// Adds the platform fields of @p platform to @p object (a platform object or an image
/// config, which spell them the same way); empty optional fields are left out.
void write_platform_fields(Json& object, const Platform& platform);

/// The two kinds of top-level document that carry a schemaVersion and mediaType.
enum class DocumentKind { manifest, index };

/// Checks `schemaVersion` is 2: schema 1 and unknown versions are Error unsupported.
void check_schema_version(const JsonReader& doc);
/// The document's mediaType, defaulting to the OCI one of @p kind when absent. The other
/// kind is refused by name ("is an index, not a manifest"), anything else as unsupported.
std::string read_document_media_type(const JsonReader& doc, DocumentKind kind);

}  // namespace detail
}  // namespace v0
}  // namespace knast
