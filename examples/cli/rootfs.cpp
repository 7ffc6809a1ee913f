// Rootfs commands: `unpack IMAGE DIR` (into the chain cache, then a container root at DIR),
// and `rootfs ls | prune | rm | diff`.
#include "cli.hpp"

#include <knast/digest.hpp>
#include <knast/error.hpp>
#include <knast/layout.hpp>
#include <knast/registry.hpp>
#include <knast/rootfs.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>

namespace knast::cli {

namespace fs = std::filesystem;

Rootfs open_rootfs(const Globals& globals, const DriverFlags& flags) {
  RootfsOptions options;
  options.driver = parse_snapshot_driver(flags.driver);
  options.zfs_dataset = flags.zfs_dataset;
  return Rootfs::open(StateLayout(globals.state_root()), options);
}

namespace {

/// A container id for the root at @p dir: its name made safe, and a hash of the absolute
/// path so two folders of one name get different ids.
std::string id_for_directory(const fs::path& dir) {
  const fs::path absolute = fs::absolute(dir).lexically_normal();
  std::string name;
  for (const char c : absolute.filename().string()) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                      c == '.' || c == '-';
    name.push_back(safe ? c : '_');
  }
  while (!name.empty() && (name.front() == '.' || name.front() == '_' || name.front() == '-')) name.erase(0, 1);
  if (name.size() > 100) name.resize(100);
  const std::string hash = Digest::of(absolute.string()).hex().substr(0, 12);
  return name.empty() ? "dir-" + hash : name + "-" + hash;
}

}  // namespace

void add_driver_flags(CLI::App* cmd, DriverFlags& flags) {
  cmd->add_option("--driver", flags.driver, "Snapshot driver: directory, overlay (Linux) or zfs")
      ->envname("KNAST_SNAPSHOT_DRIVER");
  cmd->add_option("--zfs-dataset", flags.zfs_dataset, "zfs: the dataset to work under (e.g. zroot/knast)")
      ->envname("KNAST_ZFS_DATASET");
}

UnpackResult unpack_image(const Globals& globals, Rootfs& rootfs, const std::string& image, const UnpackFlags& flags) {
  UnpackOptions options;
  if (!flags.platform.empty()) options.platform = Platform::parse(flags.platform);
  std::ostream& out = flags.progress != nullptr ? *flags.progress : std::cout;
  options.progress = [&out](std::size_t i, std::size_t n, const Digest& diff_id, bool cached) {
    out << fmt::format("layer {}/{} {} {}\n", i + 1, n, diff_id.string(), cached ? "cached" : "applying");
  };
  ImageStore store = globals.open_store();
  if (!flags.pull) return rootfs.unpack(store, image, options);
  RegistryOptions registry_options;
  registry_options.insecure_registries = flags.insecure;
  Registry registry(std::move(registry_options));
  PullOptions pull;
  pull.platform = options.platform;
  return pull_and_unpack(registry, Reference::parse(image), store, rootfs, pull, options).unpack;
}

