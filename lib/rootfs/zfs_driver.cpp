// The zfs driver: runs the plans of zfs_plan.hpp with /sbin/zfs (argv only, never a shell,
// through the subprocess helper the registry's credential helpers use). Untested live
// here (no ZFS on the build machines): the plans are unit-tested, and the integration
// test runs only where /sbin/zfs exists.
#include "image_store/posix_io.hpp"
#include "platform/mount.hpp"
#include "registry/subprocess.hpp"
#include "rootfs/driver.hpp"
#include "rootfs/tree_remove.hpp"
#include "rootfs/tree_walk.hpp"
#include "rootfs/zfs_plan.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstdio>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

constexpr const char* zfs_program = "/sbin/zfs";
/// zfs commands can wait on a busy pool; a destroy of a large dataset takes a while.
constexpr std::chrono::minutes zfs_timeout{10};

/// Runs one command; false (with the error in @p error) when zfs exits non-zero.
bool try_run(const ZfsCommand& command, std::string* error = nullptr) {
  std::vector<std::string> argv{zfs_program};
  argv.insert(argv.end(), command.args.begin(), command.args.end());
  const auto result = registry_detail::run_process(argv, {}, zfs_timeout);
  if (result.exit_code == 0) return true;
  if (error) *error = result.err.empty() ? fmt::format("exit status {}", result.exit_code) : result.err;
  return false;
}

void run(const ZfsCommand& command) {
  std::string error;
  if (!try_run(command, &error)) {
    while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
    throw Error(ErrorCode::io, fmt::format("{}: {}", command.string(), error));
  }
}

void run(const ZfsPlan& plan) {
  for (const auto& command : plan) run(command);
}

bool dataset_exists(const std::string& name) { return try_run({{"list", "-H", "-o", "name", name}}); }

class ZfsDriver final : public Driver {
 public:
  ZfsDriver(RootfsPaths paths, std::string dataset) : paths_(std::move(paths)), dataset_(std::move(dataset)) {}

  void make_chain_tree(const ChainBuild& build, const std::optional<Digest>& parent) override {
    make_directory(build.dir);
    run(zfs_plan_build_chain(dataset_, build.name, build.tree()));
    // A copy, not a clone of the parent: a clone would pin the parent chain (zfs cannot
    // destroy a snapshot with clones), so prune could never remove it.
    if (parent) copy_chain_tree(paths_, *parent, build.tree(), build.elf_index());
  }

  bool publish_chain(const ChainBuild& build, const Digest& chain_id) override {
    const ZfsPlan plan = zfs_plan_publish_chain(dataset_, build.name, chain_id.hex(), paths_.chain_tree(chain_id));
    run(plan[0]);  // snapshot @base
    std::string error;
    if (!try_run(plan[1], &error)) {  // rename: fails when the chain is there already
      if (dataset_exists(zfs_chain_dataset(dataset_, chain_id.hex())) && lstat_if_exists(paths_.chain_dir(chain_id) / "chain.json")) {
        discard_chain(build);
        return false;
      }
      throw Error(ErrorCode::io, fmt::format("{}: {}", plan[1].string(), error));
    }
    for (std::size_t i = 2; i < plan.size(); ++i) run(plan[i]);
    make_directory(paths_.chain_dir(chain_id));  // zfs made it when mounting; not if it failed to
    if (lstat_if_exists(build.elf_index())) rename_durably(build.elf_index(), paths_.chain_elf_index(chain_id));
    // chain.json last: it marks the chain done.
    rename_durably(build.dir / "chain.json", paths_.chain_dir(chain_id) / "chain.json");
    delete_tree(build.dir);  // its tree/ is an empty folder now, the dataset mounted elsewhere
    return true;
  }

  void discard_chain(const ChainBuild& build) noexcept override {
    try {
      if (dataset_exists(zfs_build_dataset(dataset_, build.name))) run(zfs_plan_discard_build(dataset_, build.name));
      if (!platform::is_mount_point(build.tree())) delete_tree(build.dir);
    } catch (...) {  // left for prune(), which empties tmp/
    }
  }

  void remove_chain(const Digest& chain_id) override {
    // chain.json goes first, so a half-removed chain is never taken for a complete one.
    remove_file(paths_.chain_dir(chain_id) / "chain.json");
    if (dataset_exists(zfs_chain_dataset(dataset_, chain_id.hex()))) run(zfs_plan_destroy_chain(dataset_, chain_id.hex()));
    delete_tree(paths_.chain_dir(chain_id));
  }

  void prepare(const ContainerRecord& record) override {
    try {
      run(zfs_plan_create_container(dataset_, record.chain_id.hex(), record.id, record.path));
    } catch (const Error& e) {
      throw e.with_context(fmt::format("create container {}", record.id));
    }
  }

  void remove(const ContainerRecord& record) override {
    if (dataset_exists(zfs_container_dataset(dataset_, record.id))) run(zfs_plan_destroy_container(dataset_, record.id));
    if (platform::is_mount_point(record.path))
      throw Error(ErrorCode::busy, fmt::format("remove container {}: {} is still mounted", record.id, record.path.string()));
    delete_tree(record.path);
  }

  LayerDiff diff(const ContainerRecord& record, const fs::path& output, LayerCompression compression) const override {
    return write_layer_diff(paths_.chain_tree(record.chain_id), record.path, output, compression);
  }

 private:
  RootfsPaths paths_;
  std::string dataset_;
};

}  // namespace

std::unique_ptr<Driver> make_zfs_driver(const RootfsPaths& paths, const std::string& dataset) {
  check_zfs_dataset(dataset);
  return std::make_unique<ZfsDriver>(paths, dataset);
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
