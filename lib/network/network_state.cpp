// The Network component's state under <state root>/network/ (network_state.hpp): the
// lock, network.json / endpoints.json / hosts, joining and leaving a network, wiring a
// container through the network executor, and the firewall rules of a network.
#include "network/network_state.hpp"

#include "core/text.hpp"
#include "image_store/posix_io.hpp"
#include "network/network_config.hpp"
#include "network/network_files.hpp"
#include "platform/network.hpp"

#include <knast/error.hpp>
#include <knast/layout.hpp>
#include <knast/platform.hpp>

#include <fmt/format.h>

#include <fcntl.h>

#include <algorithm>
#include <set>
#include <sstream>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

namespace fs = std::filesystem;

// Our own small files; anything bigger was not written by knast.
constexpr std::size_t max_config_bytes = 64 * 1024;
constexpr std::size_t max_endpoints_bytes = 16 * 1024 * 1024;

fs::path config_file(const fs::path& state_root, std::string_view name) {
  return network_dir(state_root, name) / "network.json";
}
fs::path endpoints_file(const fs::path& state_root, std::string_view name) {
  return network_dir(state_root, name) / "endpoints.json";
}

NetworkConfig read_config(const fs::path& file) {
  const auto fd = open_file(file, O_RDONLY);
  return network_config_from_json(read_all(fd, max_config_bytes, file), file.string());
}

std::string id12(std::string_view id) { return std::string(id.substr(0, 12)); }

// Where an endpoint of a container is: its network and its index there.
struct Located {
  NetworkConfig network;
  std::vector<Endpoint> endpoints;
  std::size_t index = 0;
};

std::optional<Located> locate(const fs::path& state_root, std::string_view container_id) {
  for (auto& network : read_networks(state_root)) {
    auto endpoints = read_endpoints(state_root, network.name);
    for (std::size_t i = 0; i < endpoints.size(); ++i)
      if (endpoints[i].container_id == container_id) return Located{std::move(network), std::move(endpoints), i};
  }
  return std::nullopt;
}

bool ports_collide(const PortMapping& a, const PortMapping& b) {
  // An empty host_ip listens on every address, so it collides with any specific one. Port
  // 0 is a request for any free port, not a port yet.
  return a.host_port != 0 && a.protocol == b.protocol && a.host_port == b.host_port &&
         (a.host_ip.empty() || b.host_ip.empty() || a.host_ip == b.host_ip);
}

std::string describe(const PortMapping& p) {
  return fmt::format("host port {}/{} on {}", p.host_port, p.protocol, p.host_ip.empty() ? "every address" : p.host_ip);
}

// Calls @p visit with every port an endpoint of any network of the state root publishes.
template <typename Visit>
void for_each_published(const fs::path& state_root, const Visit& visit) {
  for (const auto& network : read_networks(state_root))
    for (const auto& endpoint : read_endpoints(state_root, network.name))
      for (const auto& port : endpoint.ports) visit(network, endpoint, port);
}

