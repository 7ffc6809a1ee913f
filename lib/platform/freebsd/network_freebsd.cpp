// The FreeBSD network executor (lib/platform/network.hpp; facts: FREEBSD.md §7).
//
// bridge: an if_bridge(4) "kn-<id12>" with the gateway address; per container an
// epair(4) whose a end, renamed "kv<container12>", joins the bridge and whose b end moves
// into the container's vnet jail (SIOCSIFVNET); what happens inside the jail is
// configure_jail_side() (network_jail_side_freebsd.cpp). shared: the
// container's address as a /32 alias on the host interface NetworkConfig::parent_interface.
// Firewall: pfctl(8) loads one anchor; pf's rule structures change between releases, so
// knast does not speak DIOCADDRULE itself.
#include "platform/network.hpp"

#include "core/unique_fd.hpp"
#include "platform/freebsd/jail_freebsd.hpp"
#include "platform/freebsd/network_kernel_freebsd.hpp"
#include "registry/subprocess.hpp"

#include <knast/error.hpp>
#include <knast/jail.hpp>

#include <sys/param.h>
#include <sys/jail.h>
#include <sys/linker.h>
#include <sys/module.h>
#include <sys/sysctl.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace knast::platform {
namespace {

namespace bsd = freebsd;
using bsd::InterfaceName;
using detail::UniqueFd;

constexpr const char* host_guide = "docs/freebsd-host.md, \"Networking\"";

[[noreturn]] void fail(int err, const std::string& what, std::string_view advice = {}) {
  throw Error(err, fmt::format("{}: {}{}", what, std::strerror(err), advice));
}

void check(int err, const std::string& what, std::string_view advice = {}) {
  if (err != 0) fail(err, what, advice);
}

in_addr ipv4_address(const std::string& text, std::string_view what) {
  in_addr address{};
  if (::inet_pton(AF_INET, text.c_str(), &address) != 1)
    throw Error(ErrorCode::invalid_argument, fmt::format("{} \"{}\" is not an IPv4 address", what, text));
  return address;
}

int subnet_prefix_length(const NetworkConfig& network) {
  const auto slash = network.subnet.find('/');
  int prefix = -1;
  if (slash != std::string::npos) {
    const char* end = network.subnet.data() + network.subnet.size();
    const auto [at, ec] = std::from_chars(network.subnet.data() + slash + 1, end, prefix);
    if (ec != std::errc() || at != end) prefix = -1;
  }
  if (prefix < 0 || prefix > 32)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("network {}: subnet \"{}\" is not an IPv4 CIDR", network.name, network.subnet));
  return prefix;
}

// ---- host preparation ---------------------------------------------------------------------

void load_module(const char* module) {
  if (::modfind(module) >= 0) return;  // loaded, or built into the kernel
  if (::kldload(module) >= 0 || errno == EEXIST) return;
  const int err = errno;
  fail(err, fmt::format("kldload {}", module),
       fmt::format(" (load it at boot: kld_list=\"if_bridge if_epair\" in /etc/rc.conf; {})", host_guide));
}

void enable_ip_forwarding() {
  int value = 0;
  std::size_t size = sizeof value;
  if (::sysctlbyname("net.inet.ip.forwarding", &value, &size, nullptr, 0) != 0) {
    const int err = errno;
    fail(err, "sysctl net.inet.ip.forwarding");
  }
  if (value == 1) return;
  const int on = 1;
  if (::sysctlbyname("net.inet.ip.forwarding", nullptr, nullptr, &on, sizeof on) != 0) {
    const int err = errno;
    fail(err, "sysctl net.inet.ip.forwarding=1", fmt::format(" (set it in /etc/sysctl.conf; {})", host_guide));
  }
}

// A cloned interface this call made: destroyed again on unwinding unless released.
class ClonedInterface {
 public:
  ClonedInterface(int s, const char* cloner) : s_(s) {
    name_ = bsd::interface_name(cloner);
    check(bsd::create_interface(s_, name_), fmt::format("creating an interface of cloner {} (SIOCIFCREATE2)", cloner),
          fmt::format(" (is if_{} loaded? {})", cloner, host_guide));
  }
  ~ClonedInterface() {
    if (!released_) bsd::destroy_interface(s_, name_);  // an epair takes its peer along
  }
  ClonedInterface(const ClonedInterface&) = delete;
  ClonedInterface& operator=(const ClonedInterface&) = delete;

