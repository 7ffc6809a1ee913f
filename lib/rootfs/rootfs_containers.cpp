// Rootfs: container roots — create, list, remove, diff.
#include "image_store/posix_io.hpp"
#include "rootfs/chain_cache.hpp"
#include "rootfs/container_records.hpp"
#include "rootfs/driver.hpp"
#include "rootfs/tree_remove.hpp"
#include "rootfs/tree_walk.hpp"

#include <knast/error.hpp>
#include <knast/rootfs.hpp>

#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace knast {
inline namespace v0 {
namespace {

namespace fs = std::filesystem;

detail::RootfsPaths paths_of(const StateLayout& layout) { return {layout.rootfs(), layout.containers()}; }

ContainerRootfs public_view(const detail::ContainerRecord& record, const detail::RootfsPaths& paths) {
  ContainerRootfs root{record.id, record.chain_id, record.driver, record.path, {}};
  // A copy has its own index; an overlay or a clone shows the chain's files as they are.
  const fs::path index = record.driver == SnapshotDriver::directory ? record.elf_index()
                                                                    : paths.chain_elf_index(record.chain_id);
  if (detail::lstat_if_exists(index)) root.elf_index = index;
  return root;
}

/// The root folder create() will use: the default, or the caller's, which must be an
/// empty or missing directory whose parent exists.
fs::path choose_root_path(const detail::ContainerRecord& record, const CreateOptions& options, bool& existed) {
  existed = false;
  if (!options.path) return record.dir / "rootfs";
  const fs::path path = fs::absolute(*options.path).lexically_normal();
  const auto st = detail::lstat_if_exists(path);
  if (!st) {
    if (!detail::lstat_if_exists(path.parent_path()))
      throw Error(ErrorCode::not_found, fmt::format("create container {}: the folder {} does not exist", record.id,
                                                    path.parent_path().string()));
    return path;
  }
  if (!S_ISDIR(st->st_mode) || !detail::list_names_sorted(path).empty())
    throw Error(ErrorCode::invalid_argument,
                fmt::format("create container {}: {} is not an empty directory: name a new or empty one", record.id,
                            path.string()));
  existed = true;
  return path;
}

/// Removes the files of the container's folder that create() made; the folder goes too
/// when nothing else (a runtime's config.json, state.json) is left in it.
void remove_record_files(const detail::ContainerRecord& record) {
  for (const char* name : {"upper", "work", "rootfs"}) detail::delete_tree(record.dir / name);
  detail::remove_file(record.elf_index());
  detail::remove_file(record.dir / "rootfs.json");
  if (::rmdir(record.dir.c_str()) != 0 && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT)
    throw Error(errno, "remove " + record.dir.string());
}

/// Undoes what the driver made (its root folder included), then the record's files.
void undo(detail::Driver& driver, const detail::ContainerRecord& record) {
  driver.remove(record);
  if (record.path_existed && ::mkdir(record.path.c_str(), 0755) != 0 && errno != EEXIST)
    throw Error(errno, "restore the empty folder " + record.path.string());
  remove_record_files(record);
}

}  // namespace

ContainerRootfs Rootfs::create(const Digest& chain_id, std::string_view id, const CreateOptions& options) {
  detail::check_container_id(id);
  const auto paths = paths_of(layout_);
  const auto driver = detail::make_driver(options_.driver, paths, options_.zfs_dataset);
  const auto lock = detail::lock_cache(paths, false);  // prune waits until the record is written
  if (!detail::read_chain(paths, chain_id))
    throw Error(ErrorCode::not_found, fmt::format("create container {}: chain {} is not in the cache: unpack the "
                                                  "image first",
                                                  id, chain_id.string()));
  detail::ContainerRecord record;
  record.id = std::string(id);
  record.driver = options_.driver;
  record.chain_id = chain_id;
  record.dir = paths.container_dir(id);
  record.zfs_dataset = options_.driver == SnapshotDriver::zfs ? options_.zfs_dataset : std::string();
  record.path = choose_root_path(record, options, record.path_existed);

  detail::make_directory(record.dir);  // a runtime may have made it already, for its own files
  if (!detail::create_container_record(record))
    throw Error(ErrorCode::already_exists,
                fmt::format("create container {}: the id is taken: remove that container's root first", id));
  return [&] {
    try {
      driver->prepare(record);
    } catch (...) {
      try {
        undo(*driver, record);
      } catch (...) {  // the first error is the one to report; remove() can finish the job
      }
      throw;
    }
    return public_view(record, paths);
  }();
}

std::vector<ContainerRootfs> Rootfs::containers() const {
  std::vector<ContainerRootfs> out;
  const auto paths = paths_of(layout_);
  for (const auto& record : detail::read_container_records(paths)) out.push_back(public_view(record, paths));
  return out;
}

bool Rootfs::remove(std::string_view id) {
  detail::check_container_id(id);
  const auto paths = paths_of(layout_);
  const auto lock = detail::lock_cache(paths, false);
  const auto record = detail::read_container_record(paths, id);
  if (!record) return false;
  const auto driver = detail::make_driver(record->driver, paths, record->zfs_dataset);
  try {
    undo(*driver, *record);
  } catch (const Error& e) {
    throw e.with_context(fmt::format("remove container {}", id));
  }
  return true;
}

LayerDiff Rootfs::diff(std::string_view id, const std::filesystem::path& output, LayerCompression compression) const {
  detail::check_container_id(id);
  const auto paths = paths_of(layout_);
  const auto record = detail::read_container_record(paths, id);
  if (!record) throw Error(ErrorCode::not_found, fmt::format("diff container {}: no such container", id));
  const auto driver = detail::make_driver(record->driver, paths, record->zfs_dataset);
  try {
    return driver->diff(*record, output, compression);
  } catch (const Error& e) {
    throw e.with_context(fmt::format("diff container {}", id));
  }
}

}  // namespace v0
}  // namespace knast
