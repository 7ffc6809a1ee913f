#include "oci/oci_json.hpp"

#include <fmt/format.h>

namespace knast {
inline namespace v0 {
namespace detail {

Descriptor read_descriptor(const JsonReader& node, const MediaTypeRule& rule) {
  Descriptor d;
  const auto type = node.required("mediaType");
  d.media_type = type.string();
  if (!rule.accepts(d.media_type))
    type.fail(fmt::format("unsupported media type {} (expected {})", quote_text(d.media_type), rule.expected),
              ErrorCode::unsupported);
  d.digest = node.required("digest").digest();
  d.size = node.required("size").non_negative_integer();
  d.urls = node.value_or_default("urls", &JsonReader::strings);
  d.annotations = node.value_or_default("annotations", &JsonReader::string_map);
  d.platform = node.optional("platform", read_platform);
  d.artifact_type = node.optional("artifactType", &JsonReader::non_empty_string);
  d.data = node.optional("data", &JsonReader::string);
  return d;
}

Json write_descriptor(const Descriptor& d) {
  Json out{{"mediaType", d.media_type}, {"digest", d.digest.string()}, {"size", d.size}};
  set_non_empty(out, "urls", d.urls);
  set_non_empty(out, "annotations", d.annotations);
  set_optional(out, "platform", d.platform, [](const Platform& p) {
    Json platform = Json::object();
    write_platform_fields(platform, p);
    return platform;
  });
  set_optional(out, "artifactType", d.artifact_type);
  set_optional(out, "data", d.data);
  return out;
}

MediaTypeRule manifest_or_index_rule() {
  return {[](std::string_view type) { return is_manifest_media_type(type) || is_index_media_type(type); },
          "a manifest or an index"};
}

Platform read_platform(const JsonReader& node) {
  Platform p;
  p.architecture = node.required("architecture").non_empty_string();
  p.os = node.required("os").non_empty_string();
  p.variant = node.value_or_default("variant", &JsonReader::string);
  p.os_version = node.value_or_default("os.version", &JsonReader::string);
  p.os_features = node.value_or_default("os.features", &JsonReader::strings);
  return p;
}

void write_platform_fields(Json& object, const Platform& p) {
  object["architecture"] = p.architecture;
  object["os"] = p.os;
  set_non_empty(object, "variant", p.variant);
  set_non_empty(object, "os.version", p.os_version);
  set_non_empty(object, "os.features", p.os_features);
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
