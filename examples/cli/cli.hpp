// Shared state of the example CLI: global options and the command registry.
#pragma once

#include <knast/image_store.hpp>

#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>

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

}  // namespace knast::cli