// Refuses a requested port another endpoint of any network publishes, or the request twice.
void check_ports_free(const fs::path& state_root, const std::vector<PortMapping>& requested) {
  for (std::size_t i = 0; i < requested.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (ports_collide(requested[i], requested[j]))
        throw Error(ErrorCode::already_exists, fmt::format("{} is published twice: {} and {}", describe(requested[i]),
                                                           to_string(requested[j]), to_string(requested[i])));
  for_each_published(state_root, [&](const NetworkConfig& network, const Endpoint& endpoint, const PortMapping& taken) {
    for (const auto& wanted : requested)
      if (ports_collide(taken, wanted))
        throw Error(ErrorCode::already_exists,
                    fmt::format("{} is already published by container {} on network {}: choose another host port",
                                describe(wanted), id12(endpoint.container_id), network.name));
  });
}

void reload_firewall(const NetworkConfig& network, const std::vector<Endpoint>& endpoints) {
  const auto rules = firewall_rules(Platform::host().os, network, endpoints);
  if (!rules.anchor.empty()) platform::apply_firewall(rules.anchor, rules.rules);
}

bool is_loopback_nameserver(std::string_view address) {
  return address.substr(0, 4) == "127." || address == "::1" || address == "0:0:0:0:0:0:0:1";
}

// ---- Firewall rules ---------------------------------------------------------------------

// Linux: one nft transaction that replaces table ip knast_<id12>. "table T {}" first makes
// "delete table T" valid when the table does not exist yet, so the script is the same
// whether it creates or replaces, and the kernel applies it atomically.
std::string nft_rules(const NetworkConfig& network, const std::vector<Endpoint>& endpoints, const std::string& table) {
  const std::string& s = network.subnet;
  std::string out = fmt::format("# knast network {} (bridge {}, subnet {})\n", network.name, network.bridge, s);
  out += fmt::format("table {} {{}}\ndelete table {}\ntable {} {{\n", table, table, table);
  std::vector<std::string> dnat;
  for (const auto& e : endpoints)
    for (const auto& p : e.ports)
      // No host address: every local address of the host (fib ... type local), which is
      // docker's 0.0.0.0; the gateway on the bridge is one of them.
      dnat.push_back(fmt::format("{} {} dport {} dnat to {}:{}",
                                 p.host_ip.empty() ? std::string("fib daddr type local") : "ip daddr " + p.host_ip,
                                 p.protocol, p.host_port, e.address, p.container_port));
  if (network.nat || !dnat.empty()) {
    out += "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n";
    // Outbound: what leaves the subnet takes the address of the interface it leaves by.
    if (network.nat) out += fmt::format("    ip saddr {} ip daddr != {} masquerade\n", s, s);
    if (!dnat.empty()) {
      // Hairpin: a container reaching a published port of the host is sent back into the
      // subnet; without this the answer would go straight to it from the other
      // container's address, which it never talked to.
      out += fmt::format("    ct status dnat ip saddr {} ip daddr {} masquerade\n", s, s);
      // The host reaching 127.0.0.1:port: the source must not stay a loopback address
      // on the bridge (this also needs route_localnet on the bridge, the executor's part).
      out += fmt::format("    ct status dnat ip saddr 127.0.0.0/8 ip daddr {} masquerade\n", s);
    }
    out += "  }\n";
  }
  if (!dnat.empty()) {
    // Packets arriving from elsewhere are translated in prerouting, the host's own
    // connections in output (they never pass prerouting).
    for (const auto& [chain, hook] : {std::pair{"prerouting", "prerouting priority dstnat"},
                                      std::pair{"output", "output priority -100"}}) {
      out += fmt::format("  chain {} {{\n    type nat hook {}; policy accept;\n", chain, hook);
      for (const auto& rule : dnat) out += "    " + rule + "\n";
      out += "  }\n";
    }
  }
  out += "}\n";
  return out;
}

// FreeBSD: the text of pf anchor knast/<name> (loaded with pfctl -a knast/<name> -f -;
// the administrator's pf.conf holds pf_conf_lines, which evaluate knast/*).
std::string pf_rules(const NetworkConfig& network, const std::vector<Endpoint>& endpoints) {
  const std::string& s = network.subnet;
  std::string out = fmt::format("# knast network {} (bridge {}, subnet {}): anchor knast/{}, written by knast\n",
                                network.name, network.bridge, s, network.name);
  if (network.nat) {
    if (network.parent_interface.empty())
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("network {}: outbound NAT needs a parent interface on FreeBSD (none recorded): "
                              "recreate it naming one (knast network create --parent IF)",
                              network.name));
    // Outbound NAT on the interface traffic leaves by; "(if)" follows its address when it
    // changes (DHCP). Traffic between containers of the subnet stays untranslated.
    out += fmt::format("nat on {} inet from {} to ! {} -> ({})\n", network.parent_interface, s, s,
                       network.parent_interface);
  }
  for (const auto& e : endpoints)
    for (const auto& p : e.ports)
      // "self" (every address of the host) is docker's 0.0.0.0. Not on the bridge itself:
      // a container's own connections to port N elsewhere must not be redirected, and
      // pf would answer a hairpinned one from the wrong address. "pass" lets the
      // forwarded connection through without a filter rule of the administrator's.
      out += fmt::format("rdr pass on ! {} inet proto {} from any to {} port {} -> {} port {}\n", network.bridge,
                         p.protocol, p.host_ip.empty() ? std::string("self") : p.host_ip, p.host_port, e.address,
                         p.container_port);
  return out;
}

}  // namespace

