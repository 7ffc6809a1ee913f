// class Network: creating (record, then the host side — a bridge and its firewall rules
// — undone entirely when the host refuses), opening, listing and removing named networks.
#include "core/text.hpp"
#include "image_store/posix_io.hpp"
#include "network/network_config.hpp"
#include "network/network_files.hpp"
#include "network/network_state.hpp"
#include "platform/network.hpp"

#include <knast/error.hpp>
#include <knast/jail.hpp>
#include <knast/platform.hpp>

#include <fmt/format.h>

#include <fcntl.h>

#include <algorithm>

namespace knast {
inline namespace v0 {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view default_network_name = "knast";
constexpr std::string_view default_network_subnet = "10.88.0.0/16";
constexpr std::string_view default_network_gateway = "10.88.0.1";

// The default network as Network::default_network() would make it, for a plan made
// before it exists: its id (which names the bridge and the nft table) is not known yet.
NetworkConfig planned_default_network() {
  NetworkConfig config;
  config.name = default_network_name;
  config.id = std::string(64, '0');
  config.subnet = default_network_subnet;
  config.gateway = default_network_gateway;
  config.bridge = "kn-" + config.id.substr(0, 12);
  return config;
}

[[noreturn]] void refuse_create(std::string_view name, ErrorCode code, const std::string& why) {
  throw Error(code, fmt::format("create network {}: {}", detail::quote_untrusted(name), why));
}

// The gateway: given (inside the subnet, not its network or broadcast address) or, for a
// bridge, the subnet's first address.
std::string choose_gateway(const NetworkCreateOptions& o, const detail::Ipv4Subnet& subnet) {
  if (o.gateway.empty()) return o.driver == NetworkMode::bridge ? detail::default_gateway(subnet) : std::string();
  const auto gateway = detail::parse_ipv4(o.gateway);
  if (!gateway || !subnet.contains(*gateway) || *gateway == subnet.network || *gateway == subnet.broadcast())
    refuse_create(o.name, ErrorCode::invalid_argument,
                  fmt::format("gateway {} is not a host address of {}", detail::quote_untrusted(o.gateway),
                              subnet.to_string()));
  return o.gateway;
}

// The subnet: given (checked against the other networks and, for a bridge, the host's
// interfaces) or the first free /24 of 10.89.0.0/16.
detail::Ipv4Subnet choose_subnet(const NetworkCreateOptions& o, const std::vector<NetworkConfig>& existing) {
  std::vector<detail::Ipv4Subnet> taken;
  for (const auto& n : existing) taken.push_back(detail::parse_subnet(n.subnet));
  // A shared network's addresses are aliases in the parent interface's own subnet.
  const auto on_host = o.driver == NetworkMode::bridge ? detail::host_subnets() : std::vector<detail::HostSubnet>{};
  if (o.subnet.empty()) {
    for (const auto& h : on_host) taken.push_back(h.subnet);
    return detail::pick_free_subnet(taken);
  }
  const auto subnet = detail::parse_subnet(o.subnet);
  // A bridge needs its gateway and at least one container; /31 and /32 have no room.
  if (subnet.prefix > 30)
    refuse_create(o.name, ErrorCode::invalid_argument,
                  fmt::format("subnet {} has no room for containers: use a prefix of /30 or shorter", o.subnet));
  for (std::size_t i = 0; i < taken.size(); ++i)
    if (taken[i].overlaps(subnet))
      refuse_create(o.name, ErrorCode::already_exists,
                    fmt::format("subnet {} overlaps {} of network {}: choose another", subnet.to_string(),
                                existing[i].subnet, existing[i].name));
  for (const auto& h : on_host)
    if (h.subnet.overlaps(subnet))
      refuse_create(o.name, ErrorCode::already_exists,
                    fmt::format("subnet {} overlaps {} of the host's interface {}: choose another",
                                subnet.to_string(), h.subnet.to_string(), detail::quote_untrusted(h.interface)));
  return subnet;
}

// The host side of a bridge network; on failure everything is undone, record included.
void make_host_side(const fs::path& state_root, const NetworkConfig& config, std::string_view host_os) {
  if (config.driver != NetworkMode::bridge) return;
  const auto rules = detail::firewall_rules(host_os, config, {});
  try {
    platform::ensure_bridge(config);
    platform::apply_firewall(rules.anchor, rules.rules);
  } catch (const Error& e) {
    try {
      platform::apply_firewall(rules.anchor, "");
      platform::remove_bridge(config);
    } catch (const Error&) {
      // The original failure is what the caller needs; the undo is best effort.
    }
    detail::drop_network_record(state_root, config.name);
    throw e.with_context(fmt::format("create network {}", config.name));
  }
}

// The parent interface: given, or for a FreeBSD bridge with NAT and a shared network the
// interface of the default route.
NetworkCreateOptions with_parent_interface(NetworkCreateOptions o, std::string_view host_os) {
  // (Only on FreeBSD: Linux has no shared networks and masquerades on any interface.)
  const bool needs_parent = host_os == "freebsd" && (o.driver == NetworkMode::shared || o.nat);
  if (!needs_parent || !o.parent_interface.empty()) return o;
  o.parent_interface = platform::default_route_interface();
  if (o.parent_interface.empty())
    refuse_create(o.name, ErrorCode::invalid_argument,
                  "the host has no IPv4 default route to find the parent interface by: give the parent interface");
  return o;
}

Network create_locked(const detail::NetworkLock& lock, const NetworkCreateOptions& options);

}  // namespace

namespace detail {

NetworkConfig for_planning(NetworkConfig network, std::string_view host_os) {
  if (host_os == "freebsd" && network.driver == NetworkMode::bridge && network.nat && network.parent_interface.empty())
    network.parent_interface = "EXTERNAL_INTERFACE";
  return network;
}

NetworkConfig record_network(const NetworkLock&, const NetworkCreateOptions& o, std::string_view host_os) {
  check_network_name(o.name);
  if (o.driver != NetworkMode::bridge && o.driver != NetworkMode::shared)
    refuse_create(o.name, ErrorCode::invalid_argument,
                  fmt::format("driver {} is not one a network has (bridge or shared)", to_string(o.driver)));
  if (o.driver == NetworkMode::shared && host_os == "linux")
    refuse_create(o.name, ErrorCode::invalid_argument, "shared networks exist on FreeBSD only: use a bridge network");
  if (o.parent_interface.empty() &&
      (o.driver == NetworkMode::shared || (o.nat && host_os == "freebsd")))
    refuse_create(o.name, ErrorCode::invalid_argument, "give the parent interface (the host interface it uses)");
  const auto existing = read_networks(o.state_root);
  if (std::any_of(existing.begin(), existing.end(), [&](const auto& n) { return n.name == o.name; }))
    refuse_create(o.name, ErrorCode::already_exists, "a network of that name exists already");
  const Ipv4Subnet subnet = choose_subnet(o, existing);

  NetworkConfig config;
  config.name = o.name;
  config.id = new_container_id();  // the same kind of id: 64 random hex digits
  config.driver = o.driver;
  config.subnet = subnet.to_string();
  config.gateway = choose_gateway(o, subnet);
  if (o.driver == NetworkMode::bridge) config.bridge = "kn-" + config.id.substr(0, 12);
  config.parent_interface = o.parent_interface;
  config.nat = o.driver == NetworkMode::bridge && o.nat;
  config.created_at = now_rfc3339();

  // network.json last: a directory without one is an interrupted creation, replaced here.
  const fs::path dir = network_dir(o.state_root, o.name);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) throw Error(ec, fmt::format("create network {}: make {}", o.name, dir.string()));
  try {
    write_endpoints(o.state_root, o.name, {});
    write_hosts_file(o.state_root, o.name, {});
    replace_file(dir / "network.json", dir / (".network." + unique_name()), to_json(config));
  } catch (...) {
    drop_network_record(o.state_root, o.name);
    throw;
  }
  return config;
}

NetworkConfig create_network_record(const NetworkCreateOptions& options, std::string_view host_os) {
  const NetworkLock lock(options.state_root);
  return record_network(lock, options, host_os);
}

void drop_network_record(const fs::path& state_root, std::string_view name) {
  // Only regular files of knast's own are in it (std::filesystem::remove_all does not
  // follow symbolic links in libstdc++ anyway).
  std::error_code ec;
  fs::remove_all(network_dir(state_root, name), ec);
}

}  // namespace detail

