#include "oci/oci_json.hpp"

namespace knast {
inline namespace v0 {
namespace {

constexpr std::string_view kind = "index";

}  // namespace

// Every entry must be a manifest or a nested index. Indexes that list other artifacts
// (signatures, SBOMs as blobs) are refused as unsupported: knast would have no use for
// such an entry, and silently dropping it would make to_json() lose content. Attestation
// manifests (BuildKit's, with platform unknown/unknown) are OCI manifests and pass.
Index Index::parse(std::string_view json) {
  using detail::JsonReader;
  const auto root = detail::parse_json_document(json, kind, max_index_bytes);
  const JsonReader doc(root, kind);
  detail::check_schema_version(doc);
  Index index;
  index.media_type = detail::read_document_media_type(doc, detail::DocumentKind::index);
  index.artifact_type = doc.optional("artifactType", &JsonReader::non_empty_string);
  const auto entries = detail::manifest_or_index_rule();
  index.manifests =
      doc.required("manifests").array([&](const JsonReader& n) { return detail::read_descriptor(n, entries); });
  index.subject = doc.optional("subject", [&](const JsonReader& n) { return detail::read_descriptor(n, entries); });
  index.annotations = doc.value_or_default("annotations", &JsonReader::string_map);
  return index;
}

std::string Index::to_json() const {
  detail::Json doc{{"schemaVersion", schema_version},
                   {"mediaType", media_type},
                   {"manifests", detail::json_array(manifests, detail::write_descriptor)}};
  detail::set_optional(doc, "artifactType", artifact_type);
  detail::set_optional(doc, "subject", subject, detail::write_descriptor);
  detail::set_non_empty(doc, "annotations", annotations);
  return detail::dump_json_document(doc, kind);
}

}  // namespace v0
}  // namespace knast
