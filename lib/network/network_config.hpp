// The Network component's value rules: network names, IPv4 subnets and their arithmetic,
// and the JSON of network.json and endpoints.json (written by knast, read back strictly:
// a hand-edited or torn file is refused with what is wrong, never half-used).
#pragma once

#include <knast/network.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// Refuses (invalid_argument) a network name that is not [a-zA-Z0-9][a-zA-Z0-9_.-]*, at
/// most 64 characters, nor "network.lock" (it names a directory beside the lock file and
/// the pf anchor "knast/<name>").
void check_network_name(std::string_view name);

/// A dotted IPv4 address as a number in host order, or nothing.
std::optional<std::uint32_t> parse_ipv4(std::string_view text);
/// The dotted form of @p address (host order).
std::string format_ipv4(std::uint32_t address);

/// An IPv4 subnet: its network address (host order) and prefix length.
struct Ipv4Subnet {
  std::uint32_t network = 0;
  int prefix = 0;
  /// The netmask in host order (0 for /0).
  std::uint32_t mask() const noexcept;
  /// The broadcast (last) address.
  std::uint32_t broadcast() const noexcept;
  /// Whether @p address lies in the subnet.
  bool contains(std::uint32_t address) const noexcept;
  /// Whether the two subnets share any address.
  bool overlaps(const Ipv4Subnet& other) const noexcept;
  /// "10.89.0.0/24".
  std::string to_string() const;
};

/// An IPv4 subnet an interface of the host is on.
struct HostSubnet {
  std::string interface;  ///< "eth0", "em0", "kn-0123456789ab".
  Ipv4Subnet subnet;      ///< Its address masked with its netmask.
};

/// The IPv4 subnets of the interfaces of the caller's network stack (getifaddrs(3)),
/// loopback excluded: what a new bridge network must not overlap (a LAN, a VPN, the
/// bridge of another state root's network).
std::vector<HostSubnet> host_subnets();

/// Parses "a.b.c.d/n". Host bits set ("10.1.2.3/24") are refused as docker does, naming
/// the network address to use instead. @throws Error invalid_argument.
Ipv4Subnet parse_subnet(std::string_view text);

/// The gateway a bridge network gets when none is given: the subnet's first address.
std::string default_gateway(const Ipv4Subnet& subnet);

/// The lowest address of @p subnet that is neither its network nor broadcast address,
/// nor @p gateway, nor in @p used (dotted addresses). @throws Error limit_exceeded when
/// none is left, naming @p network_name.
std::string allocate_address(const Ipv4Subnet& subnet, std::string_view gateway,
                             const std::vector<std::string>& used, std::string_view network_name);

/// The first 10.89.N.0/24 (N = 0…255) that overlaps none of @p taken. @throws Error
/// limit_exceeded when all 256 are taken.
Ipv4Subnet pick_free_subnet(const std::vector<Ipv4Subnet>& taken);

/// network.json read back: every field present with its type, no unknown field, and the
/// values valid (name, id, driver, subnet, gateway inside it). @p what names the file.
/// @throws Error io naming @p what and the problem.
NetworkConfig network_config_from_json(std::string_view text, std::string_view what);

/// endpoints.json: a JSON array of Endpoint objects, as to_json(Endpoint) writes each.
std::string endpoints_to_json(const std::vector<Endpoint>& endpoints);
/// endpoints.json read back strictly (as network_config_from_json()).
std::vector<Endpoint> endpoints_from_json(std::string_view text, std::string_view what);

}  // namespace detail
}  // namespace v0
}  // namespace knast
