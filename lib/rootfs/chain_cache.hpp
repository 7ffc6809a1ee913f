// Private: the cache of unpacked layer chains (see the on-disk layout in
// include/knast/rootfs.hpp): reading chain.json, listing chains, the cache lock, and
// ChainUnpack — one image's chain built layer by layer in tmp/ on top of the longest
// cached prefix and published by the driver. Used by Rootfs::unpack() and, layer by layer
// as blobs arrive, by pull_and_unpack().
#pragma once

#include "core/unique_fd.hpp"
#include "rootfs/driver.hpp"

#include <knast/rootfs.hpp>

#include <cstddef>
#include <future>
#include <optional>
#include <string>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// Takes the cache lock (flock on rootfs/lock): shared while unpacking or creating and
/// removing containers, exclusive while pruning.
UniqueFd lock_cache(const RootfsPaths& paths, bool exclusive);

/// The chain in @p dir (sha256/<hex>) if it is complete (its chain.json is readable),
/// without its containers. Unreadable chains are skipped, not errors: another process
/// may be publishing or removing one.
std::optional<ChainInfo> read_chain(const RootfsPaths& paths, const Digest& chain_id);
/// Every complete chain, sorted by chain ID, without their containers.
std::vector<ChainInfo> read_chains(const RootfsPaths& paths);

/// Bytes of regular file content under @p root, each inode once; never follows links.
std::uint64_t tree_content_bytes(const std::filesystem::path& root);

/// Checks and applies the layer @p blob (a file of the store) onto @p root in one read:
/// the file is hashed as it is read (it must be @p layer's digest) and so are its
/// decompressed bytes (they must be @p diff_id), on the thread that decompresses them.
/// On a mismatch the caller discards @p root.
/// @throws Error integrity (digest or diff_id), as apply_layer().
ApplyReport apply_verified_layer(const std::filesystem::path& root, const std::filesystem::path& blob,
                                 const Descriptor& layer, const Digest& diff_id, const ApplyOptions& options);

/// One image's chain, unpacked into the cache. Holds the cache lock (shared) from
/// construction; a build not published is discarded when this object goes.
class ChainUnpack {
 public:
  /// Checks @p layers against @p diff_ids (same count, at least one) and computes the
  /// chain IDs. @throws Error integrity (counts differ), invalid_argument (no layers).
  ChainUnpack(const RootfsPaths& paths, Driver& driver, const ApplyOptions& apply, std::vector<Descriptor> layers,
              std::vector<Digest> diff_ids, UnpackProgress progress);
  ~ChainUnpack();
  ChainUnpack(const ChainUnpack&) = delete;
  ChainUnpack& operator=(const ChainUnpack&) = delete;

  /// The chain ID of the whole image.
  const Digest& chain_id() const { return chain_ids_.back(); }
  /// Whether the whole chain is cached already (then finish() returns it, nothing applied).
  bool cached() const { return reused_.has_value(); }
  /// The layers of the image.
  const std::vector<Descriptor>& layers() const { return layers_; }
  /// The next layer to apply (layers().size() when all are applied).
  std::size_t next_layer() const { return next_; }
  /// Applies the next layer from @p blob (the store's file of layers()[next_layer()]).
  void apply_next(const std::filesystem::path& blob);
  /// Publishes the chain (all layers applied) and returns what was done.
  UnpackResult finish();

 private:
  void start_build();
  RootfsPaths paths_;
  Driver& driver_;
  ApplyOptions apply_;
  std::vector<Descriptor> layers_;
  std::vector<Digest> diff_ids_;
  std::vector<Digest> chain_ids_;
  UnpackProgress progress_;
  UniqueFd lock_;
  std::optional<ChainInfo> reused_;
  std::optional<ChainBuild> build_;
  std::size_t next_ = 0;
  std::size_t applied_ = 0;
  ApplyReport report_;
};

}  // namespace detail
}  // namespace v0
}  // namespace knast
