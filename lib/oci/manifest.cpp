#include "oci/oci_json.hpp"

#include <limits>

namespace knast {
inline namespace v0 {
namespace {

constexpr std::string_view kind = "manifest";

// An image's config is an OCI or Docker config. An OCI 1.1 artifact (artifactType set)
// may instead point at the empty descriptor; other artifact configs are not images and
// knast cannot use them, so they are refused by name rather than half-accepted.
detail::MediaTypeRule config_rule(bool is_artifact) {
  if (is_artifact)
    return {[](std::string_view type) { return is_config_media_type(type) || type == media_type::oci_empty; },
            "an image config or the empty descriptor"};
  return {is_config_media_type, "an image config"};
}

// Layers must be ones knast can unpack or store, whether the manifest is OCI or Docker
// (tools mix them). An artifact may carry the empty descriptor as its only "layer", as
// the image spec advises for artifacts without content.
detail::MediaTypeRule layer_rule(bool is_artifact) {
  if (is_artifact)
    return {[](std::string_view type) { return is_layer_media_type(type) || type == media_type::oci_empty; },
            "a layer or the empty descriptor"};
  return {is_layer_media_type, "a layer"};
}

// Sizes come from documents; saturating keeps a hostile sum from overflowing.
std::int64_t add_saturating(std::int64_t a, std::int64_t b) noexcept {
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  return b > 0 && a > max - b ? max : a + b;
}

}  // namespace

Manifest Manifest::parse(std::string_view json) {
  using detail::JsonReader;
  const auto root = detail::parse_json_document(json, kind, max_manifest_bytes);
  const JsonReader doc(root, kind);
  detail::check_schema_version(doc);
  Manifest m;
  m.media_type = detail::read_document_media_type(doc, detail::DocumentKind::manifest);
  m.artifact_type = doc.optional("artifactType", &JsonReader::non_empty_string);
  const bool is_artifact = m.artifact_type.has_value();
  m.config = detail::read_descriptor(doc.required("config"), config_rule(is_artifact));
  const auto layers = layer_rule(is_artifact);
  m.layers = doc.required("layers").array([&](const JsonReader& n) { return detail::read_descriptor(n, layers); });
  m.subject = doc.optional(
      "subject", [](const JsonReader& n) { return detail::read_descriptor(n, detail::manifest_or_index_rule()); });
  m.annotations = doc.value_or_default("annotations", &JsonReader::string_map);
  return m;
}

std::string Manifest::to_json() const {
  detail::Json doc{{"schemaVersion", schema_version},
                   {"mediaType", media_type},
                   {"config", detail::write_descriptor(config)},
                   {"layers", detail::json_array(layers, detail::write_descriptor)}};
  detail::set_optional(doc, "artifactType", artifact_type);
  detail::set_optional(doc, "subject", subject, detail::write_descriptor);
  detail::set_non_empty(doc, "annotations", annotations);
  return detail::dump_json_document(doc, kind);
}

std::int64_t Manifest::total_size() const noexcept {
  std::int64_t total = config.size;
  for (const auto& layer : layers) total = add_saturating(total, layer.size);
  return total;
}

}  // namespace v0
}  // namespace knast
