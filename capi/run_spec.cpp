// C ABI of RunSpec: the OCI runtime config as JSON text in and out, made from an image
// config with docker's rules (knast_run_overrides carries `docker run`'s options), and
// bundles written and read. A thin shim over include/knast/run_spec.hpp.
#include "guard.hpp"
#include "handles.hpp"

#include <knast/run_spec.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using knast::capi::guard;
using knast::capi::owned_string;
using knast::capi::require;
using knast::capi::strings_of;

constexpr knast_run_overrides default_overrides = KNAST_RUN_OVERRIDES_INIT;

std::optional<std::string> optional_string(const char* value) {
  return value != nullptr ? std::optional<std::string>(value) : std::nullopt;
}

std::vector<knast::PosixRlimit> rlimits_of(const knast_rlimit* items, size_t count) {
  std::vector<knast::PosixRlimit> out;
  if (count == 0) return out;
  require(items, "rlimits");
  for (size_t i = 0; i < count; ++i) {
    require(items[i].type, "rlimits[].type");
    out.push_back({items[i].type, items[i].hard, items[i].soft});
  }
  return out;
}

std::map<std::string, std::string> annotations_of(const char* const* items, size_t count) {
  std::map<std::string, std::string> out;
  for (const std::string& entry : strings_of(items, count, "annotations")) {
    const auto equals = entry.find('=');
    if (equals == std::string::npos || equals == 0)
      throw knast::Error(knast::ErrorCode::invalid_argument,
                         "annotation \"" + entry + "\" is not KEY=VALUE: give each as \"key=value\"");
    out[entry.substr(0, equals)] = entry.substr(equals + 1);
  }
  return out;
}

knast::RunOverrides overrides_from(const knast_run_overrides* opts) {
  const knast_run_overrides c = knast::capi::options_or_default(opts, default_overrides);
  knast::RunOverrides o;
  if (c.container_id != nullptr) o.container_id = c.container_id;
  if (c.image_ref != nullptr) o.image_ref = c.image_ref;
  if (c.host_os != nullptr) o.host_os = c.host_os;
  if (c.arg_count > 0) o.args = strings_of(c.args, c.arg_count, "args");
  if (c.set_entrypoint != 0) o.entrypoint = strings_of(c.entrypoint, c.entrypoint_count, "entrypoint");
  o.env = strings_of(c.env, c.env_count, "env");
  o.workdir = optional_string(c.workdir);
  o.user = optional_string(c.user);
  o.hostname = optional_string(c.hostname);
  o.terminal = c.terminal != 0;
  o.read_only = c.read_only != 0;
  o.no_new_privileges = c.no_new_privileges != 0;
  o.host_network = c.host_network != 0;
  o.volumes = strings_of(c.volumes, c.volume_count, "volumes");
  o.tmpfs = strings_of(c.tmpfs, c.tmpfs_count, "tmpfs");
  o.memory = optional_string(c.memory);
  if (c.pids_limit != KNAST_PIDS_LIMIT_UNSET) o.pids_limit = c.pids_limit;
  o.cpus = optional_string(c.cpus);
  if (c.cpu_shares != 0) o.cpu_shares = c.cpu_shares;
  o.rlimits = rlimits_of(c.rlimits, c.rlimit_count);
  o.linux_osrelease = optional_string(c.linux_osrelease);
  o.annotations = annotations_of(c.annotations, c.annotation_count);
  return o;
}

std::string joined_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

}  // namespace

extern "C" {

knast_status knast_run_overrides_init(knast_run_overrides* opts, unsigned int version) {
  return guard([&] { knast::capi::init_options(opts, version, default_overrides); });
}

knast_status knast_make_run_spec(char** out, const char* image_config_json, const char* rootfs,
                                 const knast_run_overrides* overrides) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(image_config_json, "image_config_json");
    require(rootfs, "rootfs");
    const auto config = knast::ImageConfig::parse(image_config_json);
    *out = owned_string(knast::to_json(knast::make_run_spec(config, rootfs, overrides_from(overrides))));
  });
}

knast_status knast_make_run_spec_from_store(char** out, knast_image_store* store, const char* image,
                                            const char* platform, const char* rootfs,
                                            const knast_run_overrides* overrides) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(store, "store");
    require(image, "image");
    require(rootfs, "rootfs");
    std::optional<knast::Platform> wanted;
    if (platform != nullptr) wanted = knast::Platform::parse(platform);
    const auto resolved = store->store.resolve(image, wanted);
    *out = owned_string(knast::to_json(knast::make_run_spec(resolved.config, rootfs, overrides_from(overrides))));
  });
}

knast_status knast_run_spec_normalize(char** out, char** ignored, const char* config_json) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    if (ignored != nullptr) *ignored = nullptr;
    require(config_json, "config_json");
    std::vector<std::string> ignored_fields;
    const auto spec = knast::RunSpec::parse(config_json, ignored_fields);
    std::unique_ptr<char, decltype(&knast_string_free)> text(owned_string(knast::to_json(spec)), &knast_string_free);
    if (ignored != nullptr) *ignored = owned_string(joined_lines(ignored_fields));
    *out = text.release();
  });
}

knast_status knast_write_bundle(const char* dir, const char* config_json) {
  return guard([&] {
    require(dir, "dir");
    require(config_json, "config_json");
    knast::write_bundle(dir, knast::RunSpec::parse(config_json));
  });
}

knast_status knast_read_bundle(char** out, const char* dir) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(dir, "dir");
    *out = owned_string(knast::to_json(knast::read_bundle(dir)));
  });
}

}  // extern "C"
