/// @file network.hpp
/// @brief Network: named networks with an address allocator, published ports, and the
///        plan that wires one container to them — FreeBSD VNET jails with epair(4) and
///        if_bridge(4) and a pf anchor of knast's own, Linux veth pairs, a bridge and an
///        nftables table of knast's own. docs/network.md is the guide.
///
/// A container's network is one of four modes (NetworkMode): `none` (loopback only),
/// `host` (the host's own stack), or a named network of the state root, whose driver is
/// `bridge` (the default for `knast run`: a bridge on the host, the gateway address on
/// it, outbound NAT and port forwards) or `shared` (FreeBSD only: each container gets an
/// address alias on a host interface, given to the jail as `ip4.addr`).
///
/// Networks live in `<state root>/network/<name>/` (DESIGN.md, "On-disk layout"):
/// `network.json` (its NetworkConfig), `endpoints.json` (the containers on it, with their
/// addresses and published ports) and `hosts` (the /etc/hosts every container on it
/// sees, so containers find each other by name). Every change is made under one lock,
/// `<state root>/network/network.lock`, so concurrent processes never get one address
/// twice. Containers join a network through JailOptions::network; their address is
/// released when they stop.
#pragma once

#include <knast/export.hpp>
#include <knast/plan.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {

// ---- Published ports ------------------------------------------------------------------

/// One published port (`-p [[hostip:]hostport:]containerport[/tcp|udp]`): connections to
/// @ref host_port on the host are forwarded to @ref container_port of the container.
struct KNAST_API PortMapping {
  std::string host_ip;              ///< The host address it listens on; empty: every address.
  /// 1–65535; 0 asks for any free port, which joining the network replaces with the
  /// lowest free one of the dynamic range (see first_dynamic_port).
  std::uint16_t host_port = 0;
  std::uint16_t container_port = 0; ///< 1–65535.
  std::string protocol = "tcp";     ///< "tcp" or "udp".
  /// Mappings compare by every field.
  friend bool operator==(const PortMapping&, const PortMapping&) = default;
};

/// The first port of the range free host ports are chosen from (the IANA dynamic range,
/// 49152–65535, on every OS).
inline constexpr std::uint16_t first_dynamic_port = 49152;

/// Parses one `-p` value as docker does: `[[hostip:]hostport:]containerport[/proto]`, with
/// port ranges of equal length (`8080-8081:80-81`) expanding into one mapping per port.
/// With no host port (`80`, `80-81`, `127.0.0.1::80`) each mapping has host_port 0: any
/// free port, chosen when the container joins its network. IPv4 host addresses only.
/// @throws Error invalid_argument naming what is wrong.
KNAST_API std::vector<PortMapping> parse_port_mappings(std::string_view text);

/// docker's `port` format: "80/tcp -> 0.0.0.0:8080".
KNAST_API std::string to_string(const PortMapping& mapping);
/// The mapping as a JSON object {host_ip, host_port, container_port, protocol}.
KNAST_API std::string to_json(const PortMapping& mapping);

// ---- Networks -------------------------------------------------------------------------

/// How a container is connected.
enum class NetworkMode {
  none,    ///< A network stack of its own with only loopback (Linux netns, FreeBSD vnet).
  host,    ///< The host's stack (Linux: no network namespace; FreeBSD: ip4=inherit, ip6=inherit).
  shared,  ///< FreeBSD: an address alias on a host interface, given to the jail as ip4.addr.
  bridge,  ///< A bridge on the host; Linux veth pair, FreeBSD VNET jail with an epair(4).
};

/// "none", "host", "shared" or "bridge".
KNAST_API std::string_view to_string(NetworkMode mode) noexcept;

/// A named network, as `network.json` records it.
struct KNAST_API NetworkConfig {
  std::string name;                     ///< Letters, digits, '_', '-', '.'; at most 64.
  std::string id;                       ///< 64 hex digits, made at creation.
  NetworkMode driver = NetworkMode::bridge;  ///< bridge or shared.
  std::string subnet;                   ///< IPv4 CIDR, "10.89.0.0/24".
  std::string gateway;                  ///< bridge: the bridge's own address, containers' default route.
  /// bridge: the host interface, "kn-" and the first 12 digits of the id (Linux and
  /// FreeBSD interface names hold at most 15 characters).
  std::string bridge;
  /// shared: the host interface that holds the containers' addresses. bridge on FreeBSD:
  /// the interface outbound NAT leaves by (found from the default route at creation if
  /// not given). Unused for a bridge on Linux (nftables masquerades on any interface).
  std::string parent_interface;
  bool nat = true;                      ///< bridge: masquerade outbound traffic of the subnet.
  std::string created_at;               ///< RFC 3339 UTC.
  /// Configs compare by every field.
  friend bool operator==(const NetworkConfig&, const NetworkConfig&) = default;
};

/// The config as JSON (what `network.json` holds and `network inspect` prints).
KNAST_API std::string to_json(const NetworkConfig& config);

/// What Network::create() makes.
struct KNAST_API NetworkCreateOptions {
  std::filesystem::path state_root;  ///< The state root; network/ lives under it.
  std::string name;                  ///< The network's name (see NetworkConfig::name).
  NetworkMode driver = NetworkMode::bridge;  ///< bridge or shared.
  /// IPv4 CIDR; empty: the first 10.89.N.0/24 (N = 0…255) no other network of the state
  /// root uses. Must not overlap another network's subnet.
  std::string subnet;
  /// bridge: empty gives the subnet's first address; shared: the subnet's router (only
  /// recorded: the jail uses the host's routes).
  std::string gateway;
  std::string parent_interface;      ///< See NetworkConfig::parent_interface.
  bool nat = true;                   ///< See NetworkConfig::nat.
};

