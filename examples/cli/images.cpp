// Image store commands: images, tag, rmi, inspect, history, save, load, import, prune, verify.
#include "cli.hpp"

#include <knast/error.hpp>
#include <knast/image_store.hpp>
#include <knast/jail.hpp>
#include <knast/layout.hpp>

#include <fmt/format.h>

#include <iostream>
#include <memory>

namespace knast::cli {

// Sizes as docker prints them: 1000-based units with three significant digits.
std::string human_size(std::int64_t bytes) {
  constexpr const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1000.0 && unit + 1 < std::size(units)) {
    value /= 1000.0;
    ++unit;
  }
  return unit == 0 ? fmt::format("{}B", bytes) : fmt::format("{:.3g}{}", value, units[unit]);
}

namespace {

std::string short_id(const Digest& digest) { return digest.hex().substr(0, 12); }

/// The container @p name names, if one does (containers before images, as docker does).
std::optional<Jail> find_container(const Globals& globals, const std::string& name) {
  try {
    return Jail::open(globals.state_root(), name);
  } catch (const Error&) {
    return std::nullopt;
  }
}

void add_images(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("images", "List the images in the store");
  auto quiet = std::make_shared<bool>(false);
  cmd->add_flag("-q,--quiet", *quiet, "Print names only");
  cmd->callback([&globals, quiet] {
    auto images = globals.open_store().list();
    if (!*quiet) std::cout << fmt::format("{:<50} {:<14} {:<28} {:>10}\n", "NAME", "DIGEST", "PLATFORMS", "SIZE");
    for (const auto& image : images) {
      if (*quiet) {
        std::cout << image.name << '\n';
        continue;
      }
      std::string platforms;
      for (const auto& p : image.platforms) platforms += (platforms.empty() ? "" : ",") + p.string();
      std::cout << fmt::format("{:<50} {:<14} {:<28} {:>10}\n", Reference::parse(image.name).familiar(),
                               short_id(image.target.digest), platforms, human_size(image.size));
    }
  });
}

void add_tag(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("tag", "Give an image in the store another name");
  auto source = std::make_shared<std::string>();
  auto target = std::make_shared<std::string>();
  cmd->add_option("source", *source, "Name or digest of an image in the store")->required();
  cmd->add_option("target", *target, "The new name")->required();
  cmd->callback([&globals, source, target] {
    ImageStore store = globals.open_store();
    store.tag(Reference::parse(*target), store.target_of(*source));
  });
}

void add_rmi(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("rmi", "Remove images by name, and the blobs nothing else uses");
  auto names = std::make_shared<std::vector<std::string>>();
  cmd->add_option("name", *names, "Image names")->required();
  cmd->callback([&globals, names] {
    ImageStore store = globals.open_store();
    for (const auto& name : *names) {
      Reference reference = Reference::parse(name);
      GcReport report = store.remove(reference);
      std::cout << "Untagged: " << reference.familiar() << '\n';
      for (const auto& digest : report.removed) std::cout << "Deleted: " << digest.string() << '\n';
    }
  });
}

void add_inspect(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("inspect", "Print a container's state and config, or an image's manifest and config, as JSON");
  auto name = std::make_shared<std::string>();
  auto platform = std::make_shared<std::string>();
  cmd->add_option("name", *name, "Container id or name, or image name or digest")->required();
  cmd->add_option("--platform", *platform, "Platform to pick from a multi-platform image (default: this host's)");
  cmd->callback([&globals, name, platform] {
    if (const auto container = find_container(globals, *name)) {
      std::cout << "{\"state\": " << to_json(container->state()) << ", \"config\": " << to_json(container->spec()) << "}\n";
      return;
    }
    std::optional<Platform> wanted;
    if (!platform->empty()) wanted = Platform::parse(*platform);
    std::cout << to_json(globals.open_store().resolve(*name, wanted)) << '\n';
  });
}

void add_history(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("history", "Show the steps an image was built with");
  auto name = std::make_shared<std::string>();
  cmd->add_option("image", *name, "Name or digest")->required();
  cmd->callback([&globals, name] {
    ResolvedImage image = globals.open_store().resolve(*name);
    std::cout << fmt::format("{:<22} {:>10}  {}\n", "CREATED", "SIZE", "CREATED BY");
    std::size_t layer = 0;
    // Newest first, as docker shows it; an entry with empty_layer has no layer blob.
    std::vector<std::pair<const HistoryEntry*, std::int64_t>> rows;
    for (const auto& entry : image.config.history) {
      std::int64_t size = 0;
      if (!entry.empty_layer && layer < image.manifest.layers.size()) size = image.manifest.layers[layer++].size;
      rows.emplace_back(&entry, size);
    }
    for (auto it = rows.rbegin(); it != rows.rend(); ++it)
      std::cout << fmt::format("{:<22} {:>10}  {}\n", it->first->created.value_or("-"), human_size(it->second),
                               it->first->created_by.value_or(it->first->comment.value_or("")));
  });
}

void add_save(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("save", "Write images to a docker or OCI archive");
  auto names = std::make_shared<std::vector<std::string>>();
  auto output = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("docker");
  cmd->add_option("-o,--output", *output, "Archive to write")->required();
  cmd->add_option("--format", *format, "docker (docker save) or oci (a tar of an OCI layout)")
      ->check(CLI::IsMember({"docker", "oci"}));
  cmd->add_option("name", *names, "Image names")->required();
  cmd->callback([&globals, names, output, format] {
    std::vector<Reference> references;
    for (const auto& name : *names) references.push_back(Reference::parse(name));
    globals.open_store().save(references, *output, *format == "oci" ? ArchiveFormat::oci : ArchiveFormat::docker);
  });
}

void add_load(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("load", "Load images from a docker save or OCI archive");
  auto input = std::make_shared<std::string>();
  cmd->add_option("-i,--input", *input, "Archive to read")->required();
  cmd->callback([&globals, input] {
    for (const auto& name : globals.open_store().load(*input)) std::cout << "Loaded image: " << name.familiar() << '\n';
  });
}

void add_import(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("import", "Make a one-layer image from a root filesystem tarball");
  auto tarball = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto options = std::make_shared<ImportOptions>();
  auto platform = std::make_shared<std::string>();
  auto message = std::make_shared<std::string>();
  cmd->add_option("-c,--change", options->changes, "Dockerfile instruction (CMD, ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE, LABEL)");
  cmd->add_option("--platform", *platform, "Platform of the image (default: this host's)");
  cmd->add_option("-m,--message", *message, "History comment");
  cmd->add_option("file", *tarball, "Root filesystem tarball (plain or gzip)")->required();
  cmd->add_option("name", *name, "Name of the new image")->required();
  cmd->callback([&globals, tarball, name, options, platform, message] {
    if (!platform->empty()) options->platform = Platform::parse(*platform);
    if (!message->empty()) options->comment = *message;
    ResolvedImage image = globals.open_store().import_rootfs(*tarball, Reference::parse(*name), *options);
    std::cout << image.manifest_descriptor.digest.string() << '\n';
  });
}

void add_prune(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("prune", "Remove blobs no image uses");
  auto dry_run = std::make_shared<bool>(false);
  cmd->add_flag("--dry-run", *dry_run, "Only say what would be removed");
  cmd->callback([&globals, dry_run] {
    GcReport report = globals.open_store().collect_garbage(*dry_run);
    for (const auto& digest : report.removed) std::cout << (*dry_run ? "Would delete: " : "Deleted: ") << digest.string() << '\n';
    std::cout << fmt::format("Total reclaimed space: {}\n", human_size(static_cast<std::int64_t>(report.bytes_freed)));
  });
}

void add_verify(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("verify", "Rehash every blob and report corrupt or missing ones (exit 1 if any)");
  cmd->callback([&globals] {
    VerifyReport report = globals.open_store().verify();
    for (const auto& problem : report.problems) std::cout << problem.path << ": " << problem.detail << '\n';
    std::cout << fmt::format("{} blobs, {} checked, {} problem{}\n", report.blobs_checked,
                             human_size(static_cast<std::int64_t>(report.bytes_checked)), report.problems.size(),
                             report.problems.size() == 1 ? "" : "s");
    if (!report.ok()) throw Error(ErrorCode::integrity, "verify: the store has problems (listed above)");
  });
}

}  // namespace

void add_image_commands(CLI::App& app, const Globals& globals) {
  add_images(app, globals);
  add_tag(app, globals);
  add_rmi(app, globals);
  add_inspect(app, globals);
  add_history(app, globals);
  add_save(app, globals);
  add_load(app, globals);
  add_import(app, globals);
  add_prune(app, globals);
  add_verify(app, globals);
}

}  // namespace knast::cli
