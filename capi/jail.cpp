// C ABI of containers (knast::Jail): an opaque handle on one container of a state root,
// its lifecycle, exec and logs. States and lists come back as JSON, as the rest of the
// ABI does for records; an exec'd process is a runtime-config `process` object laid over
// the container's own, so a C caller names only what differs.
#include "guard.hpp"

#include <knast/jail.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

struct knast_jail {
  knast::Jail jail;
};

namespace {

using knast::capi::guard;
using knast::capi::owned_string;
using knast::capi::require;
using Json = nlohmann::json;

constexpr knast_jail_options default_jail_options = KNAST_JAIL_OPTIONS_INIT;

knast::ContainerIo io_from(const knast_stdio& c) {
  knast::ContainerIo io;
  switch (c.mode) {
    case KNAST_STDIO_INHERIT: io.mode = knast::StdioMode::inherit; break;
    case KNAST_STDIO_FDS: io.mode = knast::StdioMode::fds; break;
    case KNAST_STDIO_NULL: io.mode = knast::StdioMode::null; break;
    case KNAST_STDIO_LOG: io.mode = knast::StdioMode::log; break;
    default:
      throw knast::Error(knast::ErrorCode::invalid_argument,
                         "unknown stdio mode " + std::to_string(c.mode) +
                             ": use KNAST_STDIO_INHERIT, _FDS, _NULL or _LOG");
  }
  for (int i = 0; i < 3; ++i) io.fds[i] = c.fds[i];
  return io;
}

knast::JailOptions jail_options_from(const knast_jail_options* opts) {
  require(opts, "opts");
  // Version 1 ended before the network fields.
  const auto c = knast::capi::options_or_default(opts, default_jail_options,
                                                 {offsetof(knast_jail_options, network), sizeof(knast_jail_options)});
  require(c.state_root, "opts->state_root");
  require(c.bundle, "opts->bundle");
  knast::JailOptions o;
  o.state_root = c.state_root;
  if (c.id != nullptr) o.id = c.id;
  if (c.name != nullptr) o.name = c.name;
  if (c.image != nullptr) o.image = c.image;
  o.bundle = c.bundle;
  o.io = io_from(c.stdio);
  o.remove_on_exit = c.remove_on_exit != 0;
  if (c.supervisor != nullptr) o.supervisor = c.supervisor;
  if (c.network != nullptr) o.network.network = c.network;
  for (const auto& text : knast::capi::strings_of(c.ports, c.ports_count, "opts->ports"))
    for (auto& mapping : knast::parse_port_mappings(text)) o.network.ports.push_back(std::move(mapping));
  o.network.dns = knast::capi::strings_of(c.dns, c.dns_count, "opts->dns");
  return o;
}

Json json_object(std::string_view text, const char* what) {
  Json value = Json::parse(text, nullptr, false);
  if (value.is_discarded() || !value.is_object())
    throw knast::Error(knast::ErrorCode::invalid_argument, std::string(what) + " is not a JSON object");
  return value;
}

// The process of an exec: @p process_json's properties replace those of the container's
// own process, and the result is validated by the one RunSpec parser (wrapped in the
// smallest config it accepts), so the C ABI does not grow a second process reader.
knast::RunProcess exec_process(const knast::Jail& jail, const char* process_json) {
  require(process_json, "process_json");
  const Json given = json_object(process_json, "process_json");
  const knast::RunSpec spec = jail.spec();
  Json process = json_object(knast::to_json(spec), "the container's config")["process"];
  for (const auto& [key, value] : given.items()) process[key] = value;
  const Json wrapper = {{"ociVersion", spec.oci_version}, {"root", {{"path", "/"}}}, {"process", process}};
  return knast::RunSpec::parse(wrapper.dump()).process;
}

std::optional<std::chrono::milliseconds> timeout_of(int64_t timeout_ms) {
  if (timeout_ms < 0) return std::nullopt;
  return std::chrono::milliseconds(timeout_ms);
}

}  // namespace

extern "C" {

knast_status knast_jail_options_init(knast_jail_options* opts, unsigned int version) {
  return guard([&] { knast::capi::init_options(opts, version, default_jail_options); });
}

knast_status knast_jail_create(knast_jail** out, const knast_jail_options* opts) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    *out = new knast_jail{knast::Jail::create(jail_options_from(opts))};
  });
}

