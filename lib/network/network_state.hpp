// The Network component's state under <state root>/network/ and what the Jail component
// asks of it: a container joins a network when it is made (Jail::create(), in the
// caller: its address is allocated and its names are added to the network's hosts file),
// its supervisor wires it once its stack exists and unwires it when it stops, and
// `rm` releases whatever is left (a container whose supervisor died).
//
// Every read-modify-write of network/ happens under the one lock network/network.lock
// (flock, so it dies with its holder), which also serialises firewall reloads: the rules
// of a network are rendered from all its endpoints and loaded as one replacement.
#pragma once

#include <knast/network.hpp>

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// What a container brings to a network.
struct JoinRequest {
  std::string container_id;
  std::string container_name;  ///< May be empty.
  std::string hostname;        ///< May be empty.
  std::vector<PortMapping> ports;
};

/// Whether a host port may be handed out: true when nothing on the host listens on it.
using HostPortProbe = std::function<bool(const PortMapping&)>;

/// True when a socket of @p mapping's protocol can bind its host port on its host
/// address (every address when empty) in the caller's network stack: nothing listens
/// there now. Published ports are NAT rules, not sockets, so a host service on the same
/// port would silently lose its traffic to the container.
bool host_can_bind(const PortMapping& mapping);

/// @p ports with every host_port 0 replaced by the lowest port from first_dynamic_port
/// up that no endpoint of any network of @p state_root publishes, that no other mapping
/// of @p ports takes and that @p free_on_host accepts. The caller holds the NetworkLock
/// (or only previews). @throws Error limit_exceeded when none is left.
std::vector<PortMapping> with_host_ports(const std::filesystem::path& state_root, std::vector<PortMapping> ports,
                                         const HostPortProbe& free_on_host);

/// Records the endpoint of a new container on @p network_name_or_id of @p state_root:
/// the lowest free address of the subnet (not the network or broadcast address nor the
/// gateway), its ports (any-port requests given a port by with_host_ports() and
/// @p free_on_host) checked against every published port of every network of the state
/// root, the network's hosts file rewritten (in place: containers bind-mount it).
/// @throws Error not_found (no such network), invalid_argument (ports on a shared
///         network; shared on Linux), already_exists (a port taken, the container
///         already on a network), limit_exceeded (the subnet or the port range is full).
Endpoint join_network(const std::filesystem::path& state_root, std::string_view network_name_or_id,
                      const JoinRequest& request, std::string_view host_os,
                      const HostPortProbe& free_on_host = host_can_bind);

/// The network @p endpoint is on (its NetworkConfig).
NetworkConfig network_of(const std::filesystem::path& state_root, const Endpoint& endpoint);

/// The hosts file of network @p network_name: what containers on it bind-mount at /etc/hosts.
std::filesystem::path hosts_file(const std::filesystem::path& state_root, std::string_view network_name);

/// The text of a container's /etc/resolv.conf: `nameserver` lines for @p dns, or when
/// empty for the nameservers of @p host_resolv_conf that are not loopback addresses,
/// followed by the host's `search` and `options` lines. Pure.
std::string container_resolv_conf(std::string_view host_resolv_conf, const std::vector<std::string>& dns);

/// In the supervisor, once the container's stack exists: wires the endpoint of
/// @p container_id (platform::ensure_bridge(), platform::connect_endpoint()) and reloads
/// its network's firewall rules. Nothing to do for a container on no network.
/// @throws Error with everything it did undone (the endpoint stays recorded: the caller
///         fails the container, whose removal releases it).
void connect_container(const std::filesystem::path& state_root, const std::string& container_id, pid_t init_pid);

/// Unwires and releases the endpoint of @p container_id, if it has one: the host
/// interface or alias removed, the endpoint dropped from endpoints.json and the hosts
/// file, the firewall rules reloaded without its ports. Idempotent; for teardown paths,
/// so it does not throw: it returns what went wrong, empty when nothing did. @p stack_gone:
/// every process of the container has ended (the supervisor after teardown), see
/// platform::disconnect_endpoint().
std::string leave_network(const std::filesystem::path& state_root, const std::string& container_id,
                          bool stack_gone = false) noexcept;

/// The firewall rules of @p network with @p endpoints (the nft script or pf anchor text
/// of NetworkPlan::firewall_rules) and their anchor. Pure.
struct FirewallRules {
  std::string anchor;
  std::string rules;
};
FirewallRules firewall_rules(std::string_view host_os, const NetworkConfig& network,
                             const std::vector<Endpoint>& endpoints);

}  // namespace detail
}  // namespace v0
}  // namespace knast
