// The network plan (network.hpp): the steps that wire one container, each with the call
// the executor makes, as an administrator would read it, and the firewall rules. Pure.
#include "network/network_state.hpp"

#include "core/text.hpp"

#include <knast/error.hpp>
#include <knast/jail.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace knast {
inline namespace v0 {
namespace {

[[noreturn]] void refuse(const std::string& why) {
  throw Error(ErrorCode::invalid_argument, "network plan: " + why);
}

void check_request(const NetworkPlanRequest& r) {
  if (r.host_os != "linux" && r.host_os != "freebsd")
    refuse(fmt::format("host os {} has no network plan (linux or freebsd)", detail::quote_untrusted(r.host_os)));
  if (r.mode != NetworkMode::shared && r.mode != NetworkMode::bridge) return;
  if (r.mode == NetworkMode::shared && r.host_os == "linux")
    refuse("shared networks exist on FreeBSD only: use a bridge network");
  if (r.network.driver != r.mode)
    refuse(fmt::format("network {} is a {} network, not {}", r.network.name, to_string(r.network.driver),
                       to_string(r.mode)));
  if (r.endpoint.network != r.network.name)
    refuse(fmt::format("the endpoint of container {} is on network {}, not {}", r.endpoint.container_id,
                       detail::quote_untrusted(r.endpoint.network), r.network.name));
}

std::vector<PlanStep> freebsd_bridge_steps(const NetworkPlanRequest& r, const std::string& anchor) {
  const NetworkConfig& n = r.network;
  const Endpoint& e = r.endpoint;
  const std::string jail = jail_name(e.container_id);
  const std::string inside = "in jail " + jail + ": ";
  return {
      {"kldload", "if_bridge, if_epair (kldload(2) when not loaded)"},
      {"ensure-bridge", fmt::format("when missing: ifconfig bridge create name {} inet {}/{} up (SIOCIFCREATE2 "
                                    "bridge, SIOCSIFNAME, SIOCAIFADDR, SIOCSIFFLAGS); sysctl net.inet.ip.forwarding=1",
                                    n.bridge, n.gateway, e.prefix_length)},
      {"create-epair", "ifconfig epair create (SIOCIFCREATE2 epair: epairNa on the host, its peer epairNb)"},
      {"rename", fmt::format("ifconfig epairNa name {} (SIOCSIFNAME)", e.host_interface)},
      {"bridge-add", fmt::format("ifconfig {} addm {} && ifconfig {} up (SIOCSDRVSPEC BRDGADD, SIOCSIFFLAGS)", n.bridge,
                                 e.host_interface, e.host_interface)},
      {"move-to-jail", fmt::format("ifconfig epairNb vnet {} (SIOCSIFVNET into jail {})", jail, jail)},
      {"rename", inside + fmt::format("ifconfig epairNb name {} (SIOCSIFNAME)", e.container_interface)},
      {"address", inside + fmt::format("ifconfig {} inet {}/{} up (SIOCAIFADDR, SIOCSIFFLAGS)", e.container_interface,
                                       e.address, e.prefix_length)},
      {"route", inside + fmt::format("route add default {} (routing socket RTM_ADD)", e.gateway)},
      {"loopback", inside + "ifconfig lo0 inet 127.0.0.1/8 up (SIOCAIFADDR, SIOCSIFFLAGS)"},
      {"load-firewall", fmt::format("pfctl -a {} -f - (the rules below)", anchor)},
      {"destroy-epair", fmt::format("teardown: ifconfig {} destroy (SIOCIFDESTROY; its peer in the jail goes with it)",
                               e.host_interface)},
      {"reload-firewall", fmt::format("teardown: pfctl -a {} -f - (the rules without this container's ports)", anchor)},
  };
}

std::vector<PlanStep> linux_bridge_steps(const NetworkPlanRequest& r, const std::string& anchor) {
  const NetworkConfig& n = r.network;
  const Endpoint& e = r.endpoint;
  const std::string inside = "in the container's network namespace: ";
  return {
      {"ensure-bridge", fmt::format("when missing: ip link add {} type bridge; ip addr add {}/{} dev {}; ip link set "
                                    "{} up (RTM_NEWLINK bridge, RTM_NEWADDR, RTM_NEWLINK IFF_UP); sysctl "
                                    "net.ipv4.ip_forward=1",
                                    n.bridge, n.gateway, e.prefix_length, n.bridge, n.bridge)},
      {"create-veth", fmt::format("ip link add {} type veth peer name {} netns <init pid> (RTM_NEWLINK veth, the peer "
                                  "with IFLA_NET_NS_FD of the container's init process)",
                                  e.host_interface, e.container_interface)},
      {"bridge-add", fmt::format("ip link set {} master {} up (RTM_NEWLINK IFLA_MASTER, IFF_UP)", e.host_interface,
                                 n.bridge)},
      {"address", inside + fmt::format("ip addr add {}/{} dev {}; ip link set {} up (RTM_NEWADDR, RTM_NEWLINK IFF_UP)",
                                       e.address, e.prefix_length, e.container_interface, e.container_interface)},
      {"loopback", inside + "ip link set lo up (RTM_NEWLINK IFF_UP)"},
      {"route", inside + fmt::format("ip route add default via {} (RTM_NEWROUTE)", e.gateway)},
      {"load-firewall", fmt::format("nft -f - (replaces table {} in one transaction: the rules below)", anchor)},
      {"destroy-veth", fmt::format("teardown: ip link del {} (RTM_DELLINK; its peer goes with it)", e.host_interface)},
      {"reload-firewall", fmt::format("teardown: nft -f - (table {} without this container's ports)", anchor)},
  };
}

std::vector<PlanStep> shared_steps(const NetworkPlanRequest& r) {
  const NetworkConfig& n = r.network;
  const Endpoint& e = r.endpoint;
  return {
      {"alias", fmt::format("ifconfig {} inet {}/32 alias (SIOCAIFADDR on the host)", n.parent_interface, e.address)},
      {"jail-address", fmt::format("jail ip4.addr={} (given to jail {} when it is made)", e.address,
                                   jail_name(e.container_id))},
      {"remove-alias", fmt::format("teardown: ifconfig {} inet {} -alias (SIOCDIFADDR)", n.parent_interface, e.address)},
  };
}

}  // namespace

NetworkPlan plan_network(const NetworkPlanRequest& request) {
  check_request(request);
  NetworkPlan plan;
  plan.host_os = request.host_os;
  plan.mode = request.mode;
  const bool freebsd = request.host_os == "freebsd";
  switch (request.mode) {
    case NetworkMode::host: break;  // the host's own stack: nothing to wire
    case NetworkMode::none:
      plan.steps.push_back({"loopback", freebsd ? "in jail " + jail_name(request.endpoint.container_id) +
                                                      ": ifconfig lo0 inet 127.0.0.1/8 up (SIOCAIFADDR, SIOCSIFFLAGS)"
                                                : "in the container's network namespace: ip link set lo up "
                                                  "(RTM_NEWLINK IFF_UP)"});
      break;
    case NetworkMode::shared: plan.steps = shared_steps(request); break;
    case NetworkMode::bridge: {
      std::vector<Endpoint> endpoints = request.others;
      endpoints.push_back(request.endpoint);
      auto rules = detail::firewall_rules(request.host_os, request.network, endpoints);
      plan.firewall_anchor = std::move(rules.anchor);
      plan.firewall_rules = std::move(rules.rules);
      plan.steps = freebsd ? freebsd_bridge_steps(request, plan.firewall_anchor)
                           : linux_bridge_steps(request, plan.firewall_anchor);
      break;
    }
  }
  return plan;
}

std::string to_json(const NetworkPlan& plan) {
  nlohmann::ordered_json steps = nlohmann::ordered_json::array();
  for (const auto& s : plan.steps) steps.push_back({{"action", s.action}, {"detail", s.detail}});
  const nlohmann::ordered_json doc = {{"host_os", plan.host_os},
                                      {"mode", std::string(to_string(plan.mode))},
                                      {"firewall_anchor", plan.firewall_anchor},
                                      {"firewall_rules", plan.firewall_rules},
                                      {"steps", steps}};
  return doc.dump(2) + "\n";
}

std::string to_text(const NetworkPlan& plan) {
  std::string out = fmt::format("network plan ({}, {}):\n", plan.host_os, to_string(plan.mode));
  if (plan.steps.empty()) out += "  nothing to wire: the container uses the host's network stack\n";
  for (std::size_t i = 0; i < plan.steps.size(); ++i)
    out += fmt::format("  {:2}. {:<14} {}\n", i + 1, plan.steps[i].action, plan.steps[i].detail);
  if (!plan.firewall_anchor.empty())
    out += fmt::format("firewall rules ({}):\n{}", plan.firewall_anchor, plan.firewall_rules);
  return out;
}

}  // namespace v0
}  // namespace knast
