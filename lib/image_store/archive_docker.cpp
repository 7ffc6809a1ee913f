// `docker save` archives. What knast writes follows skopeo's docker-archive writer:
//
//   <config hex>.json                 the image config, byte for byte
//   <layer digest hex>.tar            each layer blob as stored (see below)
//   <chain id hex>/VERSION, json      the legacy per-layer folders, whose layer.tar is
//   <chain id hex>/layer.tar          a symlink to ../<layer digest hex>.tar
//   manifest.json, repositories
//
// Layers are written as the store holds them: an uncompressed layer as the tar docker
// save writes (its digest is its diff_id), a gzip or zstd one compressed, which docker
// load and skopeo accept (they detect the compression, decompress and check the diff_id).
// Not recompressing keeps save as fast as a copy and the archive as small as the store.
// The hex in a layer's file name is always the digest of that file's bytes.
#include "image_store/archive_formats.hpp"

#include "image_store/archive_layer.hpp"
#include "image_store/archive_manifest.hpp"
#include "image_store/store_files.hpp"
#include "oci/json_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

// ---- load ------------------------------------------------------------------------------

// The files one manifest.json entry names, resolved through links to regular files.
struct ImageFiles {
  std::size_t index = 0;  // in manifest.json
  std::string config;
  std::vector<std::string> layers;
};

std::string file_named(const ArchiveFile& archive, const std::string& name, std::string_view named_by) {
  return in_context(named_by, [&] { return archive.regular_file(name); });
}

ImageFiles files_of(const ArchiveFile& archive, const DockerArchiveImage& image, std::size_t index) {
  ImageFiles files;
  files.index = index;
  files.config = file_named(archive, image.config, fmt::format("manifest.json: [{}].Config", index));
  for (std::size_t i = 0; i < image.layers.size(); ++i)
    files.layers.push_back(file_named(archive, image.layers[i], fmt::format("manifest.json: [{}].Layers[{}]", index, i)));
  return files;
}

// Each layer file with the diff_id its config gives it; one file used at two places
// must have one diff_id.
std::map<std::string, Digest, std::less<>> expected_diff_ids(const std::vector<ImageFiles>& files,
                                                             const std::vector<ImageConfig>& configs) {
  std::map<std::string, Digest, std::less<>> out;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& layers = files[i].layers;
    const auto& diff_ids = configs[i].diff_ids;
    if (diff_ids.size() != layers.size())
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("manifest.json: [{}] lists {} layers, but its config {} has {} diff_ids", files[i].index,
                              layers.size(), quote_text(files[i].config), diff_ids.size()));
    for (std::size_t j = 0; j < layers.size(); ++j) {
      const auto [it, inserted] = out.emplace(layers[j], diff_ids[j]);
      if (!inserted && it->second != diff_ids[j])
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("entry {} is given two diff_ids, {} and {}", quote_text(layers[j]),
                                it->second.string(), diff_ids[j].string()));
    }
  }
  return out;
}

Descriptor put_manifest(ImageStore& store, const Descriptor& config, const ImageFiles& files,
                        const std::map<std::string, IngestedLayer, std::less<>>& layers) {
  Manifest manifest;
  manifest.config = config;
  for (const auto& layer : files.layers) manifest.layers.push_back(layers.at(layer).descriptor);
  return store.put_blob(manifest.to_json(), std::string(media_type::oci_manifest));
}

// ---- save ------------------------------------------------------------------------------

struct SavedImage {
  ResolvedImage image;
  std::vector<Reference> names;
};

// Names that resolve to the same manifest become one manifest.json entry, as in docker.
std::vector<SavedImage> resolve_names(const ImageStore& store, const std::vector<Reference>& names) {
  std::vector<SavedImage> images;
  std::map<Digest, std::size_t> by_manifest;
  for (const auto& name : names) {
    auto resolved = in_context(name.string(), [&] {
      if (!store.find(name)) throw Error(ErrorCode::not_found, "no image has this name in the store");
      return store.resolve(name.string());
    });
    const auto [it, inserted] = by_manifest.emplace(resolved.manifest_descriptor.digest, images.size());
    if (inserted) images.push_back({std::move(resolved), {}});
    auto& image_names = images[it->second].names;
    if (std::find(image_names.begin(), image_names.end(), name) == image_names.end()) image_names.push_back(name);
  }
  return images;
}

