// The FreeBSD network executor's kernel calls (FREEBSD.md §7): interface ioctls on an
// AF_INET datagram socket (network_ifconfig_freebsd.cpp) and routing-socket messages
// (network_route_freebsd.cpp). network_freebsd.cpp strings them together.
//
// The calls that configure one interface take the socket and return 0 or an errno
// instead of throwing: they also run in a child forked into a vnet jail (an ioctl acts on
// the network stack its socket was made in), where only async-signal-safe code may run
// because the caller may be multi-threaded. They copy names into zeroed kernel structs and
// never allocate. FreeBSD only.
#pragma once

#include "core/unique_fd.hpp"

#include <sys/types.h>
#include <sys/socket.h>
#include <net/if.h>
#include <netinet/in.h>

#include <string>

namespace knast::platform::freebsd {

/// An interface name as the kernel holds it (NUL-terminated, at most IFNAMSIZ - 1 bytes).
struct InterfaceName {
  char text[IFNAMSIZ] = {};
};

/// @p name as an InterfaceName. @throws Error invalid_argument if empty or too long.
InterfaceName interface_name(const std::string& name);

// ---- interfaces: 0 or errno, async-signal-safe (network_ifconfig_freebsd.cpp) -----------

/// SIOCIFCREATE2 of cloner @p name ("epair", "bridge"): on success @p name holds the new
/// interface ("epair3a", "bridge0").
int create_interface(int s, InterfaceName& name) noexcept;
/// SIOCIFDESTROY; ENXIO when there is no such interface (either epair end takes both).
int destroy_interface(int s, const InterfaceName& name) noexcept;
/// SIOCSIFNAME: renames @p from to @p to (EEXIST when taken).
int rename_interface(int s, const InterfaceName& from, const InterfaceName& to) noexcept;
/// Sets IFF_UP (SIOCGIFFLAGS, SIOCSIFFLAGS).
int set_interface_up(int s, const InterfaceName& name) noexcept;
/// SIOCAIFADDR of @p address / @p prefix_length (0–32); the kernel derives the broadcast
/// address. The same address again only updates it.
int add_ipv4_address(int s, const InterfaceName& name, in_addr address, int prefix_length) noexcept;
/// SIOCDIFADDR of @p address (EADDRNOTAVAIL when the interface does not hold it).
int delete_ipv4_address(int s, const InterfaceName& name, in_addr address) noexcept;
/// BRDGADD through SIOCSDRVSPEC: @p member joins bridge @p bridge.
int add_bridge_member(int s, const InterfaceName& bridge, const InterfaceName& member) noexcept;
/// SIOCSIFVNET: moves @p name into the vnet of jail @p jid; @p name becomes the name the
/// interface has there.
int move_interface_to_jail(int s, InterfaceName& name, int jid) noexcept;
/// 127.0.0.1/8 on lo0 (an address there already is fine) and IFF_UP.
int configure_loopback(int s) noexcept;

// ---- routes: 0 or errno, async-signal-safe (network_route_freebsd.cpp) ------------------

/// RTM_ADD of the IPv4 default route via @p gateway in the caller's network stack.
int add_default_route(in_addr gateway) noexcept;

// ---- inside a vnet jail (network_jail_side_freebsd.cpp) --------------------------------

/// What a container's vnet gets, prepared before the child that sets it up is forked.
struct JailSide {
  int jid = -1;            ///< The container's jail.
  InterfaceName moved;     ///< The epair end, as SIOCSIFVNET named it in the jail.
  InterfaceName name;      ///< Its name there (Endpoint::container_interface).
  in_addr address{};       ///< Its address.
  int prefix_length = 0;   ///< The subnet's prefix length.
  in_addr gateway{};       ///< The default route's gateway, if has_gateway.
  bool has_gateway = false;  ///< Whether to add a default route.
};

/// In a child attached to jail side.jid: renames side.moved to side.name, adds the address,
/// brings it and lo0 (127.0.0.1/8) up, adds the default route. Forks; safe to call from
/// a multi-threaded process. @throws Error naming @p what and the step that failed.
void configure_jail_side(const JailSide& side, const std::string& what);

// ---- host side, throwing ---------------------------------------------------------------

/// An AF_INET datagram socket of the caller's network stack (the ioctl handle).
/// @throws Error.
detail::UniqueFd interface_socket();

/// Whether interface @p name holds IPv4 address @p address (getifaddrs(3)). @throws Error.
bool has_ipv4_address(const InterfaceName& name, in_addr address);

/// The interface of the IPv4 default route of the caller's stack ("" when there is none).
/// @throws Error when the routing socket fails otherwise.
std::string default_route_interface_name();

}  // namespace knast::platform::freebsd
