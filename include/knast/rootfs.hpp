/// @file rootfs.hpp
/// @brief Rootfs: from an image in the store to a root filesystem a container can use —
///        layers applied exactly and never outside the root, unpacked layer chains cached
///        and shared, and per-container writable roots made by a snapshot driver.
///
/// On disk, under StateLayout::rootfs() and StateLayout::containers():
///
/// ```
/// rootfs/
///   sha256/<hex>/        one unpacked layer chain, named by its chain ID
///     tree/              the root filesystem of the chain (never written once published)
///     chain.json         {"chain_id", "diff_ids", "size", "created"}
///   tmp/                 chains being unpacked; removed on failure, renamed when done
///   lock                 flock: shared while a chain is used, exclusive while pruning
/// containers/<id>/
///   rootfs.json          {"driver", "chain_id", "path", ...}: what remove() must undo
///   rootfs/              the writable root (directory copy, overlay mount point, zfs clone)
///   upper/, work/        the overlay driver's writable layer
/// ```
///
/// Confinement: every path in a layer is resolved as if the root were `/` (chroot
/// semantics, as docker applies layers): `..` stops at the root, an absolute symlink
/// resolves against the root, and nothing outside the root is ever created, changed or
/// removed. Entries that cannot be confined that way (a hardlink whose target is not in
/// the root, a whiteout that names the root itself) make the layer refused.
#pragma once

#include <knast/digest.hpp>
#include <knast/export.hpp>
#include <knast/image_store.hpp>
#include <knast/layout.hpp>
#include <knast/platform.hpp>
#include <knast/reference.hpp>
#include <knast/registry.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {

// ---- Applying layers ------------------------------------------------------------------

/// Limits and permissions for applying layers.
struct KNAST_API ApplyOptions {
  /// Most bytes of file content one apply may write; a decompression bomb stops here with
  /// limit_exceeded instead of filling the disk. 0 means no cap.
  std::uint64_t max_bytes = std::uint64_t{64} << 30;
  /// Most tar entries one apply may process (files, directories, links, whiteouts).
  /// 0 means no cap.
  std::uint64_t max_entries = 10'000'000;
  /// Create device nodes. Honoured only when the process runs as root; otherwise (and by
  /// default) they are skipped and counted in ApplyReport::skipped_devices.
  bool allow_devices = false;
  /// Set owners from the layer. Unset: when the process runs as root.
  std::optional<bool> preserve_owners;
  /// Restore extended attributes (Linux xattrs, FreeBSD extattrs). Attributes the file
  /// system refuses are counted in ApplyReport::skipped_xattrs, not fatal.
  bool xattrs = true;
  /// When not empty: the file (created if missing, appended to) where the apply lists
  /// every regular file it writes, by inode, size, ctime and mtime, whether its content
  /// starts with the ELF magic and, for an ELF file, what its header says. brand_tree()
  /// given it (BrandOptions::elf_index) skips opening the files it shows unchanged and not
  /// ELF, and in mode `all` reading the ELF files. Keep it beside the root, never
  /// inside. Rootfs::unpack() keeps one per chain (ChainInfo::elf_index).
  std::filesystem::path elf_index;
};

/// What applying one or more layers did.
struct KNAST_API ApplyReport {
  std::uint64_t entries = 0;          ///< Tar entries processed (whiteouts included).
  std::uint64_t bytes = 0;            ///< Bytes of file content written.
  std::uint64_t whiteouts = 0;        ///< Whiteouts and opaque markers applied.
  std::uint64_t skipped_devices = 0;  ///< Device nodes not created (not allowed, or not root).
  std::uint64_t skipped_xattrs = 0;   ///< Extended attributes the file system refused.
  std::vector<std::string> warnings;  ///< One line per skipped thing (the first 100).

  /// Adds @p other's counts and warnings to this report.
  ApplyReport& operator+=(const ApplyReport& other);
};

/// Applies one layer — a tar, plain or compressed with gzip or zstd (detected from its
/// bytes) — onto the directory @p root, with OCI whiteouts and the confinement described
/// in this file's overview. When @p media_type is not empty the detected compression must
/// agree with it (integrity otherwise).
///
/// A refused layer (invalid_argument naming the entry for hostile or corrupt entries,
/// integrity for checksum and size mismatches, limit_exceeded for the caps) may leave
/// @p root partly applied: this call does not roll back. Rootfs::unpack() does, by
/// applying into a fresh directory that it discards on failure.
/// @throws Error invalid_argument, integrity, limit_exceeded, not_found (no @p layer or
///         @p root), io.
KNAST_API ApplyReport apply_layer(const std::filesystem::path& root, const std::filesystem::path& layer,
                                  const ApplyOptions& options = {}, std::string_view media_type = {});

