#include <knast/image_store.hpp>

#include <nlohmann/json.hpp>

namespace knast {
inline namespace v0 {

// The documents are re-parsed from their own canonical JSON so that the output nests
// them as objects rather than as strings.
std::string to_json(const ResolvedImage& image) {
  using nlohmann::json;
  json out{{"name", image.name ? json(*image.name) : json(nullptr)},
           {"index", image.index ? json(image.index->digest.string()) : json(nullptr)},
           {"digest", image.manifest_descriptor.digest.string()},
           {"manifest", json::parse(image.manifest.to_json())},
           {"config", json::parse(image.config.to_json())}};
  return out.dump(2);
}

// A name is looked up first, as docker does. A digest also parses as a name with a tag
// ("sha256:<hex>" is docker.io/library/sha256:<hex>), which is simply not found.
Descriptor ImageStore::target_of(std::string_view name_or_digest) const {
  if (auto reference = Reference::try_parse(name_or_digest)) {
    if (auto found = find(*reference)) return *found;
  }
  ResolvedImage image = resolve(name_or_digest);
  return image.index ? *image.index : image.manifest_descriptor;
}

}  // namespace v0
}  // namespace knast
