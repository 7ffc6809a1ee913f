// C ABI of networks (knast::Network): an opaque handle on one network of a state root;
// configs, endpoints and port mappings come back as JSON, as other records do.
#include "guard.hpp"

#include "network/network_files.hpp"
#include "network/network_state.hpp"

#include <knast/network.hpp>

#include <string>

struct knast_network {
  knast::Network network;
};

namespace {

using knast::capi::guard;
using knast::capi::owned_string;
using knast::capi::require;

constexpr knast_network_options default_network_options = KNAST_NETWORK_OPTIONS_INIT;

knast::NetworkMode driver_of(const char* driver) {
  const std::string name = driver != nullptr ? driver : "bridge";
  if (name == "bridge") return knast::NetworkMode::bridge;
  if (name == "shared") return knast::NetworkMode::shared;
  throw knast::Error(knast::ErrorCode::invalid_argument, "unknown network driver \"" + name + "\": use bridge or shared");
}

knast::NetworkCreateOptions network_options_from(const knast_network_options* opts) {
  require(opts, "opts");
  const auto c = knast::capi::options_or_default(opts, default_network_options);
  require(c.state_root, "opts->state_root");
  require(c.name, "opts->name");
  knast::NetworkCreateOptions o;
  o.state_root = c.state_root;
  o.name = c.name;
  o.driver = driver_of(c.driver);
  if (c.subnet != nullptr) o.subnet = c.subnet;
  if (c.gateway != nullptr) o.gateway = c.gateway;
  if (c.parent_interface != nullptr) o.parent_interface = c.parent_interface;
  o.nat = c.nat != 0;
  return o;
}

template <typename Items>
std::string json_array(const Items& items) {
  std::string out = "[";
  for (const auto& item : items) out += (out.size() > 1 ? ", " : "") + knast::to_json(item);
  return out + "]";
}

knast::NetworkPlanRequest plan_request(const char* state_root, const char* container_id, const char* host_os) {
  const auto endpoint = knast::find_endpoint(state_root, container_id);
  if (!endpoint)
    throw knast::Error(knast::ErrorCode::not_found, std::string("container ") + container_id + " is on no network");
  knast::NetworkPlanRequest request;
  request.host_os = host_os;
  request.network = knast::detail::for_planning(knast::detail::network_of(state_root, *endpoint), host_os);
  request.mode = request.network.driver;
  request.endpoint = *endpoint;
  for (auto& other : knast::Network::open(state_root, request.network.name).endpoints())
    if (other.container_id != endpoint->container_id) request.others.push_back(std::move(other));
  return request;
}

}  // namespace

extern "C" {

knast_status knast_network_options_init(knast_network_options* opts, unsigned int version) {
  return guard([&] { knast::capi::init_options(opts, version, default_network_options); });
}

knast_status knast_network_create(knast_network** out, const knast_network_options* opts) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    *out = new knast_network{knast::Network::create(network_options_from(opts))};
  });
}

knast_status knast_network_open(knast_network** out, const char* state_root, const char* name_or_id) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(state_root, "state_root");
    require(name_or_id, "name_or_id");
    *out = new knast_network{knast::Network::open(state_root, name_or_id)};
  });
}

knast_status knast_network_default(knast_network** out, const char* state_root) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(state_root, "state_root");
    *out = new knast_network{knast::Network::default_network(state_root)};
  });
}

void knast_network_free(knast_network* network) { delete network; }

knast_status knast_network_config(char** json, const knast_network* network) {
  return guard([&] {
    require(json, "json");
    *json = nullptr;
    require(network, "network");
    *json = owned_string(knast::to_json(network->network.config()));
  });
}

knast_status knast_network_endpoints(char** json, const knast_network* network) {
  return guard([&] {
    require(json, "json");
    *json = nullptr;
    require(network, "network");
    *json = owned_string(json_array(network->network.endpoints()));
  });
}

knast_status knast_network_remove(knast_network* network) {
  return guard([&] {
    require(network, "network");
    network->network.remove();
  });
}

knast_status knast_network_list(char** json, const char* state_root) {
  return guard([&] {
    require(json, "json");
    *json = nullptr;
    require(state_root, "state_root");
    *json = owned_string(json_array(knast::Network::list(state_root)));
  });
}

knast_status knast_container_endpoint(char** json, const char* state_root, const char* container_id) {
  return guard([&] {
    require(json, "json");
    *json = nullptr;
    require(state_root, "state_root");
    require(container_id, "container_id");
    const auto endpoint = knast::find_endpoint(state_root, container_id);
    *json = owned_string(endpoint ? knast::to_json(*endpoint) : "null");
  });
}

knast_status knast_parse_port_mappings(char** json, const char* text) {
  return guard([&] {
    require(json, "json");
    *json = nullptr;
    require(text, "text");
    *json = owned_string(json_array(knast::parse_port_mappings(text)));
  });
}

knast_status knast_network_plan(char** out, const char* state_root, const char* container_id, const char* host_os,
                                uint32_t format) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(state_root, "state_root");
    require(container_id, "container_id");
    require(host_os, "host_os");
    const knast::NetworkPlan plan = knast::plan_network(plan_request(state_root, container_id, host_os));
    if (format == KNAST_PLAN_JSON) *out = owned_string(knast::to_json(plan));
    else if (format == KNAST_PLAN_TEXT) *out = owned_string(knast::to_text(plan));
    else
      throw knast::Error(knast::ErrorCode::invalid_argument,
                         "unknown plan format " + std::to_string(format) + ": use KNAST_PLAN_JSON or KNAST_PLAN_TEXT");
  });
}

}  // extern "C"
