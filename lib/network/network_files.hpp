// The files of the Network component under <state root>/network/ and the one lock that
// guards them (network_state.hpp explains the layout). Shared by network_state.cpp (what
// the Jail component calls) and network.cpp (class Network).
#pragma once

#include "network/network_state.hpp"

#include "core/unique_fd.hpp"

#include <knast/network.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// The lock network/network.lock (flock, exclusive): every read-modify-write of network/
/// and every firewall reload happens while one is held. Waits for it; released when the
/// object goes (or its process dies).
class NetworkLock {
 public:
  explicit NetworkLock(const std::filesystem::path& state_root);

 private:
  UniqueFd fd_;
};

/// <state root>/network/<name>/.
std::filesystem::path network_dir(const std::filesystem::path& state_root, std::string_view name);

/// Every network of @p state_root (each directory with a network.json), by name.
std::vector<NetworkConfig> read_networks(const std::filesystem::path& state_root);
/// The network @p name_or_id: a name, a full id or a unique id prefix.
/// @throws Error not_found, invalid_argument (an ambiguous prefix).
NetworkConfig resolve_network(const std::filesystem::path& state_root, std::string_view name_or_id);

/// The endpoints of network @p name (none when endpoints.json is missing).
std::vector<Endpoint> read_endpoints(const std::filesystem::path& state_root, std::string_view name);
/// Replaces endpoints.json (temporary file, fsync, rename).
void write_endpoints(const std::filesystem::path& state_root, std::string_view name,
                     const std::vector<Endpoint>& endpoints);

/// The /etc/hosts text of a network with @p endpoints: loopback lines, then one line per
/// endpoint with its names (container name, hostname, first 12 digits of its id), each
/// name only once in the file.
std::string hosts_text(const std::vector<Endpoint>& endpoints);
/// Rewrites the hosts file of network @p name in place (truncate and write: containers
/// bind-mount this inode, so it must never be replaced).
void write_hosts_file(const std::filesystem::path& state_root, std::string_view name,
                      const std::vector<Endpoint>& endpoints);

/// The endpoint a container of @p request gets on @p network, whose containers are
/// @p endpoints now: the lowest free address, its interfaces and ports. Pure.
/// @throws Error limit_exceeded (the subnet is full).
Endpoint new_endpoint(const NetworkConfig& network, const std::vector<Endpoint>& endpoints,
                      const JoinRequest& request);

/// @p network ready to be planned for a @p host_os host: a bridge with NAT made on Linux
/// (where nftables needs no parent interface) gets the placeholder "EXTERNAL_INTERFACE"
/// for pf's NAT rule, so a FreeBSD plan of it can still be shown.
NetworkConfig for_planning(NetworkConfig network, std::string_view host_os);

/// Records a new network (the caller holds @p lock): validates @p options, picks its
/// subnet and gateway, makes its id and writes network/<name>/. No host change.
/// @throws Error invalid_argument, already_exists (name or overlapping subnet).
NetworkConfig record_network(const NetworkLock& lock, const NetworkCreateOptions& options,
                             std::string_view host_os);
/// record_network() under its own lock: what tests use to make networks without
/// touching the host.
NetworkConfig create_network_record(const NetworkCreateOptions& options, std::string_view host_os);
/// Deletes network/<name>/ (the caller holds the lock). Idempotent.
void drop_network_record(const std::filesystem::path& state_root, std::string_view name);

}  // namespace detail
}  // namespace v0
}  // namespace knast
