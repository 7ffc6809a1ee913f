// Rootfs: opening the cache, unpacking images into chains, listing and pruning chains.
// Container roots are in rootfs_containers.cpp.
#include "image_store/posix_io.hpp"
#include "rootfs/chain_cache.hpp"
#include "rootfs/container_records.hpp"
#include "rootfs/driver.hpp"
#include "rootfs/tree_walk.hpp"

#include <knast/error.hpp>
#include <knast/rootfs.hpp>

#include <fmt/format.h>

#include <map>
#include <set>

namespace knast {
inline namespace v0 {

namespace {

detail::RootfsPaths paths_of(const StateLayout& layout) { return {layout.rootfs(), layout.containers()}; }

std::unique_ptr<detail::Driver> driver_of(const StateLayout& layout, const RootfsOptions& options) {
  return detail::make_driver(options.driver, paths_of(layout), options.zfs_dataset);
}

/// The containers made from each chain.
std::map<Digest, std::vector<std::string>> containers_by_chain(const detail::RootfsPaths& paths) {
  std::map<Digest, std::vector<std::string>> out;
  for (const auto& record : detail::read_container_records(paths)) out[record.chain_id].push_back(record.id);
  return out;
}

}  // namespace

Rootfs Rootfs::open(const StateLayout& given_layout, const RootfsOptions& options) {
  // Absolute paths: they go into records and mount options, read later from anywhere.
  const StateLayout layout(std::filesystem::absolute(given_layout.root()).lexically_normal());
  driver_of(layout, options);  // refuses a driver this host cannot run, before anything is made
  const auto paths = paths_of(layout);
  try {
    for (const auto& dir : {paths.rootfs, paths.chains(), paths.tmp(), paths.containers})
      std::filesystem::create_directories(dir);
  } catch (const std::filesystem::filesystem_error& e) {
    throw Error(e.code().value(), fmt::format("open rootfs cache {}: {}", paths.rootfs.string(), e.what()));
  }
  return Rootfs(layout, options);
}

UnpackResult Rootfs::unpack(const ImageStore& store, const ResolvedImage& image, const UnpackOptions& options) {
  const auto driver = driver_of(layout_, options_);
  detail::ChainUnpack chain(paths_of(layout_), *driver, options_.apply, image.manifest.layers, image.config.diff_ids,
                            options.progress);
  while (chain.next_layer() < chain.layers().size())
    chain.apply_next(store.blob_path(chain.layers()[chain.next_layer()].digest));
  UnpackResult result = chain.finish();
  result.chain.containers = containers_by_chain(paths_of(layout_))[result.chain.chain_id];
  return result;
}

UnpackResult Rootfs::unpack(const ImageStore& store, std::string_view name_or_digest, const UnpackOptions& options) {
  return unpack(store, store.resolve(name_or_digest, options.platform), options);
}

std::vector<ChainInfo> Rootfs::list() const {
  const auto paths = paths_of(layout_);
  auto chains = detail::read_chains(paths);
  auto users = containers_by_chain(paths);
  for (auto& chain : chains) chain.containers = users[chain.chain_id];
  return chains;
}

std::optional<ChainInfo> Rootfs::find(const Digest& chain_id) const {
  const auto paths = paths_of(layout_);
  auto chain = detail::read_chain(paths, chain_id);
  if (chain) chain->containers = containers_by_chain(paths)[chain_id];
  return chain;
}

PruneReport Rootfs::prune(bool dry_run) {
  const auto paths = paths_of(layout_);
  const auto driver = driver_of(layout_, options_);
  const auto lock = detail::lock_cache(paths, true);  // no unpack or create runs meanwhile
  const auto users = containers_by_chain(paths);
  PruneReport report;
  for (const auto& chain : detail::read_chains(paths)) {
    if (users.count(chain.chain_id)) continue;
    report.removed.push_back(chain.chain_id);
    report.bytes_freed += chain.size;
    if (!dry_run) driver->remove_chain(chain.chain_id);
  }
  if (dry_run) return report;
  // What crashed processes left: builds in tmp/, chains without a readable chain.json.
  for (const std::string& name : detail::list_names_sorted(paths.tmp()))
    driver->discard_chain(detail::ChainBuild{name, paths.tmp() / name});
  for (const std::string& name : detail::list_names_sorted(paths.chains())) {
    const auto digest = Digest::try_parse("sha256:" + name);
    if (digest && !detail::read_chain(paths, *digest) && !users.count(*digest)) driver->remove_chain(*digest);
  }
  return report;
}

}  // namespace v0
}  // namespace knast