  const InterfaceName& name() const noexcept { return name_; }
  void rename(const InterfaceName& to) {
    check(bsd::rename_interface(s_, name_, to), fmt::format("renaming {} to {}", name_.text, to.text),
          " (an interface of that name exists: left over from an earlier run of this container or network? "
          "`ifconfig NAME destroy` removes it)");
    name_ = to;
  }
  void release() noexcept { released_ = true; }

 private:
  int s_;
  InterfaceName name_;
  bool released_ = false;
};

// ---- connect -------------------------------------------------------------------------------

int jail_of(const std::string& container_id) {
  const std::string name = jail_name(container_id);
  if (const auto jid = bsd::find_jail(name)) return *jid;
  throw Error(ErrorCode::not_found,
              fmt::format("connecting container {}: no jail named {} (is the container running?)", container_id, name));
}

InterfaceName epair_peer(const InterfaceName& a_end) {
  InterfaceName peer = a_end;
  const std::size_t length = ::strnlen(peer.text, IFNAMSIZ);
  if (length == 0 || peer.text[length - 1] != 'a')
    throw Error(ErrorCode::internal, fmt::format("epair created as {}, not epairNa", a_end.text));
  peer.text[length - 1] = 'b';
  return peer;
}

void connect_bridge(const NetworkConfig& network, const Endpoint& endpoint, const NetworkTarget& target) {
  const std::string what = fmt::format("connecting container {} to network {}", endpoint.container_id, network.name);
  const InterfaceName bridge = bsd::interface_name(network.bridge);
  const InterfaceName host_end = bsd::interface_name(endpoint.host_interface);
  bsd::JailSide side;
  side.name = bsd::interface_name(endpoint.container_interface);
  side.address = ipv4_address(endpoint.address, "the container's address");
  side.prefix_length = endpoint.prefix_length;
  if (side.prefix_length < 1 || side.prefix_length > 32)
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: prefix length {} is not 1-32", what, side.prefix_length));
  side.has_gateway = !endpoint.gateway.empty();
  if (side.has_gateway) side.gateway = ipv4_address(endpoint.gateway, "the container's gateway");
  side.jid = jail_of(target.container_id);

  const UniqueFd s = bsd::interface_socket();
  ClonedInterface pair(s.get(), "epair");
  side.moved = epair_peer(pair.name());
  pair.rename(host_end);
  check(bsd::add_bridge_member(s.get(), bridge, host_end),
        fmt::format("{}: adding {} to bridge {} (BRDGADD)", what, host_end.text, bridge.text));
  check(bsd::set_interface_up(s.get(), host_end), fmt::format("{}: bringing {} up", what, host_end.text));
  check(bsd::move_interface_to_jail(s.get(), side.moved, side.jid),
        fmt::format("{}: moving {} into jail {} (SIOCSIFVNET)", what, side.moved.text, side.jid),
        " (EEXIST: the jail has no vnet of its own, or the name is taken there)");
  bsd::configure_jail_side(side, what);
  pair.release();
}

void connect_shared(const NetworkConfig& network, const Endpoint& endpoint) {
  if (network.parent_interface.empty())
    throw Error(ErrorCode::invalid_argument,
                fmt::format("network {} (shared) names no parent interface for the addresses", network.name));
  const InterfaceName parent = bsd::interface_name(network.parent_interface);
  const in_addr address = ipv4_address(endpoint.address, "the container's address");
  if (bsd::has_ipv4_address(parent, address)) return;  // re-adding would drop it for a moment
  const UniqueFd s = bsd::interface_socket();
  check(bsd::add_ipv4_address(s.get(), parent, address, 32),
        fmt::format("adding {}/32 to {} for container {} (SIOCAIFADDR)", endpoint.address, parent.text,
                    endpoint.container_id));
}

}  // namespace

