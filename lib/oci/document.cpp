#include "oci/oci_json.hpp"

#include <fmt/format.h>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

// Docker's schema 1 manifests, which knast refuses with a message of their own.
constexpr std::string_view docker_schema1_manifest = "application/vnd.docker.distribution.manifest.v1+json";
constexpr std::string_view docker_schema1_signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";

constexpr std::string_view schema1_unsupported =
    "Docker image manifest schema 1 is not supported (it is deprecated; push the image again with a current "
    "client to get a schema 2 or OCI manifest)";

struct KindTraits {
  bool (*is_own)(std::string_view) noexcept;
  bool (*is_other)(std::string_view) noexcept;
  std::string_view oci_default;
  std::string_view own_name;
  std::string_view other_name;
  std::string_view other_only_field;  // a required field only the other kind has
};

KindTraits traits(DocumentKind kind) {
  if (kind == DocumentKind::manifest)
    return {is_manifest_media_type, is_index_media_type, media_type::oci_manifest,
            "a manifest",           "an index",          "manifests"};
  return {is_index_media_type, is_manifest_media_type, media_type::oci_index, "an index", "a manifest", "layers"};
}

}  // namespace

void check_schema_version(const JsonReader& doc) {
  const auto version = doc.required("schemaVersion");
  const auto value = version.integer();
  if (value == 1) version.fail(schema1_unsupported, ErrorCode::unsupported);
  if (value != 2)
    version.fail(fmt::format("unsupported schema version {} (only 2 is known)", value), ErrorCode::unsupported);
}

std::string read_document_media_type(const JsonReader& doc, DocumentKind kind) {
  const auto t = traits(kind);
  const auto node = doc.optional("mediaType");
  if (!node) {
    // mediaType is optional in OCI documents; then only the shape tells the kinds apart.
    if (doc.contains(t.other_only_field))
      doc.fail(
          fmt::format("has \"{}\" and no mediaType: it is {}, not {}", t.other_only_field, t.other_name, t.own_name));
    return std::string(t.oci_default);
  }
  auto type = node->string();
  if (t.is_own(type)) return type;
  if (t.is_other(type)) node->fail(fmt::format("{} is {}, not {}", quote_text(type), t.other_name, t.own_name));
  if (type == docker_schema1_manifest || type == docker_schema1_signed)
    node->fail(schema1_unsupported, ErrorCode::unsupported);
  node->fail(fmt::format("unsupported media type {} (expected {})", quote_text(type), t.own_name),
             ErrorCode::unsupported);
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
