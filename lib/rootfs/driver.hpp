// Private: the snapshot drivers' one interface, in the manner of containerd's
// Snapshotter. Rootfs (rootfs.cpp) decides what to do — which chain, which container,
// the locking, the records —; a driver only makes and unmakes trees:
//
//   chains:     make_chain_tree → (layers applied by the caller) → publish_chain
//               or discard_chain; remove_chain when pruned
//   containers: prepare → (the container runs) → remove; diff reads the changes
//
// directory_driver.cpp, overlay_driver.cpp and zfs_driver.cpp implement it;
// make_driver() picks one.
#pragma once

#include <knast/rootfs.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace detail {

namespace fs = std::filesystem;

/// Where the cache and the containers live (paths only, nothing is touched).
struct RootfsPaths {
  fs::path rootfs;      ///< StateLayout::rootfs().
  fs::path containers;  ///< StateLayout::containers().

  fs::path chains() const { return rootfs / "sha256"; }
  fs::path tmp() const { return rootfs / "tmp"; }
  fs::path lock() const { return rootfs / "lock"; }
  fs::path chain_dir(const Digest& chain_id) const { return chains() / chain_id.hex(); }
  fs::path chain_tree(const Digest& chain_id) const { return chain_dir(chain_id) / "tree"; }
  fs::path chain_elf_index(const Digest& chain_id) const { return chain_dir(chain_id) / elf_index_name; }
  /// The ELF index's name in a chain's folder, beside tree/ (ApplyOptions::elf_index).
  static constexpr const char* elf_index_name = "elf-index";
  fs::path container_dir(std::string_view id) const { return containers / std::string(id); }
};

/// A chain being unpacked in `tmp/<name>/`; its root filesystem goes to `tree/`.
struct ChainBuild {
  std::string name;  ///< Unique among builds of every process.
  fs::path dir;      ///< tmp/<name>
  fs::path tree() const { return dir / "tree"; }
  fs::path elf_index() const { return dir / RootfsPaths::elf_index_name; }
};

/// What containers/<id>/rootfs.json records: everything remove() needs, in any process.
struct ContainerRecord {
  std::string id;
  SnapshotDriver driver = SnapshotDriver::directory;
  Digest chain_id = Digest::of(std::string_view{});
  fs::path dir;                 ///< containers/<id>
  fs::path path;                ///< The container's root.
  bool path_existed = false;    ///< An empty directory was there before create(): leave one.
  std::string zfs_dataset;      ///< zfs: the parent dataset in use when it was made.

  /// The ELF index of a root that is a copy (the directory driver), beside rootfs.json.
  fs::path elf_index() const { return dir / RootfsPaths::elf_index_name; }
};

/// Makes and unmakes the trees of one driver.
class Driver {
 public:
  virtual ~Driver() = default;

  /// Creates @p build's tree/, empty or — with @p parent — holding a copy of that cached
  /// chain's tree (the longest cached prefix of the chain being unpacked).
  virtual void make_chain_tree(const ChainBuild& build, const std::optional<Digest>& parent) = 0;
  /// Publishes @p build (its chain.json written) as the chain @p chain_id. False when
  /// another process published it first: ours is discarded, theirs kept.
  virtual bool publish_chain(const ChainBuild& build, const Digest& chain_id) = 0;
  /// Removes everything of an unpublished @p build. Never throws (it runs on failure paths).
  virtual void discard_chain(const ChainBuild& build) noexcept = 0;
  /// Removes the published chain @p chain_id (no container uses it).
  virtual void remove_chain(const Digest& chain_id) = 0;

  /// Makes @p record.path, the writable root of a container, from its chain. On failure
  /// leaves nothing behind that remove() would not undo.
  virtual void prepare(const ContainerRecord& record) = 0;
  /// Undoes prepare(), whatever part of it was done; idempotent.
  virtual void remove(const ContainerRecord& record) = 0;
  /// The changes of the container since prepare(), as a layer at @p output.
  virtual LayerDiff diff(const ContainerRecord& record, const fs::path& output, LayerCompression compression) const = 0;
};

/// The driver @p kind working under @p paths (@p zfs_dataset for zfs).
/// @throws Error unsupported (overlay off Linux, or without overlay in the kernel),
///         invalid_argument (zfs without a dataset).
std::unique_ptr<Driver> make_driver(SnapshotDriver kind, const RootfsPaths& paths, const std::string& zfs_dataset);

/// Copies the tree of the cached chain @p chain_id to @p to (copy_tree). The copy's
/// files are new inodes, which the chain's ELF index does not match, so the index (when
/// the chain keeps one) is carried over to @p index, unsynced. @returns whether it was.
bool copy_chain_tree(const RootfsPaths& paths, const Digest& chain_id, const fs::path& to, const fs::path& index);

/// The chain building, publishing and removal of plain directories, shared by the
/// directory and overlay drivers (the zfs driver makes datasets instead).
class DirectoryChains : public Driver {
 public:
  explicit DirectoryChains(RootfsPaths paths) : paths_(std::move(paths)) {}
  void make_chain_tree(const ChainBuild& build, const std::optional<Digest>& parent) override;
  bool publish_chain(const ChainBuild& build, const Digest& chain_id) override;
  void discard_chain(const ChainBuild& build) noexcept override;
  void remove_chain(const Digest& chain_id) override;

 protected:
  RootfsPaths paths_;
};

/// The directory driver: a container root is a writable copy of the chain's tree.
std::unique_ptr<Driver> make_directory_driver(const RootfsPaths& paths);
/// The overlay driver (Linux): the chain's tree as the lower layer of an overlay mount.
std::unique_ptr<Driver> make_overlay_driver(const RootfsPaths& paths);
/// The zfs driver: a dataset per chain, a snapshot, a clone per container.
std::unique_ptr<Driver> make_zfs_driver(const RootfsPaths& paths, const std::string& dataset);

}  // namespace detail
}  // namespace v0
}  // namespace knast
