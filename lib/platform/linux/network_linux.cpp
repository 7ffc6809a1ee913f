// The Linux network executor (platform/network.hpp): rtnetlink for the bridge, the veth
// pairs, addresses and routes (netlink_linux.hpp), libnftables for the firewall table
// (nftables_linux.hpp). Nothing here starts a program.
//
// A container's side is configured through a netlink socket made inside its network
// namespace by a short-lived thread (netlink::Socket::open_in_namespace), so the threads
// of the caller never change namespace. The veth peer is created straight in that
// namespace (IFLA_NET_NS_FD): it never appears on the host, and deleting the host end
// deletes it too, which is the whole of the undo.
#include "platform/network.hpp"

#include "core/unique_fd.hpp"
#include "platform/linux/netlink_linux.hpp"
#include "platform/linux/nftables_linux.hpp"

#include <knast/error.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

namespace knast::platform {
namespace {

using knast::detail::UniqueFd;

in_addr parse_address(const std::string& text, const std::string& what) {
  in_addr address{};
  if (::inet_pton(AF_INET, text.c_str(), &address) != 1)
    throw Error(ErrorCode::invalid_argument, what + " \"" + text + "\" is not an IPv4 address");
  return address;
}

// The prefix length of "10.89.0.0/24".
int prefix_length_of(const std::string& subnet) {
  const auto slash = subnet.find('/');
  int length = -1;
  if (slash != std::string::npos) {
    const char* end = subnet.data() + subnet.size();
    const auto [rest, error] = std::from_chars(subnet.data() + slash + 1, end, length);
    if (error != std::errc() || rest != end) length = -1;
  }
  if (length < 0 || length > 32)
    throw Error(ErrorCode::invalid_argument, "the subnet \"" + subnet + "\" is not an IPv4 CIDR (a.b.c.d/n)");
  return length;
}

// Forwarding is a setting of each network namespace (/proc/sys/net belongs to the
// namespace of whoever opens it): this turns it on in the caller's, where the bridge is.
void write_sysctl_one(const std::string& path, const std::string& what) {
  const UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), "1", 1) != 1) throw Error(errno, "turn on " + what + " (write 1 to " + path + ")");
}

void enable_ipv4_forwarding() { write_sysctl_one("/proc/sys/net/ipv4/ip_forward", "IPv4 forwarding"); }

// A port published on 127.0.0.1 (or any address, reached as 127.0.0.1 from the host) is
// DNAT'ed to a container: the kernel routes such a packet out of the bridge only with
// route_localnet on it (what docker sets when it runs without its userland proxy).
void enable_route_localnet(const std::string& bridge) {
  write_sysctl_one("/proc/sys/net/ipv4/conf/" + bridge + "/route_localnet", "route_localnet on " + bridge);
}

UniqueFd open_network_namespace(pid_t pid) {
  if (pid <= 0)
    throw Error(ErrorCode::invalid_argument, "no process to connect: the container's pid is " + std::to_string(pid));
  const std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd)
    throw Error(errno, "open the network namespace of process " + std::to_string(pid) + " (" + path +
                           "): is the container still running?");
  return fd;
}

// The name the peer has between its creation in the container's namespace and its
// rename to Endpoint::container_interface: "kp" for the host end's "kv", so unique per
// container and as short (Linux names hold at most 15 characters).
std::string temporary_peer_name(const Endpoint& endpoint) {
  if (endpoint.host_interface.size() < 3 || endpoint.container_interface.empty())
    throw Error(ErrorCode::invalid_argument, "the endpoint of container " + endpoint.container_id +
                                                 " names no host interface (\"kv…\") or no container interface");
  return "kp" + endpoint.host_interface.substr(2);
}

void refuse_shared(const NetworkConfig& network) {
  if (network.driver == NetworkMode::shared)
    throw Error(ErrorCode::invalid_argument,
                "network " + network.name + ": the shared driver is FreeBSD only; use a bridge network on Linux");
}

// The container's side, through a socket in its namespace: the peer renamed and up, its
// address, loopback up (the container executor brought it up already; harmless), the
// default route via the gateway.
void configure_inside(netlink::Socket& inside, const std::string& peer_name, const Endpoint& endpoint, in_addr address,
                      in_addr gateway) {
  const int index = netlink::link_index(inside, peer_name);
  netlink::set_link(inside, {.index = index, .name = endpoint.container_interface, .master = 0, .up = true});
  netlink::add_address(inside, index, address, endpoint.prefix_length);
  netlink::set_link(inside, {.index = 0, .name = "lo", .master = 0, .up = true});
  if (!endpoint.gateway.empty()) netlink::add_default_route(inside, index, gateway);
}