/// The chain ID of a stack of layers, bottom first, as the OCI image spec defines it:
/// the first diff_id, then `sha256(parent_chain_id + " " + diff_id)` for each next one.
/// @throws Error invalid_argument for an empty list.
KNAST_API Digest chain_id(std::span<const Digest> diff_ids);

// ---- Diff -----------------------------------------------------------------------------

/// How a layer file is compressed.
enum class LayerCompression {
  none,  ///< A plain tar (`application/vnd.oci.image.layer.v1.tar`).
  gzip,  ///< `...tar+gzip`.
  zstd,  ///< `...tar+zstd`.
};

/// What a diff wrote.
struct KNAST_API LayerDiff {
  Descriptor descriptor;     ///< The layer file: OCI layer media type, digest, size.
  Digest diff_id = Digest::of(std::string_view{});  ///< The digest of its uncompressed tar.
  std::size_t changes = 0;   ///< Entries written (additions, changes and whiteouts).
};

/// Writes the changes that turn the tree @p base into the tree @p changed as an OCI
/// layer at @p output: added and changed entries, `.wh.NAME` for removed ones, and
/// `.wh..wh..opq` for a directory that replaced a non-directory. Applying the result onto
/// a copy of @p base gives a tree equal to @p changed (contents, modes, owners, mtimes,
/// symlinks, hardlinks, xattrs). Nothing is written through a symlink of either tree.
/// @throws Error not_found, io.
KNAST_API LayerDiff write_layer_diff(const std::filesystem::path& base, const std::filesystem::path& changed,
                                     const std::filesystem::path& output,
                                     LayerCompression compression = LayerCompression::gzip);

// ---- Chains, drivers and container roots ----------------------------------------------

/// How container roots are made from cached chains.
enum class SnapshotDriver {
  directory,  ///< Portable: a writable copy of the chain (reflink / copy_file_range where possible).
  overlay,    ///< Linux: an overlay mount, the chain as its lower layer, upper/work per container.
  zfs,        ///< A dataset per chain, a snapshot, a clone per container (zfs(8)).
};

/// "directory", "overlay" or "zfs".
KNAST_API std::string_view to_string(SnapshotDriver driver) noexcept;
/// The driver named @p name. @throws Error invalid_argument naming the known ones.
KNAST_API SnapshotDriver parse_snapshot_driver(std::string_view name);

/// How a Rootfs works.
struct KNAST_API RootfsOptions {
  SnapshotDriver driver = SnapshotDriver::directory;  ///< How container roots are made.
  /// zfs: the dataset under which chains and clones live ("zroot/knast"); required for zfs.
  std::string zfs_dataset;
  ApplyOptions apply;                                 ///< Limits and permissions for every layer.
};

/// An unpacked layer chain in the cache.
struct KNAST_API ChainInfo {
  Digest chain_id = Digest::of(std::string_view{});  ///< The chain's ID.
  std::vector<Digest> diff_ids;                       ///< Its layers, bottom first.
  std::filesystem::path path;                         ///< Its root tree (read-only by convention).
  /// Its ELF index (ApplyOptions::elf_index): the files its layers wrote, and those of a
  /// cached prefix it was copied from, for brand_tree() on this tree; empty for a chain
  /// unpacked before knast kept one. A container root has its own
  /// (ContainerRootfs::elf_index).
  std::filesystem::path elf_index;
  std::uint64_t size = 0;                             ///< Bytes of file content in it.
  std::string created;                                ///< When it was unpacked (RFC 3339, UTC).
  std::vector<std::string> containers;                ///< Containers whose root is made from it.
};

/// Reports which layer of an image is being applied: @p index of @p count (0-based), its
/// diff_id, and whether it came from the cache.
using UnpackProgress = std::function<void(std::size_t index, std::size_t count, const Digest& diff_id, bool cached)>;

/// What unpack() chooses and reports.
struct KNAST_API UnpackOptions {
  /// The platform to choose from an index; by default the host's.
  std::optional<Platform> platform;
  /// Called before each layer; may be empty.
  UnpackProgress progress;
};

/// What unpack() did.
struct KNAST_API UnpackResult {
  ChainInfo chain;                  ///< The chain, now in the cache.
  bool reused = false;              ///< Everything was already unpacked.
  std::size_t layers_applied = 0;   ///< Layers applied by this call (0 when reused).
  ApplyReport report;               ///< What applying them did.
};

