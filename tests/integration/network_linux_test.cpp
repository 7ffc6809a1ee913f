// The Linux network executor (lib/platform/linux/network_linux.cpp) against the real
// kernel: bridges, veth pairs into another process's network namespace, addresses,
// routes, nftables tables. Every test runs in a network namespace of its own
// (netns_test_support.hpp) and checks the result with iproute2 and nft, the tools an
// administrator would use.
#include "netns_test_support.hpp"

#include "platform/network.hpp"

#include <knast/error.hpp>
#include <knast/network.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <string>

namespace {

using knast::Endpoint;
using knast::Error;
using knast::ErrorCode;
using knast::NetworkConfig;
using netns_test::in_fresh_network_namespace;
using netns_test::NamespaceHolder;

constexpr const char* network_id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

NetworkConfig bridge_network() {
  NetworkConfig network;
  network.name = "testnet";
  network.id = network_id;
  network.subnet = "10.89.7.0/24";
  network.gateway = "10.89.7.1";
  network.bridge = "kn-0123456789ab";
  return network;
}

Endpoint endpoint_for(const std::string& container_id, const std::string& address) {
  Endpoint endpoint;
  endpoint.container_id = container_id;
  endpoint.network = "testnet";
  endpoint.address = address;
  endpoint.prefix_length = 24;
  endpoint.gateway = "10.89.7.1";
  endpoint.host_interface = "kv" + container_id.substr(0, 12);
  return endpoint;
}

// `ip -j ARGS` (run by @p holder inside its namespace, or here) as JSON.
nlohmann::json ip_json(const std::string& args, const NamespaceHolder* holder = nullptr) {
  std::string output;
  const std::string command = "ip -j " + args;
  const int status = holder ? holder->run(command, &output) : store_test::run(command, &output);
  if (status != 0) throw std::runtime_error(command + " failed: " + output);
  return nlohmann::json::parse(output);
}

// The names of the links `ip -j link` lists.
std::vector<std::string> link_names(const NamespaceHolder* holder = nullptr) {
  std::vector<std::string> names;
  for (const auto& link : ip_json("link", holder)) names.push_back(link.at("ifname").get<std::string>());
  std::sort(names.begin(), names.end());
  return names;
}

bool has_flag(const nlohmann::json& link, const std::string& flag) {
  for (const auto& f : link.at("flags"))
    if (f == flag) return true;
  return false;
}

// The IPv4 addresses of @p interface as "a.b.c.d/n".
std::vector<std::string> addresses_of(const std::string& interface, const NamespaceHolder* holder = nullptr) {
  std::vector<std::string> out;
  for (const auto& link : ip_json("addr show dev " + interface, holder))
    for (const auto& a : link.at("addr_info"))
      if (a.at("family") == "inet")
        out.push_back(a.at("local").get<std::string>() + "/" + std::to_string(a.at("prefixlen").get<int>()));
  return out;
}

std::string nft_tables() {
  std::string output;
  EXPECT_EQ(store_test::run("nft list tables", &output), 0) << output;
  return output;
}

class NetworkLinux : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const auto why = netns_test::namespaces_unavailable(); !why.empty()) GTEST_SKIP() << why;
  }
};

TEST_F(NetworkLinux, BridgeIsMadeWithTheGatewayAndIsIdempotent) {
  in_fresh_network_namespace([] {
    const auto network = bridge_network();
    knast::platform::ensure_bridge(network);
    knast::platform::ensure_bridge(network);  // again, as after a restart: no error, no second address
    const auto link = ip_json("link show dev " + network.bridge).at(0);
    EXPECT_TRUE(has_flag(link, "UP")) << link.dump();
    EXPECT_EQ(link.at("link_type"), "ether");
    EXPECT_EQ(addresses_of(network.bridge), std::vector<std::string>{"10.89.7.1/24"});
    std::ifstream forwarding("/proc/sys/net/ipv4/ip_forward");
    std::string value;
    forwarding >> value;
    EXPECT_EQ(value, "1");

    knast::platform::remove_bridge(network);
    knast::platform::remove_bridge(network);  // gone already: fine
    EXPECT_EQ(link_names(), std::vector<std::string>{"lo"});
  });
}

