// C ABI of the FreeBSD jail plan (what `--dry-run` prints): a runtime config in, the plan
// out as JSON, text or a jail.conf stanza. A thin shim over plan_freebsd_jail().
#include "guard.hpp"

#include <knast/jail.hpp>

#include <string>

namespace {

using knast::capi::guard;
using knast::capi::owned_string;
using knast::capi::require;

constexpr knast_jail_plan_options default_plan_options = KNAST_JAIL_PLAN_OPTIONS_INIT;

knast::JailPlanOptions plan_options_from(const knast_jail_plan_options* opts) {
  require(opts, "opts (its container_id names the jail)");
  const auto c = knast::capi::options_or_default(opts, default_plan_options);
  require(c.container_id, "opts->container_id");
  knast::JailPlanOptions o;
  o.container_id = c.container_id;
  if (c.root_path != nullptr) o.root_path = c.root_path;
  if (c.image_platform != nullptr) o.image = knast::Platform::parse(c.image_platform);
  o.include_32bit = c.include_32bit != 0;
  return o;
}

std::string rendered(const knast::JailPlan& plan, uint32_t format) {
  switch (format) {
    case KNAST_PLAN_JSON: return knast::to_json(plan);
    case KNAST_PLAN_TEXT: return knast::to_text(plan);
    case KNAST_PLAN_JAIL_CONF: return knast::to_jail_conf(plan);
    default:
      throw knast::Error(knast::ErrorCode::invalid_argument,
                         "unknown plan format " + std::to_string(format) +
                             ": use KNAST_PLAN_JSON, KNAST_PLAN_TEXT or KNAST_PLAN_JAIL_CONF");
  }
}

}  // namespace

extern "C" {

knast_status knast_jail_plan_options_init(knast_jail_plan_options* opts, unsigned int version) {
  return guard([&] { knast::capi::init_options(opts, version, default_plan_options); });
}

knast_status knast_plan_freebsd_jail(char** out, const char* config_json, uint32_t format,
                                     const knast_jail_plan_options* opts) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(config_json, "config_json");
    const auto options = plan_options_from(opts);
    *out = owned_string(rendered(knast::plan_freebsd_jail(knast::RunSpec::parse(config_json), options), format));
  });
}

knast_status knast_jail_name(char** out, const char* container_id) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(container_id, "container_id");
    *out = owned_string(knast::jail_name(container_id));
  });
}

}  // extern "C"