// ---- Files and the lock -------------------------------------------------------------------

NetworkLock::NetworkLock(const fs::path& state_root) {
  const fs::path dir = StateLayout(state_root).network();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(ec, fmt::format("create the network directory {}", dir.string()));
  fd_ = lock_file(dir / "network.lock", LockKind::exclusive);
}

fs::path network_dir(const fs::path& state_root, std::string_view name) {
  return StateLayout(state_root).network() / std::string(name);
}

std::vector<NetworkConfig> read_networks(const fs::path& state_root) {
  std::vector<NetworkConfig> networks;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(StateLayout(state_root).network(), ec)) {
    const fs::path file = entry.path() / "network.json";
    if (entry.is_directory(ec) && fs::is_regular_file(fs::symlink_status(file, ec))) networks.push_back(read_config(file));
  }
  std::sort(networks.begin(), networks.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return networks;
}

NetworkConfig resolve_network(const fs::path& state_root, std::string_view name_or_id) {
  auto networks = read_networks(state_root);
  for (auto& n : networks)
    if (n.name == name_or_id || n.id == name_or_id) return std::move(n);
  std::vector<NetworkConfig*> prefixed;
  if (!name_or_id.empty())
    for (auto& n : networks)
      if (std::string_view(n.id).substr(0, name_or_id.size()) == name_or_id) prefixed.push_back(&n);
  if (prefixed.size() == 1) return std::move(*prefixed.front());
  if (prefixed.size() > 1)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("network id prefix {} is ambiguous: give more digits", quote_untrusted(name_or_id)));
  throw Error(ErrorCode::not_found, fmt::format("network {}: no such network (knast network ls lists them)",
                                                quote_untrusted(name_or_id)));
}

std::vector<Endpoint> read_endpoints(const fs::path& state_root, std::string_view name) {
  const fs::path file = endpoints_file(state_root, name);
  const auto fd = open_if_exists(file, O_RDONLY);
  if (!fd) return {};
  return endpoints_from_json(read_all(fd, max_endpoints_bytes, file), file.string());
}

void write_endpoints(const fs::path& state_root, std::string_view name, const std::vector<Endpoint>& endpoints) {
  const fs::path file = endpoints_file(state_root, name);
  replace_file(file, network_dir(state_root, name) / (".endpoints." + unique_name()), endpoints_to_json(endpoints));
}

std::string hosts_text(const std::vector<Endpoint>& endpoints) {
  std::string out = "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n";
  std::set<std::string> given = {"localhost", "ip6-localhost", "ip6-loopback"};
  for (const auto& e : endpoints) {
    std::string line = e.address;
    for (const std::string& name : {e.container_name, e.hostname, id12(e.container_id)})
      if (!name.empty() && given.insert(name).second) line += " " + name;
    if (line != e.address) out += line + "\n";
  }
  return out;
}

