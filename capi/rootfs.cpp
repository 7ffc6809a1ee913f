// C ABI for Rootfs: applying layers, the chain cache, container roots and diffs. Lists come
// back as JSON, as knast_image_store_inspect() does, so the ABI does not grow a handle per
// record type; the unpack progress callback runs on the caller's thread.
#include "guard.hpp"
#include "handles.hpp"

#include <knast/rootfs.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

struct knast_rootfs {
  knast::Rootfs rootfs;
};

namespace {

using knast::capi::guard;
using knast::capi::owned_string;
using knast::capi::require;

constexpr knast_apply_options default_apply_options = KNAST_APPLY_OPTIONS_INIT;
constexpr knast_rootfs_options default_rootfs_options = KNAST_ROOTFS_OPTIONS_INIT;
constexpr knast_unpack_options default_unpack_options = KNAST_UNPACK_OPTIONS_INIT;

knast::ApplyOptions apply_options(const knast_apply_options& c) {
  knast::ApplyOptions o;
  o.max_bytes = c.max_bytes;
  o.max_entries = c.max_entries;
  o.allow_devices = c.allow_devices != 0;
  if (c.owners >= 0) o.preserve_owners = c.owners != 0;
  o.xattrs = c.no_xattrs == 0;
  if (c.elf_index != nullptr) o.elf_index = c.elf_index;
  return o;
}

// What a caller of each earlier version passed (knast::capi::options_or_default).
const auto apply_option_sizes = {offsetof(knast_apply_options, elf_index), sizeof(knast_apply_options)};
const auto rootfs_option_sizes = {offsetof(knast_rootfs_options, apply) + offsetof(knast_apply_options, elf_index),
                                  sizeof(knast_rootfs_options)};

knast::UnpackOptions unpack_options(const knast_unpack_options* opts) {
  const auto c = knast::capi::options_or_default(opts, default_unpack_options);
  knast::UnpackOptions o;
  if (c.platform != nullptr) o.platform = knast::Platform::parse(c.platform);
  if (c.progress != nullptr) {
    o.progress = [callback = c.progress, payload = c.payload](std::size_t index, std::size_t count,
                                                              const knast::Digest& diff_id, bool cached) {
      callback(index, count, diff_id.string().c_str(), cached ? 1 : 0, payload);
    };
  }
  return o;
}

knast::LayerCompression compression_of(uint32_t value) {
  switch (value) {
    case KNAST_LAYER_NONE: return knast::LayerCompression::none;
    case KNAST_LAYER_GZIP: return knast::LayerCompression::gzip;
    case KNAST_LAYER_ZSTD: return knast::LayerCompression::zstd;
    default: throw knast::Error(knast::ErrorCode::invalid_argument, "unknown layer compression " + std::to_string(value));
  }
}

// Hands out a diff's two digests, both made before either is given away so a failure
// leaks neither.
void hand_out_diff(char** digest, char** diff_id, const knast::LayerDiff& diff) {
  std::unique_ptr<char, decltype(&knast_string_free)> first(
      digest != nullptr ? owned_string(diff.descriptor.digest.string()) : nullptr, &knast_string_free);
  if (diff_id != nullptr) *diff_id = owned_string(diff.diff_id.string());
  if (digest != nullptr) *digest = first.release();
}

void clear(char** out) {
  if (out != nullptr) *out = nullptr;
}

nlohmann::json chain_json(const knast::ChainInfo& chain) {
  nlohmann::json diff_ids = nlohmann::json::array();
  for (const auto& d : chain.diff_ids) diff_ids.push_back(d.string());
  return {{"chain_id", chain.chain_id.string()}, {"diff_ids", diff_ids}, {"path", chain.path.string()},
          {"size", chain.size}, {"created", chain.created}, {"containers", chain.containers},
          {"elf_index", chain.elf_index.empty() ? nlohmann::json() : nlohmann::json(chain.elf_index.string())}};
}

nlohmann::json container_json(const knast::ContainerRootfs& c) {
  return {{"id", c.id}, {"chain_id", c.chain_id.string()}, {"driver", std::string(knast::to_string(c.driver))},
          {"path", c.path.string()},
          {"elf_index", c.elf_index.empty() ? nlohmann::json() : nlohmann::json(c.elf_index.string())}};
}

template <typename Items, typename ToJson>
char* json_array(const Items& items, ToJson to_json) {
  nlohmann::json array = nlohmann::json::array();
  for (const auto& item : items) array.push_back(to_json(item));
  return owned_string(array.dump());
}

}  // namespace

extern "C" {

knast_status knast_apply_options_init(knast_apply_options* opts, unsigned int version) {
  return guard([&] { knast::capi::init_options(opts, version, default_apply_options); });
}

knast_status knast_apply_layer(knast_apply_report* report, const char* root, const char* layer, const char* media_type,
                               const knast_apply_options* opts) {
  return guard([&] {
    require(root, "root");
    require(layer, "layer");
    const auto options =
        apply_options(knast::capi::options_or_default(opts, default_apply_options, apply_option_sizes));
    const auto r = knast::apply_layer(root, layer, options, media_type != nullptr ? media_type : "");
    if (report != nullptr) *report = {r.entries, r.bytes, r.whiteouts, r.skipped_devices, r.skipped_xattrs};
  });
}

knast_status knast_chain_id(char** out, const char* const* diff_ids, size_t count) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    if (count > 0) require(diff_ids, "diff_ids");
    std::vector<knast::Digest> digests;
    digests.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      require(diff_ids[i], "diff_id");
      digests.push_back(knast::Digest::parse(diff_ids[i]));
    }
    *out = owned_string(knast::chain_id(digests).string());
  });
}