// Undo without a second failure hiding the first: the caller rethrows what went wrong.
void delete_quietly(netlink::Socket& socket, const std::string& name) noexcept {
  try {
    netlink::delete_link(socket, name);
  } catch (...) {  // NOLINT(bugprone-empty-catch): the original error is the one to report
  }
}

// Firewall tables are "ip knast_<id12>": nothing that could end an nft command.
void check_anchor(const std::string& anchor) {
  const bool plain = !anchor.empty() && std::all_of(anchor.begin(), anchor.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == ' ';
  });
  if (!plain) throw Error(ErrorCode::invalid_argument, "\"" + anchor + "\" is not an nftables table (\"ip knast_…\")");
}

}  // namespace

void ensure_bridge(const NetworkConfig& network) {
  refuse_shared(network);
  const in_addr gateway = parse_address(network.gateway, "the gateway of network " + network.name);
  const int prefix_length = prefix_length_of(network.subnet);
  auto socket = netlink::Socket::open();
  const bool created = netlink::add_bridge(socket, network.bridge);
  try {
    const int index = netlink::link_index(socket, network.bridge);
    netlink::add_address(socket, index, gateway, prefix_length);  // there already after a restart: fine
    netlink::set_link(socket, {.index = index, .name = {}, .master = 0, .up = true});
    enable_ipv4_forwarding();
    enable_route_localnet(network.bridge);
  } catch (const Error& error) {
    if (created) delete_quietly(socket, network.bridge);
    throw error.with_context("set up the bridge of network " + network.name);
  }
}

void remove_bridge(const NetworkConfig& network) {
  if (network.bridge.empty()) return;
  auto socket = netlink::Socket::open();
  try {
    netlink::delete_link(socket, network.bridge);
  } catch (const Error& error) {
    throw error.with_context("remove the bridge of network " + network.name);
  }
}

void connect_endpoint(const NetworkConfig& network, const Endpoint& endpoint, const NetworkTarget& target) {
  refuse_shared(network);
  const std::string context = "connect container " + endpoint.container_id + " to network " + network.name;
  try {
    const in_addr address = parse_address(endpoint.address, "the address of the container");
    const in_addr gateway = endpoint.gateway.empty() ? in_addr{} : parse_address(endpoint.gateway, "the gateway");
    const std::string peer_name = temporary_peer_name(endpoint);
    const UniqueFd netns = open_network_namespace(target.init_pid);
    auto host = netlink::Socket::open();
    const int bridge = netlink::link_index(host, network.bridge);
    auto inside = netlink::Socket::open_in_namespace(netns.get());
    // The host end joins the bridge and comes up in the same request that creates it.
    netlink::add_veth(host, {.name = endpoint.host_interface,
                             .peer_name = peer_name,
                             .peer_netns_fd = netns.get(),
                             .master = bridge,
                             .up = true});
    try {
      configure_inside(inside, peer_name, endpoint, address, gateway);
    } catch (...) {
      delete_quietly(host, endpoint.host_interface);  // the peer goes with it
      throw;
    }
  } catch (const Error& error) {
    throw error.with_context(context);
  }
}

void disconnect_endpoint(const NetworkConfig& network, const Endpoint& endpoint, bool stack_gone) {
  // The namespace's end goes with the namespace, and the host end with it (veth pairs die
  // together), in the kernel's own time rather than the caller's.
  if (network.driver == NetworkMode::shared || endpoint.host_interface.empty() || stack_gone) return;
  auto socket = netlink::Socket::open();
  try {
    netlink::delete_link(socket, endpoint.host_interface);  // gone already (with its container): fine
  } catch (const Error& error) {
    throw error.with_context("disconnect container " + endpoint.container_id + " from network " + network.name);
  }
}

void apply_firewall(const std::string& anchor, const std::string& rules) {
  check_anchor(anchor);
  // Removal: declaring the table first makes deleting it succeed whether it exists or not.
  const std::string script = rules.empty() ? "table " + anchor + " {}\ndelete table " + anchor + "\n" : rules;
  try {
    nftables::run(script);
  } catch (const Error& error) {
    throw error.with_context((rules.empty() ? "remove the firewall table " : "load the firewall table ") + anchor);
  }
}

// Unused on Linux: nftables masquerades whatever interface the traffic leaves by.
std::string default_route_interface() { return {}; }

}  // namespace knast::platform
