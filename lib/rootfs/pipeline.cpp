// pull_and_unpack(): the pull runs on the calling thread; a worker applies layers in
// order as soon as each is in the store. The pull's progress callback (always on the
// calling thread) tells the worker when a blob is done or skipped — the pull reports
// `done` only after the blob is committed, so it is then visible in the store — and
// cancels the pull when the worker has failed. The chain is published only when both
// halves succeeded; otherwise the worker's ChainUnpack discards its build.
#include "registry/manifests.hpp"
#include "rootfs/chain_cache.hpp"
#include "rootfs/container_records.hpp"
#include "rootfs/driver.hpp"

#include <knast/error.hpp>
#include <knast/rootfs.hpp>

#include <fmt/format.h>

#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace knast {
inline namespace v0 {
namespace {

/// The manifest @p ref names for @p platform: resolved, and chosen from an index as
/// Registry::pull() chooses.
Manifest resolve_manifest(Registry& registry, const Reference& ref, const Platform& platform) {
  const ResolvedManifest root = registry.resolve(ref);
  if (is_manifest_media_type(root.descriptor.media_type)) return Manifest::parse(root.bytes);
  const Index index = Index::parse(root.bytes);
  const auto chosen = registry_detail::select_manifests(index, platform, false, "the index");
  return Manifest::parse(registry.resolve(ref.with_digest(chosen.front().digest)).bytes);
}

/// What the two threads share.
class Handoff {
 public:
  /// A blob is in the store (pull's thread).
  void arrived(const Digest& digest) {
    {
      const std::lock_guard lock(mutex_);
      in_store_.insert(digest);
    }
    changed_.notify_all();
  }
  /// The pull is over, well or not (pull's thread).
  void pull_ended(bool ok) {
    {
      const std::lock_guard lock(mutex_);
      pull_over_ = true;
      pull_ok_ = ok;
    }
    changed_.notify_all();
  }
  /// Waits until @p digest is in the store; false when the pull ended without it.
  bool wait_for(const Digest& digest, const ImageStore& store) {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (in_store_.count(digest)) return true;
      if (pull_over_) return pull_ok_ && store.has_blob(digest);
      changed_.wait(lock);
    }
  }
  /// The worker failed: the pull should stop (read by pull's thread).
  void worker_failed() { failed_.store(true); }
  bool failed() const { return failed_.load(); }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::set<Digest> in_store_;
  bool pull_over_ = false;
  bool pull_ok_ = false;
  std::atomic<bool> failed_{false};
};

}  // namespace

PullUnpackResult pull_and_unpack(Registry& registry, const Reference& ref, ImageStore& store, Rootfs& rootfs,
                                 const PullOptions& pull, const UnpackOptions& unpack) {
  if (pull.all_platforms)
    throw Error(ErrorCode::invalid_argument, "pull and unpack: one platform is unpacked; all_platforms is not for this");
  const Platform platform = pull.platform.value_or(unpack.platform.value_or(Platform::host()));
  const Manifest manifest = resolve_manifest(registry, ref, platform);
  const detail::RootfsPaths paths{rootfs.layout().rootfs(), rootfs.layout().containers()};
  const auto driver = detail::make_driver(rootfs.options().driver, paths, rootfs.options().zfs_dataset);

  Handoff handoff;
  std::optional<detail::ChainUnpack> chain;  // made by the worker, published by this thread
  std::exception_ptr worker_error;
  std::thread worker([&] {
    try {
      if (!handoff.wait_for(manifest.config.digest, store))
        return;  // the pull failed: its error is the one to report
      const ImageConfig config = ImageConfig::parse(store.read_blob(manifest.config.digest, max_config_bytes));
      chain.emplace(paths, *driver, rootfs.options().apply, manifest.layers, config.diff_ids, unpack.progress);
      while (chain->next_layer() < chain->layers().size()) {
        const Descriptor& layer = chain->layers()[chain->next_layer()];
        if (!handoff.wait_for(layer.digest, store)) return;
        chain->apply_next(store.blob_path(layer.digest));
      }
    } catch (...) {
      worker_error = std::current_exception();
      handoff.worker_failed();
    }
  });

  PullOptions options = pull;
  options.platform = platform;
  options.progress = [&](const Progress& p) {
    if (p.state == TransferState::done || p.state == TransferState::skipped) handoff.arrived(p.digest);
    if (handoff.failed()) return false;
    return !pull.progress || pull.progress(p);
  };
  std::optional<PullResult> pulled;
  try {
    pulled = registry.pull(ref, store, options);
    handoff.pull_ended(true);
  } catch (...) {
    handoff.pull_ended(false);
    worker.join();
    chain.reset();  // discards the build
    if (worker_error) std::rethrow_exception(worker_error);  // the cause; the pull only saw "cancelled"
    throw;
  }
  worker.join();
  if (worker_error) {
    chain.reset();
    std::rethrow_exception(worker_error);
  }
  if (!chain) throw Error(ErrorCode::internal, "pull and unpack: the unpack stopped without an error");
  PullUnpackResult result{std::move(*pulled), chain->finish()};
  for (const auto& record : detail::read_container_records(paths))
    if (record.chain_id == result.unpack.chain.chain_id) result.unpack.chain.containers.push_back(record.id);
  return result;
}

}  // namespace v0
}  // namespace knast
