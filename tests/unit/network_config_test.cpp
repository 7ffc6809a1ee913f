// Network values: names, subnet arithmetic, the allocator, and the JSON of network.json /
// endpoints.json (round trips, and strict refusal of anything knast would not write).
#include "error_kind.hpp"
#include "network/network_config.hpp"

#include <knast/error.hpp>
#include <knast/network.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>

namespace knast {
namespace {

using detail::Ipv4Subnet;
using detail::parse_subnet;

using test::kind_of;

TEST(NetworkConfigNames, GoodAndBad) {
  for (const std::string& good : std::vector<std::string>{"knast", "a", "my-net_1.2", std::string(64, 'x')})
    EXPECT_NO_THROW(detail::check_network_name(good)) << good;
  for (const std::string& bad : std::vector<std::string>{"", "-a", ".a", "_a", "a/b", "a b", "ä", std::string(65, 'x'), "..", "a:b", "network.lock"})
    EXPECT_EQ(kind_of([&] { detail::check_network_name(bad); }), ErrorCode::invalid_argument) << bad;
}

TEST(NetworkSubnet, ParsesAndComputes) {
  const Ipv4Subnet s = parse_subnet("10.88.0.0/16");
  EXPECT_EQ(s.to_string(), "10.88.0.0/16");
  EXPECT_EQ(detail::format_ipv4(s.mask()), "255.255.0.0");
  EXPECT_EQ(detail::format_ipv4(s.broadcast()), "10.88.255.255");
  EXPECT_EQ(detail::default_gateway(s), "10.88.0.1");
  EXPECT_TRUE(s.contains(*detail::parse_ipv4("10.88.200.3")));
  EXPECT_FALSE(s.contains(*detail::parse_ipv4("10.89.0.1")));
  EXPECT_EQ(parse_subnet("0.0.0.0/0").mask(), 0u);
  EXPECT_EQ(detail::format_ipv4(parse_subnet("192.168.1.7/32").broadcast()), "192.168.1.7");
}

TEST(NetworkSubnet, RefusesHostBitsAndMalformedText) {
  try {
    parse_subnet("10.1.2.3/24");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("10.1.2.0/24"), std::string::npos) << e.what();
  }
  for (const char* bad : {"10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0/8", "fd00::/64", "x/8",
                          "10.0.0.0/8x", "10.0.0.0/ 8"})
    EXPECT_EQ(kind_of([&] { parse_subnet(bad); }), ErrorCode::invalid_argument) << bad;
}

TEST(NetworkSubnet, Overlaps) {
  EXPECT_TRUE(parse_subnet("10.88.0.0/16").overlaps(parse_subnet("10.88.3.0/24")));
  EXPECT_TRUE(parse_subnet("10.88.3.0/24").overlaps(parse_subnet("10.88.0.0/16")));
  EXPECT_TRUE(parse_subnet("10.0.0.0/8").overlaps(parse_subnet("10.0.0.0/8")));
  EXPECT_FALSE(parse_subnet("10.88.0.0/16").overlaps(parse_subnet("10.89.0.0/24")));
  EXPECT_FALSE(parse_subnet("10.0.0.0/31").overlaps(parse_subnet("10.0.0.2/31")));
}

TEST(NetworkAllocator, LowestFreeSkippingNetworkGatewayAndBroadcast) {
  const auto s = parse_subnet("10.89.0.0/24");
  EXPECT_EQ(detail::allocate_address(s, "10.89.0.1", {}, "n"), "10.89.0.2");
  EXPECT_EQ(detail::allocate_address(s, "10.89.0.1", {"10.89.0.2", "10.89.0.4"}, "n"), "10.89.0.3");
  EXPECT_EQ(detail::allocate_address(s, "10.89.0.5", {}, "n"), "10.89.0.1");
  std::vector<std::string> used;
  for (int i = 2; i < 255; ++i) used.push_back("10.89.0." + std::to_string(i));
  EXPECT_EQ(kind_of([&] { detail::allocate_address(s, "10.89.0.1", used, "n"); }), ErrorCode::limit_exceeded);
  used.pop_back();
  EXPECT_EQ(detail::allocate_address(s, "10.89.0.1", used, "n"), "10.89.0.254");
}

TEST(NetworkAllocator, SmallSubnets) {
  // /30: .0 network, .1 gateway, .2 the one container, .3 broadcast.
  const auto s30 = parse_subnet("10.0.0.0/30");
  EXPECT_EQ(detail::allocate_address(s30, "10.0.0.1", {}, "n"), "10.0.0.2");
  EXPECT_EQ(kind_of([&] { detail::allocate_address(s30, "10.0.0.1", {"10.0.0.2"}, "n"); }),
            ErrorCode::limit_exceeded);
  // /31 and /32: nothing but network and broadcast addresses.
  EXPECT_EQ(kind_of([&] { detail::allocate_address(parse_subnet("10.0.0.0/31"), "", {}, "n"); }),
            ErrorCode::limit_exceeded);
  EXPECT_EQ(kind_of([&] { detail::allocate_address(parse_subnet("10.0.0.0/32"), "", {}, "n"); }),
            ErrorCode::limit_exceeded);
}

TEST(NetworkAllocator, PicksFreeSubnets) {
  EXPECT_EQ(detail::pick_free_subnet({}).to_string(), "10.89.0.0/24");
  EXPECT_EQ(detail::pick_free_subnet({parse_subnet("10.89.0.0/23"), parse_subnet("10.89.3.0/24")}).to_string(),
            "10.89.2.0/24");
  EXPECT_EQ(kind_of([&] { detail::pick_free_subnet({parse_subnet("10.89.0.0/16")}); }), ErrorCode::limit_exceeded);
}

NetworkConfig sample_config() {
  NetworkConfig c;
  c.name = "web";
  c.id = std::string(60, 'a') + "0123";
  c.driver = NetworkMode::bridge;
  c.subnet = "10.89.1.0/24";
  c.gateway = "10.89.1.1";
  c.bridge = "kn-aaaaaaaaaaaa";
  c.parent_interface = "em0";
  c.nat = false;
  c.created_at = "2026-12-06T11:40:00Z";
  return c;
}

Endpoint sample_endpoint() {
  Endpoint e;
  e.container_id = std::string(64, 'c');
  e.container_name = "db";
  e.hostname = "db.local";
  e.network = "web";
  e.address = "10.89.1.2";
  e.prefix_length = 24;
  e.gateway = "10.89.1.1";
  e.host_interface = "kvcccccccccccc";
  e.ports = {{"", 8080, 80, "tcp"}, {"127.0.0.1", 53, 53, "udp"}};
  return e;
}

TEST(NetworkJson, RoundTrips) {
  const auto c = sample_config();
  EXPECT_EQ(detail::network_config_from_json(to_json(c), "network.json"), c);
  const std::vector<Endpoint> endpoints = {sample_endpoint(), Endpoint{}};
  auto second = sample_endpoint();
  second.container_id = "d";
  second.ports.clear();
  second.container_interface.clear();
  EXPECT_EQ(detail::endpoints_from_json(detail::endpoints_to_json({sample_endpoint(), second}), "e"),
            (std::vector<Endpoint>{sample_endpoint(), second}));
  EXPECT_EQ(detail::endpoints_from_json("[]", "e"), std::vector<Endpoint>{});
}

TEST(NetworkJson, KeyOrderIsFixed) {
  const std::string json = to_json(sample_config());
  EXPECT_LT(json.find("\"name\""), json.find("\"id\""));
  EXPECT_LT(json.find("\"subnet\""), json.find("\"gateway\""));
  EXPECT_LT(json.find("\"nat\""), json.find("\"created_at\""));
}

void expect_refused_config(const std::string& text, const std::string& mention) {
  try {
    detail::network_config_from_json(text, "network.json");
    ADD_FAILURE() << "accepted " << text;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::io);
    EXPECT_NE(std::string(e.what()).find(mention), std::string::npos) << e.what();
  }
}