TEST_F(NetworkLinux, ConnectWiresAProcessNamespaceAndDisconnectUnwiresIt) {
  in_fresh_network_namespace([] {
    const auto network = bridge_network();
    knast::platform::ensure_bridge(network);
    NamespaceHolder container;
    const auto endpoint = endpoint_for("c0ffee00112233445566", "10.89.7.2");
    knast::platform::connect_endpoint(network, endpoint, {.container_id = endpoint.container_id,
                                                          .init_pid = container.pid()});

    // The host end: on the bridge, up. The peer never showed up here.
    const auto host_end = ip_json("link show dev kvc0ffee001122").at(0);
    EXPECT_TRUE(has_flag(host_end, "UP")) << host_end.dump();
    EXPECT_EQ(host_end.value("master", ""), network.bridge) << host_end.dump();
    EXPECT_EQ(link_names(), (std::vector<std::string>{network.bridge, "kvc0ffee001122", "lo"}));

    // Inside: eth0 with the address, up; lo up; the default route via the gateway.
    EXPECT_EQ(link_names(&container), (std::vector<std::string>{"eth0", "lo"}));
    const auto eth0 = ip_json("link show dev eth0", &container).at(0);
    EXPECT_TRUE(has_flag(eth0, "UP")) << eth0.dump();
    EXPECT_TRUE(has_flag(ip_json("link show dev lo", &container).at(0), "UP"));
    EXPECT_EQ(addresses_of("eth0", &container), std::vector<std::string>{"10.89.7.2/24"});
    const auto routes = ip_json("route show default", &container);
    ASSERT_EQ(routes.size(), 1u) << routes.dump();
    EXPECT_EQ(routes.at(0).at("gateway"), "10.89.7.1");
    EXPECT_EQ(routes.at(0).at("dev"), "eth0");
    // And it carries traffic: the container reaches the gateway on the bridge.
    std::string output;
    EXPECT_EQ(container.run("/bin/busybox ping -c 1 -W 2 10.89.7.1", &output), 0) << output;

    knast::platform::disconnect_endpoint(network, endpoint);
    EXPECT_EQ(link_names(), (std::vector<std::string>{network.bridge, "lo"}));
    EXPECT_EQ(link_names(&container), std::vector<std::string>{"lo"});  // the peer went with it
    knast::platform::disconnect_endpoint(network, endpoint);            // idempotent
  });
}

TEST_F(NetworkLinux, FailureInTheMiddleLeavesNoInterface) {
  in_fresh_network_namespace([] {
    const auto network = bridge_network();
    knast::platform::ensure_bridge(network);
    NamespaceHolder container;
    const knast::platform::NetworkTarget target{.container_id = "c1", .init_pid = container.pid()};

    // A gateway outside the container's subnet: the veth pair exists, the address is set,
    // then the kernel refuses the route.
    auto unreachable = endpoint_for("deadbeef00112233", "10.89.7.3");
    unreachable.gateway = "10.99.0.1";
    try {
      knast::platform::connect_endpoint(network, unreachable, target);
      ADD_FAILURE() << "a gateway outside the subnet was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("default route via 10.99.0.1"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("network testnet"), std::string::npos) << e.what();
    }
    EXPECT_EQ(link_names(), (std::vector<std::string>{network.bridge, "lo"}));
    EXPECT_EQ(link_names(&container), std::vector<std::string>{"lo"});

    // An address the kernel refuses (prefix length 33).
    auto bad_prefix = endpoint_for("deadbeef00112233", "10.89.7.3");
    bad_prefix.prefix_length = 33;
    EXPECT_THROW(knast::platform::connect_endpoint(network, bad_prefix, target), Error);
    EXPECT_EQ(link_names(), (std::vector<std::string>{network.bridge, "lo"}));
    EXPECT_EQ(link_names(&container), std::vector<std::string>{"lo"});

    // A container whose process is gone: refused before anything is made.
    const pid_t gone = container.pid();
    container.stop();
    try {
      knast::platform::connect_endpoint(network, endpoint_for("deadbeef00112233", "10.89.7.3"),
                                        {.container_id = "c1", .init_pid = gone});
      ADD_FAILURE() << "a gone process was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorCode::not_found) << e.what();
    }
    EXPECT_EQ(link_names(), (std::vector<std::string>{network.bridge, "lo"}));

    // A bridge that does not exist: nothing made either.
    NamespaceHolder other;
    auto no_bridge = network;
    no_bridge.bridge = "kn-nosuchbridg";
    EXPECT_THROW(knast::platform::connect_endpoint(no_bridge, endpoint_for("deadbeef00112233", "10.89.7.3"),
                                                   {.container_id = "c1", .init_pid = other.pid()}),
                 Error);
    EXPECT_EQ(link_names(), (std::vector<std::string>{network.bridge, "lo"}));
    EXPECT_EQ(link_names(&other), std::vector<std::string>{"lo"});
  });
}

