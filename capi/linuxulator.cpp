// C ABI of the Linuxulator: run decisions, ELF branding, the Linux-emulation plan and
// preflight. A thin shim over include/knast/linuxulator.hpp.
#include "guard.hpp"

#include <knast/linuxulator.hpp>

#include <climits>
#include <cstddef>

struct knast_brand_report {
  explicit knast_brand_report(knast::BrandReport r) : report(std::move(r)), json(knast::to_json(report)) {}
  knast::BrandReport report;
  std::string json;
};

namespace {

using knast::capi::guard;
using knast::capi::owned_string;
using knast::capi::require;

constexpr knast_brand_options default_brand_options = KNAST_BRAND_OPTIONS_INIT;
constexpr knast_linux_plan_options default_plan_options = KNAST_LINUX_PLAN_OPTIONS_INIT;

knast::BrandMode brand_mode_from(uint32_t mode) {
  switch (mode) {
    case KNAST_BRAND_AUTO: return knast::BrandMode::automatic;
    case KNAST_BRAND_ALL: return knast::BrandMode::all;
    case KNAST_BRAND_NONE: return knast::BrandMode::none;
    default:
      throw knast::Error(knast::ErrorCode::invalid_argument,
                         "unknown brand mode " + std::to_string(mode) + ": use KNAST_BRAND_AUTO, _ALL or _NONE");
  }
}

knast::BrandOperation brand_operation_from(uint32_t operation) {
  switch (operation) {
    case KNAST_BRAND_APPLY: return knast::BrandOperation::brand;
    case KNAST_BRAND_SCAN: return knast::BrandOperation::scan;
    case KNAST_BRAND_UNDO: return knast::BrandOperation::undo;
    default:
      throw knast::Error(knast::ErrorCode::invalid_argument,
                         "unknown brand operation " + std::to_string(operation) + ": use KNAST_BRAND_APPLY, _SCAN or _UNDO");
  }
}

knast::BrandOptions brand_options_from(const knast_brand_options& c) {
  knast::BrandOptions o;
  o.mode = brand_mode_from(c.mode);
  o.operation = brand_operation_from(c.operation);
  if (c.record) o.record = c.record;
  o.threads = c.threads;
  if (c.elf_index) o.elf_index = c.elf_index;
  if (c.elf64_fallback_brand != KNAST_BRAND_FALLBACK_HOST || c.elf32_fallback_brand != KNAST_BRAND_FALLBACK_HOST) {
    knast::KernelFacts facts = knast::KernelFacts::current();
    if (c.elf64_fallback_brand != KNAST_BRAND_FALLBACK_HOST) facts.elf64_fallback_brand = c.elf64_fallback_brand;
    if (c.elf32_fallback_brand != KNAST_BRAND_FALLBACK_HOST) facts.elf32_fallback_brand = c.elf32_fallback_brand;
    o.kernel = facts;
  }
  return o;
}

knast::LinuxEmulationOptions plan_options_from(const knast_linux_plan_options* opts) {
  const knast_linux_plan_options c = knast::capi::options_or_default(opts, default_plan_options);
  knast::LinuxEmulationOptions o;
  if (c.osrelease) o.osrelease = c.osrelease;
  if (c.osname) o.osname = c.osname;
  if (c.hostname) o.hostname = c.hostname;
  if (c.resolv_conf) o.resolv_conf = c.resolv_conf;
  if (c.devfs_ruleset != 0) o.devfs_ruleset = c.devfs_ruleset;
  o.include_32bit = c.include_32bit != 0;
  return o;
}

knast::LinuxEmulationPlan plan_for(const char* image_platform, const knast_linux_plan_options* opts) {
  require(image_platform, "image_platform");
  return knast::make_linux_emulation_plan(knast::Platform::parse(image_platform), plan_options_from(opts));
}

knast::HostFacts host_from(const char* host_platform) {
  if (host_platform == nullptr) return knast::HostFacts::current();
  const knast::Platform p = knast::Platform::parse(host_platform);
  if (p.os == "freebsd") return knast::HostFacts::freebsd(p.architecture);
  return knast::HostFacts{p, {}};
}

uint32_t method_to(knast::RunMethod method) {
  switch (method) {
    case knast::RunMethod::freebsd_jail: return KNAST_RUN_FREEBSD_JAIL;
    case knast::RunMethod::linuxulator_jail: return KNAST_RUN_LINUXULATOR_JAIL;
    case knast::RunMethod::linux_namespaces: return KNAST_RUN_LINUX_NAMESPACES;
  }
  return 0;
}

}  // namespace

