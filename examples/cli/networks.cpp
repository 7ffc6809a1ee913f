// Network commands: network create|ls|inspect|rm, port; and what `run --network NAME -p`
// asks of Jail::create().
#include "cli.hpp"

#include <knast/error.hpp>
#include <knast/jail.hpp>
#include <knast/network.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <memory>

namespace knast::cli {

std::vector<PortMapping> ports_to_publish(const std::vector<std::string>& publish, bool publish_all,
                                          const ImageConfig& image) {
  std::vector<PortMapping> ports;
  for (const auto& text : publish)
    for (auto& mapping : parse_port_mappings(text)) ports.push_back(std::move(mapping));
  if (!publish_all) return ports;
  const auto named = [&ports](const PortMapping& m) {
    return std::any_of(ports.begin(), ports.end(), [&m](const PortMapping& p) {
      return p.container_port == m.container_port && p.protocol == m.protocol;
    });
  };
  std::vector<PortMapping> exposed;
  for (const auto& key : image.config.exposed_ports)  // "80/tcp", "53/udp", "8000-8001/tcp"
    for (auto& mapping : parse_port_mappings(key))
      if (!named(mapping)) exposed.push_back(std::move(mapping));
  ports.insert(ports.end(), exposed.begin(), exposed.end());
  return ports;
}

ContainerNetwork container_network(const Globals& globals, const std::string& mode, std::vector<PortMapping> ports,
                                   const std::vector<std::string>& dns) {
  ContainerNetwork network;
  network.ports = std::move(ports);
  network.dns = dns;
  if (mode == "none" || mode == "host") {
    if (!network.ports.empty())
      throw Error(ErrorCode::invalid_argument, "-p publishes ports of a bridge network, not with --network " + mode);
    return network;
  }
  // docker's default network is called "bridge"; knast's is "knast".
  network.network = mode.empty() || mode == "bridge" ? Network::default_network(globals.state_root()).config().name : mode;
  return network;
}

namespace {

struct CreateFlags {
  std::string name;
  std::string driver = "bridge";
  std::string subnet;
  std::string gateway;
  std::string parent;
  bool no_nat = false;
};

void add_network_create(CLI::App* network, const Globals& globals) {
  auto f = std::make_shared<CreateFlags>();
  auto* cmd = network->add_subcommand("create", "Create a network");
  cmd->add_option("NAME", f->name, "The network's name")->required();
  cmd->add_option("-d,--driver", f->driver, "bridge (default) or shared (FreeBSD: address aliases on a host interface)")
      ->check(CLI::IsMember({"bridge", "shared"}));
  cmd->add_option("--subnet", f->subnet, "IPv4 subnet in CIDR form (default: a free 10.89.N.0/24)");
  cmd->add_option("--gateway", f->gateway, "Gateway address (default: the subnet's first)");
  cmd->add_option("--parent", f->parent,
                  "shared: the host interface for the addresses; bridge on FreeBSD: the interface NAT leaves by");
  cmd->add_flag("--no-nat", f->no_nat, "No outbound NAT for a bridge network");
  cmd->callback([&globals, f] {
    NetworkCreateOptions options;
    options.state_root = globals.state_root();
    options.name = f->name;
    options.driver = f->driver == "shared" ? NetworkMode::shared : NetworkMode::bridge;
    options.subnet = f->subnet;
    options.gateway = f->gateway;
    options.parent_interface = f->parent;
    options.nat = !f->no_nat;
    std::cout << Network::create(options).config().id << '\n';
  });
}

void add_network_ls(CLI::App* network, const Globals& globals) {
  auto quiet = std::make_shared<bool>(false);
  auto* cmd = network->add_subcommand("ls", "List networks");
  cmd->alias("list");
  cmd->add_flag("-q,--quiet", *quiet, "Only names");
  cmd->callback([&globals, quiet] {
    const auto networks = Network::list(globals.state_root());
    if (!*quiet) std::cout << fmt::format("{:<12}  {:<20}  {:<8}  {:<18}  {}\n", "NETWORK ID", "NAME", "DRIVER", "SUBNET", "INTERFACE");
    for (const auto& n : networks) {
      if (*quiet) {
        std::cout << n.name << '\n';
        continue;
      }
      const std::string& interface = n.driver == NetworkMode::bridge ? n.bridge : n.parent_interface;
      std::cout << fmt::format("{:<12}  {:<20}  {:<8}  {:<18}  {}\n", n.id.substr(0, 12), n.name, to_string(n.driver),
                               n.subnet, interface);
    }
  });
}

// A network as JSON: its config and the containers on it.
std::string inspect_json(const Network& network) {
  std::string endpoints;
  for (const auto& e : network.endpoints()) endpoints += (endpoints.empty() ? "" : ", ") + to_json(e);
  return fmt::format("{{\"network\": {}, \"endpoints\": [{}]}}", to_json(network.config()), endpoints);
}

void add_network_inspect_rm(CLI::App* network, const Globals& globals) {
  auto names = std::make_shared<std::vector<std::string>>();
  auto* inspect = network->add_subcommand("inspect", "Show networks and the containers on them as JSON");
  inspect->add_option("NETWORK", *names, "Name or id")->required();
  inspect->callback([&globals, names] {
    for (const auto& name : *names) std::cout << inspect_json(Network::open(globals.state_root(), name)) << '\n';
  });
  auto rm_names = std::make_shared<std::vector<std::string>>();
  auto* rm = network->add_subcommand("rm", "Remove networks (their bridge and firewall rules)");
  rm->add_option("NETWORK", *rm_names, "Name or id")->required();
  rm->callback([&globals, rm_names] {
    for (const auto& name : *rm_names) {
      Network::open(globals.state_root(), name).remove();
      std::cout << name << '\n';
    }
  });
}

void add_port(CLI::App& app, const Globals& globals) {
  auto name = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("port", "List a container's published ports");
  cmd->add_option("CONTAINER", *name, "Id, id prefix or name")->required();
  cmd->callback([&globals, name] {
    const Jail jail = Jail::open(globals.state_root(), *name);
    if (const auto endpoint = find_endpoint(globals.state_root(), jail.id()))
      for (const auto& mapping : endpoint->ports) std::cout << to_string(mapping) << '\n';
  });
}

}  // namespace

void add_network_commands(CLI::App& app, const Globals& globals) {
  auto* network = app.add_subcommand("network", "Manage networks");
  network->require_subcommand(1);
  add_network_create(network, globals);
  add_network_ls(network, globals);
  add_network_inspect_rm(network, globals);
  add_port(app, globals);
}

}  // namespace knast::cli