TEST_F(NetworkLinux, SharedDriverIsRefused) {
  auto network = bridge_network();
  network.driver = knast::NetworkMode::shared;
  try {
    knast::platform::connect_endpoint(network, endpoint_for("c2", "10.89.7.4"), {.container_id = "c2", .init_pid = 1});
    ADD_FAILURE() << "the shared driver was accepted on Linux";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("FreeBSD only"), std::string::npos) << e.what();
  }
}

TEST_F(NetworkLinux, EndpointWithoutHostInterfaceIsRefusedBeforeAnythingIsMade) {
  auto endpoint = endpoint_for("c3", "10.89.7.5");
  endpoint.host_interface.clear();
  try {
    knast::platform::connect_endpoint(bridge_network(), endpoint, {.container_id = "c3", .init_pid = 1});
    ADD_FAILURE() << "an endpoint without a host interface was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << e.what();
  }
}

TEST_F(NetworkLinux, FirewallTableIsLoadedReplacedAndRemoved) {
  if (store_test::run("nft --version") != 0) GTEST_SKIP() << "the nft command (Debian: nftables) checks the result";
  in_fresh_network_namespace([] {
    const std::string anchor = "ip knast_0123456789ab";
    const std::string table =
        "table ip knast_0123456789ab {\n"
        "  chain postrouting {\n"
        "    type nat hook postrouting priority srcnat; policy accept;\n"
        "    ip saddr 10.89.7.0/24 oifname != \"kn-0123456789ab\" masquerade\n"
        "  }\n"
        "}\n";
    // The shape detail::firewall_rules() renders: declare, delete, make — one transaction.
    const std::string rules = "table " + anchor + " {}\ndelete table " + anchor + "\n" + table;
    knast::platform::apply_firewall(anchor, rules);
    knast::platform::apply_firewall(anchor, rules);  // replaced, not doubled
    EXPECT_EQ(nft_tables(), "table ip knast_0123456789ab\n");
    std::string ruleset;
    ASSERT_EQ(store_test::run("nft list table " + anchor, &ruleset), 0) << ruleset;
    EXPECT_NE(ruleset.find("masquerade"), std::string::npos) << ruleset;
    EXPECT_EQ(ruleset.find("masquerade"), ruleset.rfind("masquerade")) << ruleset;

    knast::platform::apply_firewall(anchor, "");
    EXPECT_EQ(nft_tables(), "");
    knast::platform::apply_firewall(anchor, "");  // gone already: fine
    EXPECT_EQ(nft_tables(), "");
  });
}

TEST_F(NetworkLinux, BadFirewallScriptGivesNftsMessageAndChangesNothing) {
  in_fresh_network_namespace([] {
    const std::string anchor = "ip knast_0123456789ab";
    try {
      knast::platform::apply_firewall(anchor, "table ip knast_0123456789ab {}\nadd chain ip knast_0123456789ab c { bogus }\n");
      ADD_FAILURE() << "a bad script was accepted";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_EQ(e.kind(), ErrorCode::io);
      EXPECT_NE(message.find("load the firewall table ip knast_0123456789ab"), std::string::npos) << message;
      EXPECT_NE(message.find("Error: syntax error"), std::string::npos) << message;  // nft's own words
    }
    // One transaction: the table of the first line was not made either.
    if (store_test::run("nft --version") == 0) {
      EXPECT_EQ(nft_tables(), "");
    }
    // A table name that could smuggle commands in is refused before nft sees it.
    EXPECT_THROW(knast::platform::apply_firewall("ip x; flush ruleset", ""), Error);
  });
}

}  // namespace
