#include "jail/container_network.hpp"

#include "core/text.hpp"
#include "image_store/posix_io.hpp"
#include "network/network_state.hpp"

#include <knast/error.hpp>
#include <knast/platform.hpp>

#include <fcntl.h>

#include <algorithm>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

namespace fs = std::filesystem;

// Big enough for any real resolv.conf; a bigger one is not the host's.
constexpr std::size_t max_resolv_conf_bytes = 64 * 1024;

// Whether the spec gives the container a network stack of its own: a new Linux network
// namespace, or a FreeBSD jail that does not inherit the host's addresses.
bool has_own_network_stack(const RunSpec& spec) {
  if (spec.linux_config)
    return std::any_of(spec.linux_config->namespaces.begin(), spec.linux_config->namespaces.end(),
                       [](const LinuxNamespace& ns) { return ns.type == "network" && !ns.path; });
  if (spec.freebsd_config && spec.freebsd_config->jail) {
    const FreeBsdJail& jail = *spec.freebsd_config->jail;
    return jail.vnet == SharingMode::new_ && jail.ip4 != SharingMode::inherit;
  }
  return false;
}

std::string host_resolv_conf() {
  const UniqueFd fd = open_if_exists("/etc/resolv.conf", O_RDONLY);
  return fd ? read_all(fd, max_resolv_conf_bytes, "/etc/resolv.conf") : std::string();
}

RunMount read_only_file(const fs::path& source, const std::string& destination) {
  return RunMount{destination, "bind", source.string(), {"rbind", "ro"}};
}

// A shared network (FreeBSD) gives the jail its address on the host's stack: ip4.addr,
// and no vnet (a vnet jail cannot have address restrictions, jail(2)).
void use_shared_address(RunSpec& spec, const Endpoint& endpoint) {
  spec.annotations[std::string(annotation::ip4_addresses)] = endpoint.address;
  if (!spec.freebsd_config || !spec.freebsd_config->jail) return;
  FreeBsdJail& jail = *spec.freebsd_config->jail;
  jail.vnet.reset();
  jail.ip4 = SharingMode::new_;
  jail.ip6 = SharingMode::disable;
}

}  // namespace

RunSpec join_container_network(const JailOptions& options, const ContainerDir& dir, RunSpec spec) {
  const ContainerNetwork& wanted = options.network;
  const std::string what = "container " + dir.id().substr(0, 12);
  if (wanted.network.empty()) {
    if (!wanted.ports.empty())
      throw Error(ErrorCode::invalid_argument, what + ": publishing ports needs a bridge network (--network NAME)");
    return spec;
  }
  if (!has_own_network_stack(spec))
    throw Error(ErrorCode::invalid_argument,
                what + ": it cannot join network " + quote_untrusted(wanted.network) +
                    ": its spec shares the host's network stack (--network host)");
  JoinRequest request;
  request.container_id = dir.id();
  request.container_name = options.name;
  request.hostname = spec.hostname.value_or("");
  request.ports = wanted.ports;
  const Endpoint endpoint = join_network(options.state_root, wanted.network, request, Platform::host().os);
  const NetworkConfig network = network_of(options.state_root, endpoint);
  const fs::path resolv = dir.resolv_conf();
  const UniqueFd out = open_file(resolv, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const std::string text = container_resolv_conf(host_resolv_conf(), wanted.dns);
  write_all(out, text.data(), text.size(), resolv);
  spec.mounts.push_back(read_only_file(hosts_file(options.state_root, network.name), "/etc/hosts"));
  spec.mounts.push_back(read_only_file(resolv, "/etc/resolv.conf"));
  if (network.driver == NetworkMode::shared) use_shared_address(spec, endpoint);
  return spec;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
