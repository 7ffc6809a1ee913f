#include "image_store/archive_manifest.hpp"

#include "image_store/archive_paths.hpp"
#include "oci/json_reader.hpp"

#include <knast/image_store.hpp>

#include <fmt/format.h>

#include <map>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

constexpr std::string_view manifest_kind = "manifest.json";
constexpr std::string_view layout_kind = "oci-layout";
constexpr std::string_view layout_version = "1.0.0";

// manifest.json is an array, so parse_json_document(), which takes only objects, does not
// fit; the limits are the same.
Json parse_json_array(std::string_view text, std::string_view kind, std::size_t max_bytes) {
  Json doc = parse_json_value(text, kind, max_bytes);
  if (!doc.is_array()) throw Error(ErrorCode::invalid_argument, fmt::format("{}: must be a JSON array", kind));
  return doc;
}

// Runs @p check on the string at @p node, turning its Error into one at node's path.
template <typename Check>
auto checked_string(const JsonReader& node, Check&& check) {
  const auto text = node.string();
  try {
    return check(text);
  } catch (const Error& e) {
    node.fail(e.what(), e.kind());
  }
}

std::string read_path(const JsonReader& node) {
  return checked_string(node, [](const std::string& path) {
    auto normalised = normalize_archive_path(path, "path");
    if (normalised.empty()) throw Error(ErrorCode::invalid_argument, "path names the archive's root");
    return normalised;
  });
}

Reference read_tagged_name(const JsonReader& node) {
  return checked_string(node, [](const std::string& text) {
    auto name = Reference::parse(text);
    if (name.digest())
      throw Error(ErrorCode::invalid_argument, fmt::format("{} has a digest; a tag is expected", quote_text(text)));
    return name;
  });
}

DockerArchiveImage read_image(const JsonReader& node) {
  DockerArchiveImage image;
  image.config = read_path(node.required("Config"));
  image.names = node.value_or_default("RepoTags", [](const JsonReader& tags) { return tags.array(read_tagged_name); });
  image.layers = node.required("Layers").array(read_path);
  return image;
}

}  // namespace

std::vector<DockerArchiveImage> parse_docker_manifest(std::string_view json) {
  const auto doc = parse_json_array(json, manifest_kind, max_manifest_bytes);
  return JsonReader(doc, manifest_kind).array(read_image);
}

std::string write_docker_manifest(const std::vector<DockerArchiveImage>& images) {
  const auto doc = json_array(images, [](const DockerArchiveImage& image) {
    return Json{{"Config", image.config},
                {"RepoTags", json_array(image.names, [](const Reference& r) { return r.familiar(); })},
                {"Layers", image.layers}};
  });
  return dump_json_document(doc, manifest_kind);
}

std::string write_docker_repositories(const std::vector<std::pair<Reference, std::string>>& top_layers) {
  Json doc = Json::object();
  for (const auto& [name, layer_id] : top_layers)
    if (name.tag()) doc[name.familiar_name()][*name.tag()] = layer_id;
  return dump_json_document(doc, "repositories");
}

void check_oci_layout(std::string_view json) {
  const auto root = parse_json_document(json, layout_kind, max_oci_layout_bytes);
  const auto version = JsonReader(root, layout_kind).required("imageLayoutVersion");
  if (version.string() != layout_version)
    version.fail(fmt::format("knast reads layout version {}, got {}", layout_version, quote_text(version.string())),
                 ErrorCode::unsupported);
}

std::string oci_layout_json() { return dump_json_document(Json{{"imageLayoutVersion", layout_version}}, layout_kind); }

std::optional<Reference> oci_entry_name(const Descriptor& entry) {
  for (const auto key : {containerd_name_annotation, ref_name_annotation}) {
    const auto it = entry.annotations.find(std::string(key));
    if (it == entry.annotations.end()) continue;
    const auto name = Reference::try_parse(it->second);
    if (!name || name->digest())
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("annotation {}: {} is not a tagged image name", key, quote_text(it->second)));
    return name;
  }
  return std::nullopt;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