std::string layer_file(const Descriptor& layer) { return layer.digest.hex() + ".tar"; }

// The legacy folders docker < 1.10 read: one per layer, named by the layer's chain ID
// (unique for the stack below it), each pointing at its parent.
std::string write_legacy_layers(TarWriter& out, const ResolvedImage& image, std::set<std::string>& written) {
  const auto& layers = image.manifest.layers;
  const auto& diff_ids = image.config.diff_ids;
  if (diff_ids.size() != layers.size())
    throw Error(ErrorCode::integrity, fmt::format("config {} has {} diff_ids for {} layers",
                                                  image.manifest.config.digest.string(), diff_ids.size(), layers.size()));
  std::string parent;
  std::optional<Digest> chain;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    chain = chain ? Digest::of(chain->string() + " " + diff_ids[i].string()) : diff_ids[i];
    const std::string id = chain->hex();
    if (written.insert(id).second) {
      Json legacy{{"id", id}};
      if (!parent.empty()) legacy["parent"] = parent;
      out.add_directory(id);
      out.add_file(id + "/VERSION", "1.0");
      out.add_file(id + "/json", dump_json_document(legacy, "legacy layer json"));
      out.add_symlink(id + "/layer.tar", "../" + layer_file(layers[i]));
    }
    parent = id;
  }
  return parent;
}

}  // namespace

std::vector<NamedTarget> load_docker_archive(ImageStore& store, ArchiveFile& archive, std::string_view manifest_json) {
  const auto images = parse_docker_manifest(manifest_json);
  std::vector<ImageFiles> files;
  for (std::size_t i = 0; i < images.size(); ++i)
    if (!images[i].names.empty()) files.push_back(files_of(archive, images[i], i));  // else no name would keep it
  if (files.empty())
    throw Error(ErrorCode::invalid_argument,
                "manifest.json names no image (no RepoTags); the store keeps images by name, so there is nothing to load");

  ArchiveFile::DocumentLimits config_limits;
  for (const auto& f : files) config_limits.emplace(f.config, max_config_bytes);
  const auto config_bytes = archive.read(config_limits);
  std::vector<ImageConfig> configs;
  for (const auto& f : files)
    configs.push_back(in_context(fmt::format("entry {}", quote_text(f.config)),
                                 [&] { return ImageConfig::parse(config_bytes.at(f.config)); }));
  const auto diff_ids = expected_diff_ids(files, configs);

  std::set<std::string, std::less<>> layer_names;
  for (const auto& [name, diff_id] : diff_ids) layer_names.insert(name);
  LayerCommits commits;
  archive.stream(layer_names, [&](const std::string& name, std::uint64_t size, ByteSource& data) {
    LayerExpectations expect;
    expect.size = size;
    expect.diff_id = diff_ids.at(name);
    commits.add(name, stream_layer(store, data, expect));
  });
  const auto layers = commits.results();

  std::vector<NamedTarget> targets;
  for (const auto& f : files) {
    const auto config = store.put_blob(config_bytes.at(f.config), std::string(media_type::oci_config));
    const auto manifest = put_manifest(store, config, f, layers);
    for (const auto& name : images[f.index].names) targets.push_back({name, manifest});
  }
  return targets;
}

void save_docker_archive(const ImageStore& store, const std::vector<Reference>& names, TarWriter& out) {
  std::vector<DockerArchiveImage> manifest;
  std::vector<std::pair<Reference, std::string>> top_layers;
  std::set<std::string> written;
  for (const auto& [image, image_names] : resolve_names(store, names)) {
    const auto& config = image.manifest.config;
    DockerArchiveImage entry{config.digest.hex() + ".json", image_names, {}};
    if (written.insert(entry.config).second)
      out.add_file(entry.config, store.read_blob(config.digest, max_config_bytes));
    for (const auto& layer : image.manifest.layers) {
      entry.layers.push_back(layer_file(layer));
      if (written.insert(entry.layers.back()).second) copy_blob(store, layer, entry.layers.back(), out);
    }
    const auto top = write_legacy_layers(out, image, written);
    if (!top.empty())
      for (const auto& name : image_names) top_layers.emplace_back(name, top);
    manifest.push_back(std::move(entry));
  }
  out.add_file("manifest.json", write_docker_manifest(manifest));
  out.add_file("repositories", write_docker_repositories(top_layers));
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
