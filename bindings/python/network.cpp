// Python bindings of networks: knast.Network (create/open/list/default, config,
// endpoints, remove), NetworkConfig, Endpoint, PortMapping, parse_port_mappings,
// find_endpoint, and the network plan (plan_network → NetworkPlan). Everything that
// changes the host runs without the GIL.
#include "bindings.hpp"

#include <knast/error.hpp>
#include <knast/network.hpp>

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

namespace py = pybind11;

namespace knast::python {
namespace {

using release_gil = py::call_guard<py::gil_scoped_release>;

NetworkMode mode_of(const std::string& name) {
  for (const auto mode : {NetworkMode::none, NetworkMode::host, NetworkMode::shared, NetworkMode::bridge})
    if (to_string(mode) == name) return mode;
  throw Error(ErrorCode::invalid_argument, "unknown network mode \"" + name + "\": use none, host, shared or bridge");
}

void bind_values(py::module_& m) {
  py::class_<PortMapping>(m, "PortMapping", "One published port: host [ip:]port → container port, tcp or udp.")
      .def(py::init<>())
      .def_readwrite("host_ip", &PortMapping::host_ip)
      .def_readwrite("host_port", &PortMapping::host_port)
      .def_readwrite("container_port", &PortMapping::container_port)
      .def_readwrite("protocol", &PortMapping::protocol)
      .def("to_json", [](const PortMapping& p) { return to_json(p); })
      .def("__eq__", [](const PortMapping& a, const PortMapping& b) { return a == b; })
      .def("__str__", [](const PortMapping& p) { return to_string(p); })
      .def("__repr__", [](const PortMapping& p) { return "knast.PortMapping('" + to_string(p) + "')"; });
  m.def("parse_port_mappings", &parse_port_mappings, py::arg("text"),
        "Parses one `-p` value, \"[[hostip:]hostport:]containerport[/tcp|udp]\" (ranges expand), into "
        "PortMappings; host_port 0 (none given) means any free port, chosen when the container joins.");

  py::class_<NetworkConfig>(m, "NetworkConfig", "A named network, as network.json records it.")
      .def_readonly("name", &NetworkConfig::name)
      .def_readonly("id", &NetworkConfig::id)
      .def_property_readonly("driver", [](const NetworkConfig& c) { return std::string(to_string(c.driver)); })
      .def_readonly("subnet", &NetworkConfig::subnet)
      .def_readonly("gateway", &NetworkConfig::gateway)
      .def_readonly("bridge", &NetworkConfig::bridge)
      .def_readonly("parent_interface", &NetworkConfig::parent_interface)
      .def_readonly("nat", &NetworkConfig::nat)
      .def_readonly("created_at", &NetworkConfig::created_at)
      .def("to_json", [](const NetworkConfig& c) { return to_json(c); })
      .def("__eq__", [](const NetworkConfig& a, const NetworkConfig& b) { return a == b; })
      .def("__repr__", [](const NetworkConfig& c) { return "knast.NetworkConfig('" + c.name + "', '" + c.subnet + "')"; });

  py::class_<Endpoint>(m, "Endpoint", "One container on a network: its address, interfaces and published ports.")
      .def_readonly("container_id", &Endpoint::container_id)
      .def_readonly("container_name", &Endpoint::container_name)
      .def_readonly("hostname", &Endpoint::hostname)
      .def_readonly("network", &Endpoint::network)
      .def_readonly("address", &Endpoint::address)
      .def_readonly("prefix_length", &Endpoint::prefix_length)
      .def_readonly("gateway", &Endpoint::gateway)
      .def_readonly("host_interface", &Endpoint::host_interface)
      .def_readonly("container_interface", &Endpoint::container_interface)
      .def_readonly("ports", &Endpoint::ports)
      .def("to_json", [](const Endpoint& e) { return to_json(e); })
      .def("__eq__", [](const Endpoint& a, const Endpoint& b) { return a == b; })
      .def("__repr__", [](const Endpoint& e) { return "knast.Endpoint('" + e.network + "', '" + e.address + "')"; });
}

void bind_network(py::module_& m) {
  py::class_<Network>(m, "Network", "A named network of a state root (creating and removing one needs root).")
      .def_static(
          "create",
          [](const std::filesystem::path& state_root, const std::string& name, const std::string& driver,
             const std::string& subnet, const std::string& gateway, const std::string& parent_interface, bool nat) {
            NetworkCreateOptions o;
            o.state_root = state_root;
            o.name = name;
            o.driver = mode_of(driver);
            o.subnet = subnet;
            o.gateway = gateway;
            o.parent_interface = parent_interface;
            o.nat = nat;
            py::gil_scoped_release release;
            return Network::create(o);
          },
          py::arg("state_root"), py::arg("name"), py::kw_only(), py::arg("driver") = "bridge", py::arg("subnet") = "",
          py::arg("gateway") = "", py::arg("parent_interface") = "", py::arg("nat") = true,
          "Creates a network: its record and, for a bridge, the bridge interface, forwarding and NAT rules. "
          "subnet \"\": a free 10.89.N.0/24.")
      .def_static("open", &Network::open, py::arg("state_root"), py::arg("name_or_id"), release_gil(),
                  "The network `name_or_id`; NotFoundError otherwise.")
      .def_static("list", &Network::list, py::arg("state_root"), release_gil(),
                  "Every network of `state_root` (NetworkConfig objects), by name.")
      .def_static("default_network", &Network::default_network, py::arg("state_root"), release_gil(),
                  "The default network \"knast\" (a bridge on 10.88.0.0/16), created on first use.")
      .def_property_readonly("config", &Network::config)
      .def_property_readonly("name", [](const Network& n) { return n.config().name; })
      .def("endpoints", &Network::endpoints, release_gil(), "The containers on it now (Endpoint objects).")
      .def("remove", &Network::remove, release_gil(),
           "Deletes the network (bridge, firewall rules, record); InvalidArgumentError while containers are on it.")
      .def("__repr__", [](const Network& n) { return "knast.Network('" + n.config().name + "')"; });
  m.def("find_endpoint", &find_endpoint, py::arg("state_root"), py::arg("container_id"), release_gil(),
        "The Endpoint of container `container_id`, or None when it is on no network.");
}

void bind_plan(py::module_& m) {
  py::class_<NetworkPlan>(m, "NetworkPlan", "Wiring one container to its network, as plain data.")
      .def_readonly("host_os", &NetworkPlan::host_os)
      .def_property_readonly("mode", [](const NetworkPlan& p) { return std::string(to_string(p.mode)); })
      .def_readonly("firewall_anchor", &NetworkPlan::firewall_anchor)
      .def_readonly("firewall_rules", &NetworkPlan::firewall_rules)
      .def_readonly("steps", &NetworkPlan::steps)
      .def("to_json", [](const NetworkPlan& p) { return to_json(p); }, "The plan as JSON (fixed key order).")
      .def("to_text", [](const NetworkPlan& p) { return to_text(p); }, "What `--dry-run` prints.")
      .def("__eq__", [](const NetworkPlan& a, const NetworkPlan& b) { return a == b; });
  m.def(
      "plan_network",
      [](const std::string& host_os, const std::string& mode, const std::optional<NetworkConfig>& network,
         const std::optional<Endpoint>& endpoint, const std::vector<Endpoint>& others, const std::string& container_id) {
        NetworkPlanRequest r;
        r.host_os = host_os;
        r.mode = mode_of(mode);
        if (network) r.network = *network;
        if (endpoint) r.endpoint = *endpoint;
        if (!container_id.empty()) r.endpoint.container_id = container_id;
        r.others = others;
        return plan_network(r);
      },
      py::arg("host_os"), py::arg("mode"), py::kw_only(), py::arg("network") = py::none(),
      py::arg("endpoint") = py::none(), py::arg("others") = std::vector<Endpoint>{}, py::arg("container_id") = "",
      "The plan for wiring a container (mode \"none\", \"host\", \"shared\" or \"bridge\") on a \"linux\" or "
      "\"freebsd\" host; `container_id` names the jail of a \"none\" plan (else the endpoint's). Pure.");
  m.attr("PF_CONF_LINES") = std::string(pf_conf_lines);
}

}  // namespace

void bind_networks(py::module_& m) {
  bind_values(m);
  bind_network(m);
  bind_plan(m);
}

}  // namespace knast::python
