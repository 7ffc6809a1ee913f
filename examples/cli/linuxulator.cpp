// Linuxulator commands: `knast brand DIR` (brand, --scan, --undo) and `knast platform
// IMAGE` (how the image would run on this host and on a FreeBSD host).
#include "cli.hpp"

#include <knast/error.hpp>
#include <knast/image_store.hpp>
#include <knast/linuxulator.hpp>

#include <fmt/format.h>

#include <iostream>
#include <memory>

namespace knast::cli {
namespace {

struct BrandArgs {
  std::string dir;
  std::string mode = "auto";
  bool scan = false;
  bool undo = false;
  bool json = false;
  std::string record;
  std::string elf_index;
  bool freebsd_defaults = false;
};

void print_report(const BrandReport& r, const BrandArgs& args) {
  if (args.json) {
    std::cout << to_json(r) << '\n';
    return;
  }
  if (args.undo) {
    std::cout << fmt::format("restored {}, skipped {}\n", r.restored, r.skipped);
  } else {
    std::cout << fmt::format("scanned {}, ELF {} ({} 32-bit), needs brand {}, branded {}, already branded {}, skipped {}\n",
                             r.scanned, r.elf, r.elf32, r.needs_brand, r.branded, r.already_branded, r.skipped);
    if (r.known_not_elf > 0)
      std::cout << fmt::format("not opened (the ELF index knows them as not ELF): {}\n", r.known_not_elf);
    if (r.kernel_fallback) std::cout << "kern.elf64.fallback_brand is 3 (Linux): nothing needs branding\n";
  }
  for (const auto& s : r.skips) std::cout << "skipped " << s.path << ": " << s.reason << '\n';
  if (r.skipped > r.skips.size()) std::cout << fmt::format("... and {} more skipped\n", r.skipped - r.skips.size());
  if (!args.scan && (r.branded > 0 || r.restored > 0)) std::cout << "record: " << r.record.string() << '\n';
}

void add_brand(CLI::App& app) {
  auto* cmd = app.add_subcommand("brand", "Brand the Linux ELF files of an unpacked root for FreeBSD's Linuxulator");
  auto args = std::make_shared<BrandArgs>();
  cmd->add_option("dir", args->dir, "The root folder (its ELF files are changed in place)")->required();
  cmd->add_option("--mode", args->mode,
                  "auto: only binaries FreeBSD would not recognise (static, no Linux note); all: every ELF file; "
                  "none: nothing")
      ->check(CLI::IsMember({"auto", "all", "none"}));
  auto* scan = cmd->add_flag("--scan", args->scan, "Report what would be branded; write nothing");
  cmd->add_flag("--undo", args->undo, "Restore the bytes recorded by an earlier brand")->excludes(scan);
  cmd->add_option("--record", args->record, "Record of original bytes (default: DIR.knast-brand.json beside DIR)");
  cmd->add_option("--elf-index", args->elf_index,
                  "The ELF index written when DIR was unpacked (a chain's elf-index): files it shows unchanged and "
                  "not ELF are not opened");
  cmd->add_flag("--freebsd-defaults", args->freebsd_defaults,
                "Assume a FreeBSD kernel with default settings (fallback_brand -1) instead of asking this host");
  cmd->add_flag("--json", args->json, "Print the report as JSON");
  cmd->callback([args] {
    BrandOptions options;
    options.mode = parse_brand_mode(args->mode);
    options.operation = args->undo ? BrandOperation::undo : args->scan ? BrandOperation::scan : BrandOperation::brand;
    if (!args->record.empty()) options.record = args->record;
    if (!args->elf_index.empty()) options.elf_index = args->elf_index;
    if (args->freebsd_defaults) options.kernel = HostFacts::freebsd().kernel;
    print_report(brand_tree(args->dir, options), *args);
  });
}

// The platforms @p name offers: every platform of a named index, or the config's of a
// single manifest (by name or digest).
std::vector<Platform> platforms_of(const ImageStore& store, const std::string& name) {
  if (const auto ref = Reference::try_parse(name)) {
    for (const auto& image : store.list())
      if (image.name == ref->string()) return image.platforms;
  }
  const ResolvedImage image = store.resolve(name);
  Platform p;
  p.os = image.config.os;
  p.architecture = image.config.architecture;
  p.variant = image.config.variant.value_or("");
  return {p};
}

std::string platform_list(const std::vector<Platform>& platforms) {
  std::string out;
  for (const auto& p : platforms) out += (out.empty() ? "" : ", ") + p.string();
  return out;
}

void explain(const std::string& label, const std::vector<Platform>& platforms, const HostFacts& host) {
  std::cout << label << " (" << host.platform.string() << "): ";
  const std::optional<Platform> chosen = choose_image_platform(platforms, host);
  try {
    const RunDecision d = decide_run(chosen ? *chosen : platforms.front(), host);
    std::cout << d.explanation << '\n';
    if (d.method == RunMethod::linuxulator_jail) {
      std::string modules;
      for (const auto& m : make_linux_emulation_plan(d.image).kernel_modules) modules += " " + m.file;
      std::cout << "  kernel modules:" << modules << '\n';
    }
  } catch (const Error& e) {
    if (e.kind() != ErrorCode::unsupported) throw;
    std::cout << e.what() << '\n';
  }
}

void add_platform(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("platform", "Say how an image would run on this host and on a FreeBSD host");
  auto name = std::make_shared<std::string>();
  cmd->add_option("image", *name, "Name or digest of an image in the store")->required();
  cmd->callback([&globals, name] {
    const std::vector<Platform> platforms = platforms_of(globals.open_store(), *name);
    if (platforms.empty()) throw Error(ErrorCode::invalid_argument, "image " + *name + " names no platform");
    std::cout << "image " << *name << " offers " << platform_list(platforms) << '\n';
    const HostFacts here = HostFacts::current();
    explain("this host", platforms, here);
    const HostFacts freebsd = HostFacts::freebsd(here.platform.architecture == "arm64" ? "arm64" : "amd64");
    if (here.platform.os != "freebsd") explain("a FreeBSD host", platforms, freebsd);
  });
}

}  // namespace

void add_linuxulator_commands(CLI::App& app, const Globals& globals) {
  add_brand(app);
  add_platform(app, globals);
}

}  // namespace knast::cli