knast_status knast_jail_open(knast_jail** out, const char* state_root, const char* id_or_name) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(state_root, "state_root");
    require(id_or_name, "id_or_name");
    *out = new knast_jail{knast::Jail::open(state_root, id_or_name)};
  });
}

void knast_jail_free(knast_jail* jail) { delete jail; }

const char* knast_jail_id(const knast_jail* jail) { return jail != nullptr ? jail->jail.id().c_str() : nullptr; }

knast_status knast_jail_list(char** json, const char* state_root) {
  return guard([&] {
    require(json, "json");
    *json = nullptr;
    require(state_root, "state_root");
    Json array = Json::array();
    for (const auto& state : knast::Jail::list(state_root)) array.push_back(Json::parse(knast::to_json(state)));
    *json = owned_string(array.dump());
  });
}

knast_status knast_jail_state(char** json, const knast_jail* jail) {
  return guard([&] {
    require(json, "json");
    *json = nullptr;
    require(jail, "jail");
    *json = owned_string(knast::to_json(jail->jail.state()));
  });
}

knast_status knast_jail_spec(char** json, const knast_jail* jail) {
  return guard([&] {
    require(json, "json");
    *json = nullptr;
    require(jail, "jail");
    *json = owned_string(knast::to_json(jail->jail.spec()));
  });
}

knast_status knast_jail_start(knast_jail* jail) {
  return guard([&] {
    require(jail, "jail");
    jail->jail.start();
  });
}

knast_status knast_jail_wait(int* exit_code, const knast_jail* jail, int64_t timeout_ms) {
  bool timed_out = false;
  const knast_status status = guard([&] {
    require(exit_code, "exit_code");
    require(jail, "jail");
    const auto code = jail->jail.wait(timeout_of(timeout_ms));
    if (code) *exit_code = *code;
    timed_out = !code;
  });
  if (status == KNAST_OK && timed_out)
    return knast::capi::set_last_error(KNAST_ETIMEDOUT, 0,
                                       "container " + jail->jail.id() + " still running after " +
                                           std::to_string(timeout_ms) + " ms");
  return status;
}

knast_status knast_jail_kill(knast_jail* jail, int signal, int all) {
  return guard([&] {
    require(jail, "jail");
    jail->jail.kill(signal, all != 0);
  });
}

knast_status knast_jail_stop(int* exit_code, knast_jail* jail, int64_t grace_ms) {
  return guard([&] {
    require(jail, "jail");
    const int code = grace_ms < 0 ? jail->jail.stop() : jail->jail.stop(std::chrono::milliseconds(grace_ms));
    if (exit_code != nullptr) *exit_code = code;
  });
}

knast_status knast_jail_exec(int* exit_code, knast_jail* jail, const char* process_json, const knast_stdio* stdio) {
  return guard([&] {
    require(exit_code, "exit_code");
    require(jail, "jail");
    knast::ExecOptions options;
    if (stdio != nullptr) options.io = io_from(*stdio);
    *exit_code = jail->jail.exec(exec_process(jail->jail, process_json), options);
  });
}

knast_status knast_jail_remove(knast_jail* jail, int force) {
  return guard([&] {
    require(jail, "jail");
    jail->jail.remove(force != 0);
  });
}

knast_status knast_jail_read_logs(const knast_jail* jail, knast_log_cb sink, void* payload, int follow) {
  return guard([&] {
    require(jail, "jail");
    if (sink == nullptr) throw knast::Error(knast::ErrorCode::invalid_argument, "sink must not be NULL");
    jail->jail.read_logs(
        [&](int stream, std::string_view bytes) {
          if (sink(stream, bytes.data(), bytes.size(), payload) != 0)
            throw knast::Error(knast::ErrorCode::cancelled, "reading the log of container " + jail->jail.id() +
                                                                " was stopped by the callback");
        },
        follow != 0);
  });
}

knast_status knast_new_container_id(char** out) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    *out = owned_string(knast::new_container_id());
  });
}

knast_status knast_jail_find_supervisor(char** out) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    *out = owned_string(knast::find_supervisor().string());
  });
}

}  // extern "C"