namespace {

void add_unpack(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("unpack", "Unpack an image of the store and make a container root of it at DIR");
  auto image = std::make_shared<std::string>();
  auto dir = std::make_shared<std::string>();
  auto flags = std::make_shared<UnpackFlags>();
  cmd->add_option("IMAGE", *image, "Image name or digest (a reference to pull with --pull)")->required();
  cmd->add_option("DIR", *dir, "The container root to make: a new or empty directory")->required();
  cmd->add_option("--platform", flags->platform, "Platform to choose from a multi-platform image (default: this host's)");
  cmd->add_flag("--pull", flags->pull, "Pull the image first; layers are applied while later ones download");
  cmd->add_option("--insecure-registry", flags->insecure, "With --pull: registry that may be reached over plain HTTP");
  add_driver_flags(cmd, flags->driver);
  cmd->callback([&globals, image, dir, flags] {
    Rootfs rootfs = open_rootfs(globals, flags->driver);
    const UnpackResult result = unpack_image(globals, rootfs, *image, *flags);
    CreateOptions create;
    create.path = fs::path(*dir);
    const ContainerRootfs container = rootfs.create(result.chain.chain_id, id_for_directory(*dir), create);
    std::cout << fmt::format("chain {}\n", result.chain.chain_id.string());
    std::cout << fmt::format("container {} ({}) at {}\n", container.id, to_string(container.driver),
                             container.path.string());
  });
}

void add_ls(CLI::App& rootfs_cmd, const Globals& globals) {
  auto* cmd = rootfs_cmd.add_subcommand("ls", "List the unpacked layer chains");
  auto quiet = std::make_shared<bool>(false);
  cmd->add_flag("-q,--quiet", *quiet, "Only chain IDs");
  cmd->callback([&globals, quiet] {
    const Rootfs rootfs = Rootfs::open(StateLayout(globals.state_root()));
    if (!*quiet) std::cout << fmt::format("{:<19} {:>6} {:>10}  {:<20}  {}\n", "CHAIN ID", "LAYERS", "SIZE", "CREATED", "CONTAINERS");
    for (const ChainInfo& chain : rootfs.list()) {
      if (*quiet) {
        std::cout << chain.chain_id.string() << '\n';
        continue;
      }
      std::string users;
      for (const auto& id : chain.containers) users += (users.empty() ? "" : ",") + id;
      std::cout << fmt::format("{:<19} {:>6} {:>10}  {:<20}  {}\n", chain.chain_id.string().substr(0, 19),
                               chain.diff_ids.size(), human_size(static_cast<std::int64_t>(chain.size)), chain.created,
                               users.empty() ? "-" : users);
    }
  });
}

void add_prune(CLI::App& rootfs_cmd, const Globals& globals) {
  auto* cmd = rootfs_cmd.add_subcommand("prune", "Remove the chains no container root uses");
  auto dry_run = std::make_shared<bool>(false);
  auto flags = std::make_shared<DriverFlags>();
  cmd->add_flag("--dry-run", *dry_run, "Only say what would be removed");
  add_driver_flags(cmd, *flags);
  cmd->callback([&globals, dry_run, flags] {
    Rootfs rootfs = open_rootfs(globals, *flags);
    const PruneReport report = rootfs.prune(*dry_run);
    for (const auto& chain : report.removed) std::cout << (*dry_run ? "Would remove: " : "Removed: ") << chain.string() << '\n';
    std::cout << fmt::format("Total reclaimed space: {}\n", human_size(static_cast<std::int64_t>(report.bytes_freed)));
  });
}

void add_rm(CLI::App& rootfs_cmd, const Globals& globals) {
  auto* cmd = rootfs_cmd.add_subcommand("rm", "Remove container roots (unmount, destroy clones, remove files)");
  auto ids = std::make_shared<std::vector<std::string>>();
  cmd->add_option("ID", *ids, "Container ids (as `knast rootfs containers` lists them)")->required();
  cmd->callback([&globals, ids] {
    Rootfs rootfs = Rootfs::open(StateLayout(globals.state_root()));
    for (const auto& id : *ids) {
      if (!rootfs.remove(id)) throw Error(ErrorCode::not_found, fmt::format("rootfs rm: no container root {}", id));
      std::cout << id << '\n';
    }
  });
}

void add_containers(CLI::App& rootfs_cmd, const Globals& globals) {
  auto* cmd = rootfs_cmd.add_subcommand("containers", "List the container roots");
  cmd->callback([&globals] {
    const Rootfs rootfs = Rootfs::open(StateLayout(globals.state_root()));
    std::cout << fmt::format("{:<30} {:<9} {:<19}  {}\n", "ID", "DRIVER", "CHAIN ID", "PATH");
    for (const auto& c : rootfs.containers())
      std::cout << fmt::format("{:<30} {:<9} {:<19}  {}\n", c.id, to_string(c.driver), c.chain_id.string().substr(0, 19),
                               c.path.string());
  });
}

void add_diff(CLI::App& rootfs_cmd, const Globals& globals) {
  auto* cmd = rootfs_cmd.add_subcommand("diff", "Write a container root's changes as an OCI layer");
  auto id = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  auto compression = std::make_shared<std::string>("gzip");
  cmd->add_option("ID", *id, "Container id")->required();
  cmd->add_option("OUTPUT", *output, "Layer file to write")->required();
  cmd->add_option("--compression", *compression, "none, gzip or zstd")->check(CLI::IsMember({"none", "gzip", "zstd"}));
  cmd->callback([&globals, id, output, compression] {
    const Rootfs rootfs = Rootfs::open(StateLayout(globals.state_root()));
    const LayerCompression c = *compression == "none"   ? LayerCompression::none
                               : *compression == "zstd" ? LayerCompression::zstd
                                                        : LayerCompression::gzip;
    const LayerDiff diff = rootfs.diff(*id, *output, c);
    std::cout << fmt::format("{} {} {} bytes, diff_id {}, {} changes\n", diff.descriptor.media_type,
                             diff.descriptor.digest.string(), diff.descriptor.size, diff.diff_id.string(), diff.changes);
  });
}

}  // namespace

void add_rootfs_commands(CLI::App& app, const Globals& globals) {
  add_unpack(app, globals);
  auto* rootfs = app.add_subcommand("rootfs", "Unpacked layer chains and container roots");
  rootfs->require_subcommand(1);
  add_ls(*rootfs, globals);
  add_prune(*rootfs, globals);
  add_rm(*rootfs, globals);
  add_containers(*rootfs, globals);
  add_diff(*rootfs, globals);
}

}  // namespace knast::cli