void ensure_bridge(const NetworkConfig& network) {
  if (network.driver != NetworkMode::bridge) return;  // shared networks have no bridge
  const InterfaceName bridge = bsd::interface_name(network.bridge);
  const in_addr gateway = ipv4_address(network.gateway, "network " + network.name + ": the gateway");
  const int prefix_length = subnet_prefix_length(network);
  load_module("if_bridge");
  load_module("if_epair");
  enable_ip_forwarding();
  const UniqueFd s = bsd::interface_socket();
  std::optional<ClonedInterface> created;
  if (::if_nametoindex(bridge.text) == 0) {
    created.emplace(s.get(), "bridge");
    created->rename(bridge);
  }
  const std::string what = fmt::format("network {}: bridge {}", network.name, bridge.text);
  // Adding an address the interface holds would delete and re-add it (and its route).
  if (!bsd::has_ipv4_address(bridge, gateway))
    check(bsd::add_ipv4_address(s.get(), bridge, gateway, prefix_length),
          fmt::format("{}: adding {}/{} (SIOCAIFADDR)", what, network.gateway, prefix_length));
  check(bsd::set_interface_up(s.get(), bridge), what + ": bringing it up");
  if (created) created->release();
}

void remove_bridge(const NetworkConfig& network) {
  if (network.driver != NetworkMode::bridge) return;
  const InterfaceName bridge = bsd::interface_name(network.bridge);
  const UniqueFd s = bsd::interface_socket();
  if (const int err = bsd::destroy_interface(s.get(), bridge); err != 0 && err != ENXIO)
    fail(err, fmt::format("network {}: destroying bridge {}", network.name, bridge.text));
}

void connect_endpoint(const NetworkConfig& network, const Endpoint& endpoint, const NetworkTarget& target) {
  switch (network.driver) {
    case NetworkMode::bridge: return connect_bridge(network, endpoint, target);
    case NetworkMode::shared: return connect_shared(network, endpoint);
    default:
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("network {}: driver {} has no endpoints", network.name, to_string(network.driver)));
  }
}

// An epair end moved into a jail returns to the host when the jail goes: destroy it in
// any case (stack_gone changes nothing here).
void disconnect_endpoint(const NetworkConfig& network, const Endpoint& endpoint, bool /*stack_gone*/) {
  const UniqueFd s = bsd::interface_socket();
  if (network.driver == NetworkMode::shared) {
    const InterfaceName parent = bsd::interface_name(network.parent_interface);
    const in_addr address = ipv4_address(endpoint.address, "the container's address");
    const int err = bsd::delete_ipv4_address(s.get(), parent, address);
    if (err != 0 && err != EADDRNOTAVAIL && err != ENXIO)
      fail(err, fmt::format("removing {} from {} (container {})", endpoint.address, parent.text, endpoint.container_id));
    return;
  }
  const InterfaceName host_end = bsd::interface_name(endpoint.host_interface);
  if (const int err = bsd::destroy_interface(s.get(), host_end); err != 0 && err != ENXIO)
    fail(err, fmt::format("destroying {} (container {})", host_end.text, endpoint.container_id));
}

void apply_firewall(const std::string& anchor, const std::string& rules) {
  constexpr const char* pfctl = "/sbin/pfctl";
  // No pf device: pf is not loaded, so no anchor holds anything to flush.
  if (rules.empty() && ::access("/dev/pf", F_OK) != 0 && errno == ENOENT) return;  // EACCES etc.: let pfctl say
  std::vector<std::string> argv{pfctl, "-a", anchor};
  if (rules.empty()) argv.insert(argv.end(), {"-F", "all"});
  else argv.insert(argv.end(), {"-f", "-"});
  const auto result = registry_detail::run_process(argv, rules, std::chrono::seconds(30));
  if (result.exit_code == 0) return;
  std::string message = result.err.empty() ? fmt::format("exit status {}", result.exit_code) : result.err;
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  throw Error(ErrorCode::io, fmt::format("pfctl -a {} {}: {} (is pf loaded and enabled, with knast's anchor lines "
                                         "in /etc/pf.conf? {})",
                                         anchor, rules.empty() ? "-F all" : "-f -", message, host_guide));
}

std::string default_route_interface() { return bsd::default_route_interface_name(); }

}  // namespace knast::platform