/// A container's writable root.
struct KNAST_API ContainerRootfs {
  std::string id;                                     ///< The container's ID.
  Digest chain_id = Digest::of(std::string_view{});   ///< The chain it was made from.
  SnapshotDriver driver = SnapshotDriver::directory;  ///< The driver that made it.
  std::filesystem::path path;                         ///< The root the container sees.
  /// The ELF index that describes this root, for brand_tree(): the chain's, where the
  /// root keeps the chain's files (an overlay, a ZFS clone), or one written while the
  /// directory driver copied them; empty when the chain keeps none.
  std::filesystem::path elf_index;
};

/// Where create() puts a container's root.
struct KNAST_API CreateOptions {
  /// The container root; by default `containers/<id>/rootfs`. Elsewhere it must be an
  /// empty or missing directory (`knast unpack IMAGE DIR` uses this).
  std::optional<std::filesystem::path> path;
};

/// What prune() removed (or would remove, in a dry run).
struct KNAST_API PruneReport {
  std::vector<Digest> removed;   ///< Chains removed.
  std::uint64_t bytes_freed = 0; ///< Their content bytes.
};

/// The cache of unpacked layer chains and the container roots made from them. Safe to
/// share between threads and processes: chains are built in `tmp/` and published by
/// rename, so two processes unpacking the same image both succeed and leave one copy.
class KNAST_API Rootfs {
 public:
  /// Opens (creating the folders of) the cache under @p layout, made absolute (its paths
  /// go into container records and mount options). @throws Error
  /// unsupported when @p options names a driver this OS cannot run (overlay off Linux),
  /// invalid_argument (zfs without a dataset), io.
  static Rootfs open(const StateLayout& layout, const RootfsOptions& options = {});

  /// The options in use.
  const RootfsOptions& options() const noexcept { return options_; }
  /// The state layout in use.
  const StateLayout& layout() const noexcept { return layout_; }

  /// Unpacks @p image (a resolved image of @p store) into the cache, reusing the longest
  /// cached prefix of its chain, so a chain already unpacked is never unpacked again.
  /// Layers are checked against their manifest digests as they are read and against the
  /// config's diff_ids; a refused layer leaves nothing in the cache.
  /// @throws Error as apply_layer(), not_found (a layer missing from the store), integrity.
  UnpackResult unpack(const ImageStore& store, const ResolvedImage& image, const UnpackOptions& options = {});
  /// Resolves @p name_or_digest in @p store (with UnpackOptions::platform), then unpacks it.
  UnpackResult unpack(const ImageStore& store, std::string_view name_or_digest, const UnpackOptions& options = {});

  /// The chains in the cache.
  std::vector<ChainInfo> list() const;
  /// The chain @p chain_id, if cached.
  std::optional<ChainInfo> find(const Digest& chain_id) const;
  /// Removes every chain no container uses (in a dry run, reports them only).
  PruneReport prune(bool dry_run = false);

  /// Makes a writable root for container @p id from the cached chain @p chain_id with the
  /// driver in use. @throws Error not_found (no such chain), already_exists (the id is
  /// taken), invalid_argument (a bad id or a non-empty path), permission_denied, io.
  ContainerRootfs create(const Digest& chain_id, std::string_view id, const CreateOptions& options = {});
  /// The container roots that exist.
  std::vector<ContainerRootfs> containers() const;
  /// Undoes create(): unmounts, destroys clones and removes every file it made, never
  /// following a symlink inside the root. Returns false when there was no such container.
  bool remove(std::string_view id);
  /// The changes made in container @p id since create(), as an OCI layer at @p output
  /// (with the overlay driver, read from its upper directory).
  LayerDiff diff(std::string_view id, const std::filesystem::path& output,
                 LayerCompression compression = LayerCompression::gzip) const;

 private:
  Rootfs(StateLayout layout, RootfsOptions options) : layout_(std::move(layout)), options_(std::move(options)) {}
  StateLayout layout_;
  RootfsOptions options_;
};

/// What pull_and_unpack() did.
struct KNAST_API PullUnpackResult {
  PullResult pull;      ///< The pull's result.
  UnpackResult unpack;  ///< The unpack's result.
};

/// Pulls @p ref into @p store and unpacks it into @p rootfs as one pipeline: layer N is
/// applied as soon as it is in the store while later layers still download. A failure in
/// either half cancels the other; the store then holds only complete blobs and the cache
/// no partial chain. @p pull's platform is used for both halves.
/// @throws what Registry::pull() and Rootfs::unpack() throw.
KNAST_API PullUnpackResult pull_and_unpack(Registry& registry, const Reference& ref, ImageStore& store, Rootfs& rootfs,
                                       const PullOptions& pull = {}, const UnpackOptions& unpack = {});

}  // namespace v0
}  // namespace knast