void write_hosts_file(const fs::path& state_root, std::string_view name, const std::vector<Endpoint>& endpoints) {
  const fs::path file = hosts_file(state_root, name);
  const std::string text = hosts_text(endpoints);
  // O_TRUNC on open keeps the inode; a rename would leave containers with the old file.
  const auto fd = open_file(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  write_all(fd, text.data(), text.size(), file);
}

// ---- What the Jail component calls ------------------------------------------------------

Endpoint new_endpoint(const NetworkConfig& network, const std::vector<Endpoint>& endpoints,
                      const JoinRequest& request) {
  const Ipv4Subnet subnet = parse_subnet(network.subnet);
  std::vector<std::string> used;
  for (const auto& e : endpoints) used.push_back(e.address);
  Endpoint endpoint;
  endpoint.container_id = request.container_id;
  endpoint.container_name = request.container_name;
  endpoint.hostname = request.hostname;
  endpoint.network = network.name;
  endpoint.address = allocate_address(subnet, network.gateway, used, network.name);
  endpoint.prefix_length = subnet.prefix;
  endpoint.ports = request.ports;
  if (network.driver == NetworkMode::bridge) {
    endpoint.gateway = network.gateway;
    endpoint.host_interface = "kv" + id12(request.container_id);
  } else {
    endpoint.container_interface.clear();  // shared: the jail uses the host's interface
  }
  return endpoint;
}

std::vector<PortMapping> with_host_ports(const fs::path& state_root, std::vector<PortMapping> ports,
                                         const HostPortProbe& free_on_host) {
  if (std::none_of(ports.begin(), ports.end(), [](const PortMapping& p) { return p.host_port == 0; })) return ports;
  std::vector<PortMapping> taken;
  for_each_published(state_root, [&](const NetworkConfig&, const Endpoint&, const PortMapping& p) { taken.push_back(p); });
  for (const auto& p : ports)
    if (p.host_port != 0) taken.push_back(p);
  for (auto& p : ports) {
    if (p.host_port != 0) continue;
    PortMapping candidate = p;
    for (unsigned port = first_dynamic_port;; ++port) {
      if (port > 65535)
        throw Error(ErrorCode::limit_exceeded, fmt::format("no free host port left in {}-65535 for {}/{}",
                                                           first_dynamic_port, p.container_port, p.protocol));
      candidate.host_port = static_cast<std::uint16_t>(port);
      const auto collides = [&](const PortMapping& t) { return ports_collide(t, candidate); };
      if (std::none_of(taken.begin(), taken.end(), collides) && free_on_host(candidate)) break;
    }
    p = candidate;
    taken.push_back(candidate);
  }
  return ports;
}

Endpoint join_network(const fs::path& state_root, std::string_view network_name_or_id, const JoinRequest& request,
                      std::string_view host_os, const HostPortProbe& free_on_host) {
  const NetworkLock lock(state_root);
  const NetworkConfig network = resolve_network(state_root, network_name_or_id);
  const auto refuse = [&](ErrorCode code, const std::string& why) {
    throw Error(code, fmt::format("container {}: join network {}: {}", id12(request.container_id), network.name, why));
  };
  if (network.driver == NetworkMode::shared && host_os == "linux")
    refuse(ErrorCode::invalid_argument, "shared networks exist on FreeBSD only: use a bridge network");
  if (network.driver == NetworkMode::shared && !request.ports.empty())
    refuse(ErrorCode::invalid_argument, "a shared network publishes no ports (the container has a host address of its "
                                        "own): drop -p or use a bridge network");
  if (const auto existing = locate(state_root, request.container_id))
    refuse(ErrorCode::already_exists, "it is on network " + existing->network.name + " already");
  JoinRequest assigned = request;
  try {
    check_ports_free(state_root, request.ports);
    assigned.ports = with_host_ports(state_root, request.ports, free_on_host);
  } catch (const Error& e) {
    throw e.with_context(fmt::format("container {}: join network {}", id12(request.container_id), network.name));
  }
  auto endpoints = read_endpoints(state_root, network.name);
  const Endpoint endpoint = new_endpoint(network, endpoints, assigned);
  endpoints.push_back(endpoint);
  write_endpoints(state_root, network.name, endpoints);
  write_hosts_file(state_root, network.name, endpoints);
  return endpoint;
}

NetworkConfig network_of(const fs::path& state_root, const Endpoint& endpoint) {
  return read_config(config_file(state_root, endpoint.network));
}

fs::path hosts_file(const fs::path& state_root, std::string_view network_name) {
  return network_dir(state_root, network_name) / "hosts";
}

std::string container_resolv_conf(std::string_view host_resolv_conf, const std::vector<std::string>& dns) {
  std::vector<std::string> nameservers = dns;
  std::string rest;
  std::istringstream in{std::string(host_resolv_conf)};
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string keyword, value;
    words >> keyword;
    if (keyword == "nameserver" && dns.empty() && (words >> value) && !is_loopback_nameserver(value))
      nameservers.push_back(value);
    else if (keyword == "search" || keyword == "options")
      rest += line + "\n";
  }
  // A host resolving through a local resolver (systemd-resolved's 127.0.0.53) leaves none
  // the container can reach. docker falls back to public resolvers; knast does not send
  // anyone's queries to a third party nobody chose: the file says so, and --dns fixes it.
  std::string out;
  if (nameservers.empty())
    out = "# knast: the host's name servers are loopback addresses, unreachable from a container: give --dns\n";
  for (const auto& server : nameservers) out += "nameserver " + server + "\n";
  return out + rest;
}

