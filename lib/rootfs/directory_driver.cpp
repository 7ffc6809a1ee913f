// The directory driver, the chain handling it shares with the overlay driver, and
// make_driver().
#include "rootfs/driver.hpp"

#include "image_store/posix_io.hpp"
#include "platform/mount.hpp"
#include "rootfs/tree_copy.hpp"
#include "rootfs/tree_remove.hpp"
#include "rootfs/tree_walk.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <optional>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

/// Removes the folder the container's root was made in, refusing one that is still a
/// mount point (removing through a mount would destroy what is mounted).
void remove_root_folder(const ContainerRecord& record) {
  if (platform::is_mount_point(record.path))
    throw Error(ErrorCode::busy, fmt::format("remove container {}: {} is still mounted: unmount it first", record.id,
                                             record.path.string()));
  delete_tree(record.path);
}

class DirectoryDriver final : public DirectoryChains {
 public:
  using DirectoryChains::DirectoryChains;

  void prepare(const ContainerRecord& record) override {
    try {
      // Synced: brand refuses an index a crash left zeroed.
      if (copy_chain_tree(paths_, record.chain_id, record.path, record.elf_index()))
        sync_file(open_file(record.elf_index(), O_RDONLY), record.elf_index());
    } catch (const Error& e) {
      throw e.with_context(fmt::format("create container {}", record.id));
    }
  }

  void remove(const ContainerRecord& record) override { remove_root_folder(record); }

  LayerDiff diff(const ContainerRecord& record, const fs::path& output, LayerCompression compression) const override {
    return write_layer_diff(paths_.chain_tree(record.chain_id), record.path, output, compression);
  }
};

}  // namespace

bool copy_chain_tree(const RootfsPaths& paths, const Digest& chain_id, const fs::path& to, const fs::path& index) {
  const fs::path chain_index = paths.chain_elf_index(chain_id);
  if (!lstat_if_exists(chain_index)) {
    copy_tree(paths.chain_tree(chain_id), to);
    return false;
  }
  std::optional<ElfIndex> loaded;
  try {
    loaded = ElfIndex::load(chain_index);
  } catch (const Error& e) {
    // The index only saves brand some opens: a damaged one must not stop a copy. Without
    // it the copy's files are simply opened when branded.
    if (e.kind() != ErrorCode::invalid_argument && e.kind() != ErrorCode::limit_exceeded) throw;
    copy_tree(paths.chain_tree(chain_id), to);
    return false;
  }
  const ElfIndexCarry carry{*loaded, index};
  return copy_tree(paths.chain_tree(chain_id), to, &carry).indexed > 0;
}

void DirectoryChains::make_chain_tree(const ChainBuild& build, const std::optional<Digest>& parent) {
  make_directory(build.dir);
  if (parent) {
    // The parent's index comes along, so the chain's lists every file, not only those of
    // its own layers (which the apply appends).
    copy_chain_tree(paths_, *parent, build.tree(), build.elf_index());
  } else if (::mkdir(build.tree().c_str(), 0755) != 0) {
    throw Error(errno, "unpack: create " + build.tree().string());
  }
}

bool DirectoryChains::publish_chain(const ChainBuild& build, const Digest& chain_id) {
  const fs::path target = paths_.chain_dir(chain_id);
  if (::rename(build.dir.c_str(), target.c_str()) == 0) {
    sync_directory(paths_.chains());
    return true;
  }
  const int err = errno;
  if ((err == ENOTEMPTY || err == EEXIST) && lstat_if_exists(target / "chain.json")) {
    discard_chain(build);  // another process published the same chain first: keep theirs
    return false;
  }
  throw Error(err, fmt::format("unpack: publish chain {} as {}", chain_id.string(), target.string()));
}

void DirectoryChains::discard_chain(const ChainBuild& build) noexcept {
  try {
    delete_tree(build.dir);
  } catch (...) {  // left for prune(), which empties tmp/
  }
}

void DirectoryChains::remove_chain(const Digest& chain_id) {
  // Renamed into tmp/ first, so a half-removed chain is never taken for a complete one.
  const fs::path doomed = paths_.tmp() / ("prune-" + unique_name());
  if (::rename(paths_.chain_dir(chain_id).c_str(), doomed.c_str()) != 0) {
    if (errno == ENOENT) return;
    throw Error(errno, fmt::format("prune: move chain {} aside", chain_id.string()));
  }
  delete_tree(doomed);
}

std::unique_ptr<Driver> make_directory_driver(const RootfsPaths& paths) { return std::make_unique<DirectoryDriver>(paths); }

std::unique_ptr<Driver> make_driver(SnapshotDriver kind, const RootfsPaths& paths, const std::string& zfs_dataset) {
  switch (kind) {
    case SnapshotDriver::directory: return make_directory_driver(paths);
    case SnapshotDriver::overlay: return make_overlay_driver(paths);
    case SnapshotDriver::zfs: return make_zfs_driver(paths, zfs_dataset);
  }
  throw Error(ErrorCode::invalid_argument, "unknown snapshot driver");
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
