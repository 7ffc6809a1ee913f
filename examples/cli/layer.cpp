// Layer commands: `knast layer apply ROOT LAYER...` applies raw layer files (tar, plain
// or gzip/zstd) in order onto a directory, with whiteouts and confinement — for debugging
// and for other tools.
#include "cli.hpp"

#include <knast/error.hpp>
#include <knast/rootfs.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace knast::cli {
namespace {

struct LayerApplyArgs {
  std::string root;
  std::vector<std::string> layers;
  bool allow_devices = false;
  bool no_owners = false;
  bool no_xattrs = false;
  std::uint64_t max_bytes = ApplyOptions{}.max_bytes;
  std::uint64_t max_entries = ApplyOptions{}.max_entries;
};

void add_layer_apply(CLI::App& parent) {
  auto* cmd = parent.add_subcommand("apply", "Apply layer files (tar, tar+gzip, tar+zstd) in order onto a directory");
  auto args = std::make_shared<LayerApplyArgs>();
  cmd->add_option("root", args->root, "The directory to apply onto (created if missing)")->required();
  cmd->add_option("layers", args->layers, "Layer files, bottom first")->required();
  cmd->add_flag("--allow-devices", args->allow_devices, "Create device nodes (only as root)");
  cmd->add_flag("--no-owners", args->no_owners, "Keep the caller as owner instead of the layer's owners");
  cmd->add_flag("--no-xattrs", args->no_xattrs, "Do not restore extended attributes");
  cmd->add_option("--max-bytes", args->max_bytes, "Most bytes of file content per layer (0: no cap)");
  cmd->add_option("--max-entries", args->max_entries, "Most entries per layer (0: no cap)");
  cmd->callback([args] {
    ApplyOptions options;
    options.allow_devices = args->allow_devices;
    if (args->no_owners) options.preserve_owners = false;
    options.xattrs = !args->no_xattrs;
    options.max_bytes = args->max_bytes;
    options.max_entries = args->max_entries;
    std::filesystem::create_directories(args->root);
    ApplyReport total;
    for (const auto& layer : args->layers) total += apply_layer(args->root, layer, options);
    for (const auto& warning : total.warnings) std::cerr << "warning: " << warning << '\n';
    std::cout << fmt::format(
        "applied {} layer{}: {} entries, {} bytes, {} whiteouts, {} devices skipped, {} xattrs skipped\n",
        args->layers.size(), args->layers.size() == 1 ? "" : "s", total.entries, total.bytes, total.whiteouts,
        total.skipped_devices, total.skipped_xattrs);
  });
}

}  // namespace

void add_layer_commands(CLI::App& app) {
  auto* layer = app.add_subcommand("layer", "Work with raw layer files");
  layer->require_subcommand(1);
  add_layer_apply(*layer);
}

}  // namespace knast::cli