void connect_container(const fs::path& state_root, const std::string& container_id, pid_t init_pid) {
  const NetworkLock lock(state_root);
  const auto located = locate(state_root, container_id);
  if (!located) return;
  const NetworkConfig& network = located->network;
  const Endpoint& endpoint = located->endpoints[located->index];
  try {
    if (network.driver == NetworkMode::bridge) platform::ensure_bridge(network);
    platform::connect_endpoint(network, endpoint, {container_id, init_pid});
    try {
      reload_firewall(network, located->endpoints);
    } catch (...) {
      platform::disconnect_endpoint(network, endpoint);
      throw;
    }
  } catch (const Error& e) {
    throw e.with_context(fmt::format("container {}: connect to network {}", id12(container_id), network.name));
  }
}

std::string leave_network(const fs::path& state_root, const std::string& container_id, bool stack_gone) noexcept {
  std::string problems;
  const auto note = [&](std::string_view what, std::string_view why) {
    problems += fmt::format("{}{}: {}", problems.empty() ? "" : "; ", what, why);
  };
  try {
    const NetworkLock lock(state_root);
    auto located = locate(state_root, container_id);
    if (!located) return {};
    const NetworkConfig& network = located->network;
    const Endpoint endpoint = located->endpoints[located->index];
    try {
      platform::disconnect_endpoint(network, endpoint, stack_gone);
    } catch (const std::exception& e) {
      note("remove its interface", e.what());
    }
    located->endpoints.erase(located->endpoints.begin() + static_cast<std::ptrdiff_t>(located->index));
    write_endpoints(state_root, network.name, located->endpoints);
    try {
      write_hosts_file(state_root, network.name, located->endpoints);
    } catch (const std::exception& e) {
      note("rewrite the hosts file", e.what());
    }
    // Only published ports depend on endpoints: the NAT rule stays as it is.
    if (!endpoint.ports.empty()) try {
        reload_firewall(network, located->endpoints);
      } catch (const std::exception& e) {
        note("reload the firewall rules", e.what());
      }
    if (!problems.empty()) problems = fmt::format("container {}: leave network {}: {}", id12(container_id),
                                                  network.name, problems);
  } catch (const std::exception& e) {
    problems += fmt::format("{}container {}: leave its network: {}", problems.empty() ? "" : "; ", id12(container_id),
                            e.what());
  } catch (...) {
    problems += "leave network: unknown failure";
  }
  return problems;
}

FirewallRules firewall_rules(std::string_view host_os, const NetworkConfig& network,
                             const std::vector<Endpoint>& endpoints) {
  if (network.driver != NetworkMode::bridge) return {};
  if (host_os == "freebsd") return {"knast/" + network.name, pf_rules(network, endpoints)};
  const std::string table = "ip knast_" + id12(network.id);
  return {table, nft_rules(network, endpoints, table)};
}

}  // namespace detail

std::optional<Endpoint> find_endpoint(const std::filesystem::path& state_root, std::string_view container_id) {
  const auto located = detail::locate(state_root, container_id);
  if (!located) return std::nullopt;
  return located->endpoints[located->index];
}

}  // namespace v0
}  // namespace knast
