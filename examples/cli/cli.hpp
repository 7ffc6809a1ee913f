// Shared state of the example CLI: global options and the command registry.
#pragma once

#include <knast/image_store.hpp>
#include <knast/jail.hpp>
#include <knast/rootfs.hpp>

#include <CLI/CLI.hpp>

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace knast::cli {

/// Options every command sees.
struct Globals {
  std::string root;  ///< --root, or $KNAST_ROOT, or the OS default.
  std::filesystem::path state_root() const;
  /// The image store under the state root (created when missing).
  ImageStore open_store() const;
};

/// A size as docker prints it: 1000-based units, three significant digits ("1.23MB").
std::string human_size(std::int64_t bytes);

/// Flags of the commands that make container roots.
struct DriverFlags {
  std::string driver = "directory";
  std::string zfs_dataset;
};
/// Adds --driver and --zfs-dataset to @p cmd.
void add_driver_flags(CLI::App* cmd, DriverFlags& flags);
/// The chain cache with the driver @p flags name.
Rootfs open_rootfs(const Globals& globals, const DriverFlags& flags);

/// How an image is brought into the chain cache.
struct UnpackFlags {
  std::string platform;
  bool pull = false;
  std::vector<std::string> insecure;
  DriverFlags driver;
  std::ostream* progress = nullptr;  ///< Where "layer i/n" lines go; nullptr: stdout.
};
/// Unpacks @p image (pulling it first, pipelined, with --pull) and returns the chain.
UnpackResult unpack_image(const Globals& globals, Rootfs& rootfs, const std::string& image, const UnpackFlags& flags);

/// Adds `version`, `info`, `ref`, `digest` and `validate` to @p app.
void add_core_commands(CLI::App& app, const Globals& globals);

/// Adds the image store commands (images, tag, rmi, inspect, history, save, load, import,
/// prune, verify) to @p app.
void add_image_commands(CLI::App& app, const Globals& globals);

/// Adds the registry commands (pull, push, login, logout, tags) to @p app.
void add_registry_commands(CLI::App& app, const Globals& globals);

/// Adds `unpack IMAGE DIR` and the `rootfs` commands (ls, prune, rm, diff) to @p app.
void add_rootfs_commands(CLI::App& app, const Globals& globals);

/// Adds the layer commands (`layer apply`) to @p app.
void add_layer_commands(CLI::App& app);

/// Adds the Linuxulator commands (brand, platform) to @p app.
void add_linuxulator_commands(CLI::App& app, const Globals& globals);

/// Adds the container commands (run, create, start, ps, stop, kill, rm, exec, logs, wait)
/// to @p app; `inspect` (an image command) also shows containers.
void add_container_commands(CLI::App& app, const Globals& globals);

/// Adds the network commands (network create|ls|inspect|rm, port) to @p app.
void add_network_commands(CLI::App& app, const Globals& globals);

/// The ports `run -p ... -P` publishes: each `-p` value parsed, then with @p publish_all
/// every port @p image exposes that no `-p` names, on any free host port (docker's -P).
std::vector<PortMapping> ports_to_publish(const std::vector<std::string>& publish, bool publish_all,
                                          const ImageConfig& image);

/// What `run --network MODE -p ... --dns ...` joins: nothing for none and host; the
/// default network (created on first use) for "" and "bridge"; else the named network.
ContainerNetwork container_network(const Globals& globals, const std::string& mode, std::vector<PortMapping> ports,
                                   const std::vector<std::string>& dns);

}  // namespace knast::cli