TEST(NetworkJson, StrictConfig) {
  const nlohmann::json good = nlohmann::json::parse(to_json(sample_config()));
  const auto with = [&](const char* key, nlohmann::json value) {
    auto copy = good;
    copy[key] = std::move(value);
    return copy.dump();
  };
  const auto without = [&](const char* key) {
    auto copy = good;
    copy.erase(key);
    return copy.dump();
  };
  expect_refused_config("{", "not valid JSON");
  expect_refused_config("[]", "not a JSON object");
  expect_refused_config(without("gateway"), "\"gateway\" is missing");
  expect_refused_config(with("extra", 1), "\"extra\" is not a field");
  expect_refused_config(with("nat", "yes"), "\"nat\" must be true or false");
  expect_refused_config(with("name", 5), "\"name\" must be a string");
  expect_refused_config(with("driver", "host"), "\"driver\"");
  expect_refused_config(with("name", "a/b"), "\"name\" is invalid");
  expect_refused_config(with("id", "abc"), "\"id\"");
  expect_refused_config(with("id", std::string(64, 'A')), "\"id\"");
  expect_refused_config(with("subnet", "10.89.1.5/24"), "\"subnet\" is invalid");
  expect_refused_config(with("gateway", "10.90.0.1"), "\"gateway\"");
}

void expect_refused_endpoints(const std::string& text, const std::string& mention) {
  try {
    detail::endpoints_from_json(text, "endpoints.json");
    ADD_FAILURE() << "accepted " << text;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::io);
    EXPECT_NE(std::string(e.what()).find(mention), std::string::npos) << e.what();
  }
}

TEST(NetworkJson, StrictEndpoints) {
  const nlohmann::json good = nlohmann::json::parse(to_json(sample_endpoint()));
  const auto with = [&](const char* key, nlohmann::json value) {
    auto copy = good;
    copy[key] = std::move(value);
    return nlohmann::json::array({copy}).dump();
  };
  const auto port_with = [&](const char* key, nlohmann::json value) {
    auto copy = good;
    copy["ports"][0][key] = std::move(value);
    return nlohmann::json::array({copy}).dump();
  };
  expect_refused_endpoints("{}", "not a JSON array");
  expect_refused_endpoints("[1]", "[0] is not a JSON object");
  expect_refused_endpoints(with("address", "10.89.1"), "\"address\"");
  expect_refused_endpoints(with("prefix_length", 33), "\"prefix_length\"");
  expect_refused_endpoints(with("prefix_length", 1.5), "\"prefix_length\" must be an integer");
  expect_refused_endpoints(with("container_id", ""), "\"container_id\" is empty");
  expect_refused_endpoints(with("ports", "8080:80"), "\"ports\" must be an array");
  expect_refused_endpoints(with("surprise", true), "\"surprise\" is not a field");
  expect_refused_endpoints(port_with("host_port", 0), "ports[0]: field \"host_port\" is outside");
  expect_refused_endpoints(port_with("container_port", 70000), "\"container_port\" is outside");
  expect_refused_endpoints(port_with("protocol", "sctp"), "\"protocol\"");
  expect_refused_endpoints(port_with("host_ip", "::1"), "\"host_ip\"");
}

}  // namespace
}  // namespace knast
