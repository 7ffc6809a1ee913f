// The network executor: what the Network component asks of the OS to give a bridge
// network its host side and to wire one container to it. Linux
// (lib/platform/linux/network_linux.cpp): rtnetlink for links, addresses and routes,
// libnftables for the firewall table. FreeBSD (lib/platform/freebsd/network_freebsd.cpp):
// SIOCIFCREATE2/SIOCSIFVNET/SIOCAIFADDR ioctls and a routing socket, pfctl(8) for the
// anchor. The unsupported build refuses.
//
// Every function is idempotent where it says so, and one that fails undoes what it did
// itself before throwing. None forks or changes the caller's namespaces in a way that
// outlives the call: they may be called from a multi-threaded process (Linux enters a
// container's network namespace from a short-lived thread of its own).
#pragma once

#include <knast/network.hpp>

#include <sys/types.h>

#include <string>

namespace knast::platform {

/// Where a container's network stack is.
struct NetworkTarget {
  std::string container_id;  ///< FreeBSD: the jail is jail_name() of it.
  pid_t init_pid = 0;        ///< Linux: the network namespace of this process.
};

/// Makes the host side of bridge network @p network if it is missing: the bridge
/// interface NetworkConfig::bridge with the gateway address (prefix of the subnet), up;
/// IPv4 forwarding on. Idempotent (also what brings a network back after a reboot).
/// @throws Error permission_denied / io with what the kernel refused.
void ensure_bridge(const NetworkConfig& network);

/// Removes the bridge of @p network. Idempotent.
void remove_bridge(const NetworkConfig& network);

/// Wires @p endpoint of @p network into @p target. bridge: a veth pair (Linux) or epair
/// (FreeBSD) whose host end Endpoint::host_interface joins the bridge, up, and whose
/// other end moves into the container's stack as Endpoint::container_interface with
/// Endpoint::address, up, and a default route to Endpoint::gateway. shared (FreeBSD):
/// Endpoint::address as a /32 alias on NetworkConfig::parent_interface.
/// @throws Error (everything it made removed again).
void connect_endpoint(const NetworkConfig& network, const Endpoint& endpoint, const NetworkTarget& target);

/// Undoes connect_endpoint(): deletes the host end (its peer goes with it) or the alias.
/// Idempotent; a container whose stack is gone already is not an error.
/// @p stack_gone says every process of the container has ended, so its network stack is
/// going: Linux then leaves the veth pair to the kernel, which deletes it with the
/// namespace (deleting it here would make the caller wait out an RCU grace period, about
/// 20 ms per device); FreeBSD destroys the epair all the same (an interface moved into a
/// jail comes back to the host when the jail goes).
void disconnect_endpoint(const NetworkConfig& network, const Endpoint& endpoint, bool stack_gone = false);

/// Replaces, atomically, the rules in the firewall anchor @p anchor (an nftables table
/// "ip knast_…" / a pf anchor "knast/…") with @p rules (an nft script / pf rules, as
/// plan_network() renders them); empty @p rules deletes the table / flushes the anchor
/// (idempotent).
/// @throws Error with the firewall's own message.
void apply_firewall(const std::string& anchor, const std::string& rules);

/// The interface of the host's IPv4 default route, or empty when there is none (FreeBSD
/// NAT leaves by it; see NetworkConfig::parent_interface).
std::string default_route_interface();

}  // namespace knast::platform