extern "C" {

knast_status knast_run_decide(uint32_t* method, char** explanation, const char* image_platform, const char* host_platform) {
  return guard([&] {
    require(method, "method");
    require(image_platform, "image_platform");
    const knast::RunDecision d = knast::decide_run(knast::Platform::parse(image_platform), host_from(host_platform));
    *method = method_to(d.method);
    if (explanation) *explanation = owned_string(d.explanation);
  });
}

knast_status knast_brand_options_init(knast_brand_options* opts, unsigned int version) {
  return guard([&] { knast::capi::init_options(opts, version, default_brand_options); });
}

knast_status knast_brand_tree(knast_brand_report** out, const char* root, const knast_brand_options* opts) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(root, "root");
    const knast_brand_options c = knast::capi::options_or_default(
        opts, default_brand_options, {offsetof(knast_brand_options, elf_index), sizeof(knast_brand_options)});
    *out = new knast_brand_report(knast::brand_tree(root, brand_options_from(c)));
  });
}

uint64_t knast_brand_report_count(const knast_brand_report* report, uint32_t which) {
  if (report == nullptr) return 0;
  const knast::BrandReport& r = report->report;
  switch (which) {
    case KNAST_BRAND_SCANNED: return r.scanned;
    case KNAST_BRAND_ELF: return r.elf;
    case KNAST_BRAND_ELF32: return r.elf32;
    case KNAST_BRAND_NEEDS_BRAND: return r.needs_brand;
    case KNAST_BRAND_BRANDED: return r.branded;
    case KNAST_BRAND_ALREADY_BRANDED: return r.already_branded;
    case KNAST_BRAND_RESTORED: return r.restored;
    case KNAST_BRAND_SKIPPED: return r.skipped;
    case KNAST_BRAND_KNOWN_NOT_ELF: return r.known_not_elf;
    default: return 0;
  }
}

const char* knast_brand_report_json(const knast_brand_report* report) { return report ? report->json.c_str() : nullptr; }

void knast_brand_report_free(knast_brand_report* report) { delete report; }

knast_status knast_linux_plan_options_init(knast_linux_plan_options* opts, unsigned int version) {
  return guard([&] { knast::capi::init_options(opts, version, default_plan_options); });
}

knast_status knast_linux_plan(char** out, const char* image_platform, uint32_t format, const knast_linux_plan_options* opts) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    if (format != KNAST_PLAN_JSON && format != KNAST_PLAN_TEXT)
      throw knast::Error(knast::ErrorCode::invalid_argument,
                         "unknown plan format " + std::to_string(format) + ": use KNAST_PLAN_JSON or KNAST_PLAN_TEXT");
    const knast::LinuxEmulationPlan plan = plan_for(image_platform, opts);
    *out = owned_string(format == KNAST_PLAN_JSON ? knast::to_json(plan) : knast::to_text(plan));
  });
}

knast_status knast_linux_prepare_root(const char* root, const char* image_platform, const knast_linux_plan_options* opts) {
  return guard([&] {
    require(root, "root");
    knast::prepare_linux_root(plan_for(image_platform, opts), root);
  });
}

knast_status knast_linux_preflight(const char* root, const char* image_platform, const knast_linux_plan_options* opts,
                                   int load_modules) {
  return guard([&] {
    require(root, "root");
    knast::PreflightOptions o;
    o.load_modules = load_modules != 0;
    knast::preflight(plan_for(image_platform, opts), root, o);
  });
}

}  // extern "C"
