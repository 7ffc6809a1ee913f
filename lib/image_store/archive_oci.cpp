// OCI archives: a tar of an OCI image layout (oci-layout, index.json, blobs/<alg>/<hex>),
// as `skopeo copy … oci-archive:FILE` and `docker buildx --output type=oci` write them.
// Blobs keep their digests in both directions, so a manifest digest survives a round trip.
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

std::string blob_entry(const Digest& digest) {
  return fmt::format("blobs/{}/{}", to_string(digest.algorithm()), digest.hex());
}

std::size_t document_limit(std::string_view type) {
  if (is_index_media_type(type)) return max_index_bytes;
  if (is_manifest_media_type(type)) return max_manifest_bytes;
  return max_config_bytes;
}

std::string blob_context(const Descriptor& blob) {
  return fmt::format("blob {} ({})", blob.digest.string(), blob.media_type);
}

// Foreign layers (with urls) are fetched from elsewhere; archives usually leave them out.
bool may_be_absent(const Descriptor& blob) { return is_layer_media_type(blob.media_type) && !blob.urls.empty(); }

void check_content(const Descriptor& blob, std::string_view bytes) {
  const auto actual = Digest::of(bytes, blob.digest.algorithm());
  if (actual != blob.digest || bytes.size() != static_cast<std::uint64_t>(blob.size))
    throw Error(ErrorCode::integrity, fmt::format("content has digest {} and {} bytes, expected {} bytes",
                                                  actual.string(), bytes.size(), blob.size));
}

// The index.json entry as a tag target: the names are the store's to write.
Descriptor without_names(Descriptor entry) {
  entry.annotations.erase(std::string(ref_name_annotation));
  entry.annotations.erase(std::string(containerd_name_annotation));
  return entry;
}

// A layer to stream, with the diff_id its image's config gives it (if it has one).
struct LayerPlan {
  Descriptor blob;
  std::optional<Digest> diff_id;
};

// Reads the graph below index.json level by level (indexes → manifests → configs), one
// archive pass per level for the small documents, then streams the layers in one pass.
class OciLoader {
 public:
  // Each level costs a pass over the archive; real images need three (index, manifest,
  // config) or four.
  static constexpr std::size_t max_levels = 8;

  OciLoader(ImageStore& store, ArchiveFile& archive) : store_(store), archive_(archive) {}

  void load(const std::vector<Descriptor>& roots) {
    std::size_t depth = 0;
    for (auto level = roots; !level.empty(); level = read_level(level))
      if (++depth > max_levels)
        throw Error(ErrorCode::limit_exceeded, fmt::format("index.json: indexes nested deeper than {} levels", max_levels));
    stream_layers(plan_layers());
    for (const auto& [digest, document] : documents_) put_document(document.first, document.second);
  }

 private:
  std::string file_of(const Descriptor& blob) const {
    return in_context(blob_context(blob), [&] { return archive_.regular_file(blob_entry(blob.digest)); });
  }

  std::vector<Descriptor> read_level(const std::vector<Descriptor>& level) {
    ArchiveFile::DocumentLimits limits;
    for (const auto& blob : level)
      if (!documents_.contains(blob.digest)) limits.emplace(file_of(blob), document_limit(blob.media_type));
    const auto read = archive_.read(limits);
    std::vector<Descriptor> next;
    for (const auto& blob : level) {
      if (documents_.contains(blob.digest)) continue;
      in_context(blob_context(blob), [&] {
        const auto& bytes = read.at(file_of(blob));
        check_content(blob, bytes);
        follow(blob, bytes, next);
        documents_.emplace(blob.digest, std::make_pair(blob, bytes));
      });
    }
    return next;
  }

  void follow(const Descriptor& blob, const std::string& bytes, std::vector<Descriptor>& next) {
    if (is_index_media_type(blob.media_type)) {
      const auto index = Index::parse(bytes);
      next.insert(next.end(), index.manifests.begin(), index.manifests.end());
    } else if (is_manifest_media_type(blob.media_type)) {
      auto manifest = Manifest::parse(bytes);
      next.push_back(manifest.config);
      manifests_.push_back(std::move(manifest));
    } else if (is_config_media_type(blob.media_type)) {
      configs_.emplace(blob.digest, ImageConfig::parse(bytes));
    }
  }

