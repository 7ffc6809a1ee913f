// The network plan (what --dry-run prints and the executors carry out): golden files for
// each FreeBSD mode (none, host, shared, bridge with two endpoints and ports) and the
// Linux bridge, and the requests it refuses. Regenerate after an intended change with
// KNAST_UPDATE_GOLDEN=1 knast_unit_tests --gtest_filter='NetworkPlan*', then review the diff.
#include "golden.hpp"

#include <knast/error.hpp>
#include <knast/network.hpp>

#include <gtest/gtest.h>

namespace knast {
namespace {

const std::string testdata_dir = std::string(KNAST_TESTDATA_DIR);
const std::string web_id = "4f1c2a9b7e3d5f60a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718";
const std::string db_id = "9a8b7c6d5e4f30211a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081";

void expect_golden(const std::string& name, const NetworkPlan& plan) {
  golden_test::expect_golden_file(testdata_dir + "/network/" + name, to_json(plan));
}

NetworkConfig bridge_network() {
  NetworkConfig n;
  n.name = "web";
  n.id = "c0ffee0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
  n.driver = NetworkMode::bridge;
  n.subnet = "10.89.0.0/24";
  n.gateway = "10.89.0.1";
  n.bridge = "kn-c0ffee012345";
  n.parent_interface = "em0";
  n.created_at = "2026-12-06T11:40:00Z";
  return n;
}

Endpoint endpoint_on(const NetworkConfig& n, const std::string& id, const std::string& address,
                     std::vector<PortMapping> ports) {
  Endpoint e;
  e.container_id = id;
  e.container_name = id == web_id ? "web" : "db";
  e.hostname = e.container_name;
  e.network = n.name;
  e.address = address;
  e.prefix_length = 24;
  e.gateway = n.gateway;
  e.host_interface = "kv" + id.substr(0, 12);
  e.ports = std::move(ports);
  return e;
}

NetworkPlanRequest bridge_request(const std::string& os) {
  NetworkPlanRequest r;
  r.host_os = os;
  r.mode = NetworkMode::bridge;
  r.network = bridge_network();
  if (os == "linux") r.network.parent_interface.clear();
  r.endpoint = endpoint_on(r.network, web_id, "10.89.0.2", {{"", 8080, 80, "tcp"}, {"127.0.0.1", 8443, 443, "tcp"}});
  r.others = {endpoint_on(r.network, db_id, "10.89.0.3", {{"", 5353, 53, "udp"}})};
  return r;
}

TEST(NetworkPlan, FreeBsdNone) {
  NetworkPlanRequest r;
  r.host_os = "freebsd";
  r.mode = NetworkMode::none;
  r.endpoint.container_id = web_id;
  expect_golden("freebsd-none.json", plan_network(r));
}

TEST(NetworkPlan, FreeBsdHost) {
  NetworkPlanRequest r;
  r.host_os = "freebsd";
  r.mode = NetworkMode::host;
  const auto plan = plan_network(r);
  EXPECT_TRUE(plan.steps.empty());
  EXPECT_TRUE(plan.firewall_anchor.empty());
  expect_golden("freebsd-host.json", plan);
}

TEST(NetworkPlan, FreeBsdShared) {
  NetworkPlanRequest r;
  r.host_os = "freebsd";
  r.mode = NetworkMode::shared;
  r.network = bridge_network();
  r.network.name = "lan";
  r.network.driver = NetworkMode::shared;
  r.network.subnet = "192.168.1.0/24";
  r.network.gateway = "192.168.1.254";
  r.network.bridge.clear();
  r.network.nat = false;
  r.endpoint = endpoint_on(r.network, web_id, "192.168.1.20", {});
  r.endpoint.gateway.clear();
  r.endpoint.host_interface.clear();
  r.endpoint.container_interface.clear();
  const auto plan = plan_network(r);
  EXPECT_TRUE(plan.firewall_anchor.empty());
  expect_golden("freebsd-shared.json", plan);
}

TEST(NetworkPlan, FreeBsdBridge) {
  const auto plan = plan_network(bridge_request("freebsd"));
  EXPECT_EQ(plan.firewall_anchor, "knast/web");
  // Every endpoint's ports are in the anchor, not just the new container's.
  EXPECT_NE(plan.firewall_rules.find("-> 10.89.0.3 port 53"), std::string::npos) << plan.firewall_rules;
  expect_golden("freebsd-bridge.json", plan);
}

TEST(NetworkPlan, LinuxBridge) {
  const auto plan = plan_network(bridge_request("linux"));
  EXPECT_EQ(plan.firewall_anchor, "ip knast_c0ffee012345");
  expect_golden("linux-bridge.json", plan);
}

TEST(NetworkPlan, TextShowsStepsThenRules) {
  const auto plan = plan_network(bridge_request("freebsd"));
  const std::string text = to_text(plan);
  EXPECT_NE(text.find("SIOCIFCREATE2 epair"), std::string::npos) << text;
  EXPECT_LT(text.find("load-firewall"), text.find("firewall rules (knast/web):"));
  EXPECT_NE(text.find(plan.firewall_rules), std::string::npos);
}

TEST(NetworkPlan, Refuses) {
  const auto refused = [](const NetworkPlanRequest& r) {
    try {
      plan_network(r);
    } catch (const Error& e) {
      return e.kind() == ErrorCode::invalid_argument;
    }
    return false;
  };
  auto shared_on_linux = bridge_request("linux");
  shared_on_linux.mode = NetworkMode::shared;
  shared_on_linux.network.driver = NetworkMode::shared;
  EXPECT_TRUE(refused(shared_on_linux));
  auto elsewhere = bridge_request("freebsd");
  elsewhere.endpoint.network = "other";
  EXPECT_TRUE(refused(elsewhere));
  auto mismatch = bridge_request("freebsd");
  mismatch.mode = NetworkMode::shared;
  EXPECT_TRUE(refused(mismatch));
  auto other_os = bridge_request("freebsd");
  other_os.host_os = "darwin";
  EXPECT_TRUE(refused(other_os));
  auto no_parent = bridge_request("freebsd");
  no_parent.network.parent_interface.clear();
  EXPECT_TRUE(refused(no_parent));
}

}  // namespace
}  // namespace knast