/// One container on a network, as `endpoints.json` records it.
struct KNAST_API Endpoint {
  std::string container_id;      ///< The container's id.
  std::string container_name;    ///< Its name, if it has one (an /etc/hosts name).
  std::string hostname;          ///< Its hostname (an /etc/hosts name).
  std::string network;           ///< The network's name.
  std::string address;           ///< Its IPv4 address, "10.89.0.2".
  int prefix_length = 0;         ///< The subnet's prefix length.
  std::string gateway;           ///< Its default route (bridge), empty for shared.
  /// bridge: the host end of its veth pair or epair, "kv" and the first 12 characters of
  /// the container id.
  std::string host_interface;
  std::string container_interface = "eth0";  ///< bridge: its interface's name inside.
  std::vector<PortMapping> ports;            ///< Its published ports.
  /// Endpoints compare by every field.
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

/// The endpoint as JSON (what `endpoints.json` holds for it).
KNAST_API std::string to_json(const Endpoint& endpoint);

/// A named network of a state root: a cheap handle on `network/<name>/`. Creating and
/// removing one changes the host (a bridge, firewall rules) and needs root.
class KNAST_API Network {
 public:
  /// Records the network and makes its host side: for a bridge, the bridge interface with
  /// the gateway address, IPv4 forwarding, and the NAT rules (nftables table / pf anchor).
  /// @throws Error invalid_argument (a bad name, subnet, gateway or driver; shared on
  ///         Linux), already_exists (the name, or an overlapping subnet), or what the host
  ///         refused — and then nothing is left behind.
  static Network create(const NetworkCreateOptions& options);
  /// The network @p name_or_id (a name, a full id or a unique id prefix). @throws Error not_found.
  static Network open(const std::filesystem::path& state_root, std::string_view name_or_id);
  /// Every network of @p state_root, by name.
  static std::vector<NetworkConfig> list(const std::filesystem::path& state_root);
  /// The network `knast run` joins when none is named: "knast", a bridge on
  /// 10.88.0.0/16, created on first use.
  static Network default_network(const std::filesystem::path& state_root);

  /// Its config.
  const NetworkConfig& config() const noexcept { return config_; }
  /// The containers on it now.
  std::vector<Endpoint> endpoints() const;
  /// Deletes the network: its bridge, its firewall rules, `network/<name>/`.
  /// @throws Error invalid_argument while containers are on it (naming them).
  void remove();

 private:
  Network(std::filesystem::path state_root, NetworkConfig config);
  std::filesystem::path state_root_;
  NetworkConfig config_;
};

/// The endpoint of container @p container_id on any network of @p state_root, if it has one.
KNAST_API std::optional<Endpoint> find_endpoint(const std::filesystem::path& state_root,
                                                std::string_view container_id);

// ---- Plans (pure; what --dry-run prints) ----------------------------------------------

/// What plan_network() needs.
struct KNAST_API NetworkPlanRequest {
  std::string host_os;                   ///< "linux" or "freebsd".
  NetworkMode mode = NetworkMode::none;  ///< The container's mode.
  NetworkConfig network;                 ///< shared and bridge: its network.
  Endpoint endpoint;                     ///< shared and bridge: the container's endpoint.
  /// The network's other endpoints: their port forwards stay in the firewall rules.
  std::vector<Endpoint> others;
};

/// Wiring one container, as plain data: what the executor does and `--dry-run` prints.
struct KNAST_API NetworkPlan {
  std::string host_os;                    ///< "linux" or "freebsd".
  NetworkMode mode = NetworkMode::none;   ///< The container's mode.
  /// Where the firewall rules go: the nftables table ("ip knast_<id12>") on Linux, the pf
  /// anchor ("knast/<network>") on FreeBSD; empty when there are none.
  std::string firewall_anchor;
  /// The rules loaded there, as one atomic replacement (an nft script / pf anchor text):
  /// outbound NAT and every published port of the network's containers.
  std::string firewall_rules;
  /// The steps in order, setup then teardown, with the call each makes.
  std::vector<PlanStep> steps;
  /// Plans compare by every field.
  friend bool operator==(const NetworkPlan&, const NetworkPlan&) = default;
};

/// The plan for @p request. Pure: the same everywhere, golden-tested.
/// @throws Error invalid_argument (shared on Linux; an endpoint not on the network).
KNAST_API NetworkPlan plan_network(const NetworkPlanRequest& request);

/// The plan as JSON (fixed key order; golden files hold this).
KNAST_API std::string to_json(const NetworkPlan& plan);
/// What `--dry-run` prints: the steps, then the firewall rules.
KNAST_API std::string to_text(const NetworkPlan& plan);

/// What joining network @p name_or_id of @p state_root would do for a new container
/// @p container_id publishing @p ports on a @p host_os host ("linux" or "freebsd"): the
/// plan with the address it would get now. Records and changes nothing — `--dry-run`.
/// The default network ("knast") is planned as Network::default_network() would make it
/// when it does not exist yet (its bridge named after a placeholder id).
/// @throws Error not_found (another network that does not exist), and what plan_network() throws.
KNAST_API NetworkPlan preview_join(const std::filesystem::path& state_root, std::string_view name_or_id,
                                   std::string_view container_id, const std::vector<PortMapping>& ports,
                                   std::string_view host_os);

/// The line a FreeBSD administrator adds to pf.conf once so that knast's anchors are
/// evaluated (docs/freebsd-host.md).
inline constexpr std::string_view pf_conf_lines =
    "nat-anchor \"knast/*\"\nrdr-anchor \"knast/*\"\nanchor \"knast/*\"\n";

}  // namespace v0
}  // namespace knast