knast_status knast_write_layer_diff(char** digest, char** diff_id, const char* base, const char* changed,
                                    const char* output, uint32_t compression) {
  return guard([&] {
    clear(digest);
    clear(diff_id);
    require(base, "base");
    require(changed, "changed");
    require(output, "output");
    hand_out_diff(digest, diff_id, knast::write_layer_diff(base, changed, output, compression_of(compression)));
  });
}

knast_status knast_rootfs_options_init(knast_rootfs_options* opts, unsigned int version) {
  return guard([&] { knast::capi::init_options(opts, version, default_rootfs_options); });
}

knast_status knast_rootfs_open(knast_rootfs** out, const char* state_root, const knast_rootfs_options* opts) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(state_root, "state_root");
    const auto c = knast::capi::options_or_default(opts, default_rootfs_options, rootfs_option_sizes);
    knast::RootfsOptions options;
    if (c.driver != nullptr) options.driver = knast::parse_snapshot_driver(c.driver);
    if (c.zfs_dataset != nullptr) options.zfs_dataset = c.zfs_dataset;
    options.apply = apply_options(knast::capi::options_or_default(&c.apply, default_apply_options, apply_option_sizes));
    *out = new knast_rootfs{knast::Rootfs::open(knast::StateLayout(state_root), options)};
  });
}

void knast_rootfs_free(knast_rootfs* rootfs) { delete rootfs; }

knast_status knast_unpack_options_init(knast_unpack_options* opts, unsigned int version) {
  return guard([&] { knast::capi::init_options(opts, version, default_unpack_options); });
}

knast_status knast_rootfs_unpack(char** chain_id, char** path, knast_rootfs* rootfs, knast_image_store* store,
                                 const char* image, const knast_unpack_options* opts) {
  return guard([&] {
    require(chain_id, "chain_id");
    *chain_id = nullptr;
    clear(path);
    require(rootfs, "rootfs");
    require(store, "store");
    require(image, "image");
    const auto result = rootfs->rootfs.unpack(store->store, image, unpack_options(opts));
    std::unique_ptr<char, decltype(&knast_string_free)> id(owned_string(result.chain.chain_id.string()),
                                                           &knast_string_free);
    if (path != nullptr) *path = owned_string(result.chain.path.string());
    *chain_id = id.release();
  });
}

knast_status knast_pull_and_unpack(char** chain_id, knast_registry* registry, knast_image_store* store,
                                   knast_rootfs* rootfs, const char* reference, const knast_pull_options* pull,
                                   const knast_unpack_options* unpack) {
  return guard([&] {
    require(chain_id, "chain_id");
    *chain_id = nullptr;
    require(registry, "registry");
    require(store, "store");
    require(rootfs, "rootfs");
    require(reference, "reference");
    const auto result = knast::pull_and_unpack(registry->registry, knast::Reference::parse(reference), store->store,
                                               rootfs->rootfs, knast::capi::pull_options_from(pull),
                                               unpack_options(unpack));
    *chain_id = owned_string(result.unpack.chain.chain_id.string());
  });
}

knast_status knast_rootfs_list(char** json, knast_rootfs* rootfs) {
  return guard([&] {
    require(json, "json");
    *json = nullptr;
    require(rootfs, "rootfs");
    *json = json_array(rootfs->rootfs.list(), chain_json);
  });
}

knast_status knast_rootfs_prune(size_t* removed, uint64_t* bytes_freed, knast_rootfs* rootfs, int dry_run) {
  return guard([&] {
    require(rootfs, "rootfs");
    const auto report = rootfs->rootfs.prune(dry_run != 0);
    if (removed != nullptr) *removed = report.removed.size();
    if (bytes_freed != nullptr) *bytes_freed = report.bytes_freed;
  });
}

knast_status knast_rootfs_create(char** path, knast_rootfs* rootfs, const char* chain_id, const char* id,
                                 const char* target) {
  return guard([&] {
    clear(path);
    require(rootfs, "rootfs");
    require(chain_id, "chain_id");
    require(id, "id");
    knast::CreateOptions options;
    if (target != nullptr) options.path = target;
    const auto made = rootfs->rootfs.create(knast::Digest::parse(chain_id), id, options);
    if (path != nullptr) *path = owned_string(made.path.string());
  });
}

knast_status knast_rootfs_containers(char** json, knast_rootfs* rootfs) {
  return guard([&] {
    require(json, "json");
    *json = nullptr;
    require(rootfs, "rootfs");
    *json = json_array(rootfs->rootfs.containers(), container_json);
  });
}

knast_status knast_rootfs_remove(int* removed, knast_rootfs* rootfs, const char* id) {
  return guard([&] {
    require(rootfs, "rootfs");
    require(id, "id");
    const bool existed = rootfs->rootfs.remove(id);
    if (removed != nullptr) *removed = existed ? 1 : 0;
  });
}

knast_status knast_rootfs_diff(char** digest, char** diff_id, knast_rootfs* rootfs, const char* id,
                               const char* output, uint32_t compression) {
  return guard([&] {
    clear(digest);
    clear(diff_id);
    require(rootfs, "rootfs");
    require(id, "id");
    require(output, "output");
    hand_out_diff(digest, diff_id, rootfs->rootfs.diff(id, output, compression_of(compression)));
  });
}

}  // extern "C"