  std::map<Digest, LayerPlan> plan_layers() const {
    std::map<Digest, LayerPlan> plans;
    for (const auto& manifest : manifests_) {
      const auto config = configs_.find(manifest.config.digest);
      const auto* diff_ids = config == configs_.end() ? nullptr : &config->second.diff_ids;
      if (diff_ids && diff_ids->size() != manifest.layers.size())
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("config {} has {} diff_ids for the {} layers of its manifest",
                                manifest.config.digest.string(), diff_ids->size(), manifest.layers.size()));
      for (std::size_t i = 0; i < manifest.layers.size(); ++i) {
        const auto& layer = manifest.layers[i];
        const auto diff_id = diff_ids ? std::optional<Digest>((*diff_ids)[i]) : std::nullopt;
        const auto [it, inserted] = plans.emplace(layer.digest, LayerPlan{layer, diff_id});
        if (!inserted && diff_id && it->second.diff_id && *it->second.diff_id != *diff_id)
          throw Error(ErrorCode::invalid_argument, fmt::format("layer {} is given two diff_ids, {} and {}",
                                                               layer.digest.string(), it->second.diff_id->string(),
                                                               diff_id->string()));
      }
    }
    return plans;
  }

  void stream_layers(const std::map<Digest, LayerPlan>& plans) {
    std::map<std::string, const LayerPlan*, std::less<>> by_file;
    for (const auto& [digest, plan] : plans) {
      if (may_be_absent(plan.blob) && !archive_.contains(blob_entry(digest))) continue;
      if (!by_file.emplace(file_of(plan.blob), &plan).second)
        throw Error(ErrorCode::invalid_argument, fmt::format("{}: its file holds another blob too", blob_context(plan.blob)));
    }
    std::set<std::string, std::less<>> files;
    for (const auto& [file, plan] : by_file) files.insert(file);
    LayerCommits commits;
    // Errors name the entry, which is the digest.
    archive_.stream(files, [&](const std::string& file, std::uint64_t, ByteSource& data) {
      const auto& plan = *by_file.at(file);
      const auto compression = layer_compression(plan.blob.media_type);
      if (!compression) {
        ingest_blob(store_, data, plan.blob);  // an artifact's blob: stored as it is
        return;
      }
      LayerExpectations expect;
      expect.digest = plan.blob.digest;
      expect.size = static_cast<std::uint64_t>(plan.blob.size);
      expect.diff_id = plan.diff_id;
      expect.compression = compression;
      commits.add(file, stream_layer(store_, data, expect));
    });
    commits.results();
  }

  // Documents keep their bytes, and so their digests (whatever the algorithm).
  void put_document(const Descriptor& blob, std::string_view bytes) {
    in_context(blob_context(blob), [&] {
      BlobWriter writer = store_.ingest(blob.digest, bytes.size());
      writer.write(bytes);
      writer.commit();
    });
  }

  ImageStore& store_;
  ArchiveFile& archive_;
  std::map<Digest, std::pair<Descriptor, std::string>> documents_;
  std::vector<Manifest> manifests_;
  std::map<Digest, ImageConfig> configs_;
};

// ---- save ------------------------------------------------------------------------------

class OciSaver {
 public:
  OciSaver(const ImageStore& store, TarWriter& out) : store_(store), out_(out) {}

  void save(const Descriptor& target) {
    if (!written_.insert(target.digest).second) return;
    in_context(blob_context(target), [&] {
      if (!is_index_media_type(target.media_type) && !is_manifest_media_type(target.media_type)) {
        if (!store_.has_blob(target.digest) && may_be_absent(target)) return;
        copy_blob(store_, target, entry_for(target.digest), out_);
        return;
      }
      const auto bytes = store_.read_blob(target.digest, document_limit(target.media_type));
      out_.add_file(entry_for(target.digest), bytes);
      if (is_index_media_type(target.media_type)) {
        for (const auto& entry : Index::parse(bytes).manifests) save(entry);
      } else {
        const auto manifest = Manifest::parse(bytes);
        save(manifest.config);
        for (const auto& layer : manifest.layers) save(layer);
      }
    });
  }

 private:
  std::string entry_for(const Digest& digest) {
    const auto dir = fmt::format("blobs/{}", to_string(digest.algorithm()));
    if (directories_.insert(dir).second) {
      if (directories_.insert("blobs").second) out_.add_directory("blobs");
      out_.add_directory(dir);
    }
    return blob_entry(digest);
  }

  const ImageStore& store_;
  TarWriter& out_;
  std::set<Digest> written_;
  std::set<std::string> directories_;
};

}  // namespace

std::vector<NamedTarget> load_oci_archive(ImageStore& store, ArchiveFile& archive, std::string_view index_json,
                                          std::string_view layout_json) {
  check_oci_layout(layout_json);
  const auto index = in_context("index.json", [&] { return Index::parse(index_json); });
  std::vector<NamedTarget> targets;
  std::vector<Descriptor> roots;
  for (std::size_t i = 0; i < index.manifests.size(); ++i) {
    const auto& entry = index.manifests[i];
    const auto name = in_context(fmt::format("index.json: manifests[{}]", i), [&] { return oci_entry_name(entry); });
    if (!name) continue;  // unnamed entries: nothing would keep them in the store
    targets.push_back({*name, without_names(entry)});
    roots.push_back(entry);
  }
  if (targets.empty())
    throw Error(ErrorCode::invalid_argument,
                fmt::format("index.json names no image (no {} or {} annotation); the store keeps images by name, so "
                            "there is nothing to load",
                            ref_name_annotation, containerd_name_annotation));
  OciLoader(store, archive).load(roots);
  return targets;
}

void save_oci_archive(const ImageStore& store, const std::vector<Reference>& names, TarWriter& out) {
  out.add_file("oci-layout", oci_layout_json());
  OciSaver saver(store, out);
  Index index;
  std::set<std::string> saved;
  for (const auto& name : names) {
    if (!saved.insert(name.string()).second) continue;
    auto entry = in_context(name.string(), [&] {
      auto found = store.find(name);
      if (!found) throw Error(ErrorCode::not_found, "no image has this name in the store");
      saver.save(*found);
      return std::move(*found);
    });
    entry.annotations[std::string(ref_name_annotation)] = name.string();
    entry.annotations[std::string(containerd_name_annotation)] = name.string();
    index.manifests.push_back(std::move(entry));
  }
  out.add_file("index.json", index.to_json());
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