namespace {

Network create_locked(const detail::NetworkLock& lock, const NetworkCreateOptions& options) {
  const std::string host_os = Platform::host().os;
  const auto config = detail::record_network(lock, with_parent_interface(options, host_os), host_os);
  make_host_side(options.state_root, config, host_os);
  return Network::open(options.state_root, config.name);
}

}  // namespace

Network::Network(fs::path state_root, NetworkConfig config)
    : state_root_(std::move(state_root)), config_(std::move(config)) {}

Network Network::create(const NetworkCreateOptions& options) {
  const detail::NetworkLock lock(options.state_root);
  return create_locked(lock, options);
}

Network Network::open(const fs::path& state_root, std::string_view name_or_id) {
  return Network(state_root, detail::resolve_network(state_root, name_or_id));
}

std::vector<NetworkConfig> Network::list(const fs::path& state_root) { return detail::read_networks(state_root); }

Network Network::default_network(const fs::path& state_root) {
  // Under the lock, so two processes making it at once both end with the one network.
  const detail::NetworkLock lock(state_root);
  try {
    return open(state_root, default_network_name);
  } catch (const Error& e) {
    if (e.kind() != ErrorCode::not_found) throw;
  }
  NetworkCreateOptions options;
  options.state_root = state_root;
  options.name = default_network_name;
  // 10.88.0.0/16, unless the host is on it already (a LAN, or the default network of
  // another state root on this host): then the first free /24 of 10.89.0.0/16.
  const auto usual = detail::parse_subnet(default_network_subnet);
  const auto on_host = detail::host_subnets();
  if (std::none_of(on_host.begin(), on_host.end(), [&](const auto& h) { return h.subnet.overlaps(usual); })) {
    options.subnet = default_network_subnet;
    options.gateway = default_network_gateway;
  }
  return create_locked(lock, options);
}

std::vector<Endpoint> Network::endpoints() const { return detail::read_endpoints(state_root_, config_.name); }

void Network::remove() {
  const detail::NetworkLock lock(state_root_);
  const auto endpoints = detail::read_endpoints(state_root_, config_.name);
  if (!endpoints.empty()) {
    std::string users;
    for (const auto& e : endpoints)
      users += (users.empty() ? "" : ", ") + (e.container_name.empty() ? e.container_id.substr(0, 12) : e.container_name);
    throw Error(ErrorCode::invalid_argument,
                fmt::format("remove network {}: containers are on it ({}): remove them first", config_.name, users));
  }
  if (config_.driver == NetworkMode::bridge) {
    try {
      const auto rules = detail::firewall_rules(Platform::host().os, config_, {});
      platform::apply_firewall(rules.anchor, "");
      platform::remove_bridge(config_);
    } catch (const Error& e) {
      throw e.with_context(fmt::format("remove network {}", config_.name));
    }
  }
  detail::drop_network_record(state_root_, config_.name);
}

NetworkPlan preview_join(const fs::path& state_root, std::string_view name_or_id, std::string_view container_id,
                         const std::vector<PortMapping>& ports, std::string_view host_os) {
  NetworkConfig network;
  std::vector<Endpoint> endpoints;
  try {
    network = detail::resolve_network(state_root, name_or_id);
    endpoints = detail::read_endpoints(state_root, network.name);
  } catch (const Error& e) {
    if (e.kind() != ErrorCode::not_found || name_or_id != default_network_name) throw;
    network = planned_default_network();
  }
  network = detail::for_planning(std::move(network), host_os);
  detail::JoinRequest request;
  request.container_id = container_id;
  request.ports = detail::with_host_ports(state_root, ports, detail::host_can_bind);  // what a join would pick now
  NetworkPlanRequest plan;
  plan.host_os = host_os;
  plan.mode = network.driver;
  plan.endpoint = detail::new_endpoint(network, endpoints, request);
  plan.network = std::move(network);
  plan.others = std::move(endpoints);
  return plan_network(plan);
}

}  // namespace v0
}  // namespace knast
