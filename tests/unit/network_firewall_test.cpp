// The firewall rules of a bridge network: the nft script's shape, and the script checked
// and loaded by nft itself — only inside a network namespace this test makes (unshare -n),
// never in the machine's own ruleset. Skipped without nft or root.
#include "network/network_state.hpp"

#include <knast/network.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace knast {
namespace {

NetworkConfig network(bool nat) {
  NetworkConfig n;
  n.name = "web";
  n.id = "c0ffee0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
  n.subnet = "10.89.0.0/24";
  n.gateway = "10.89.0.1";
  n.bridge = "kn-c0ffee012345";
  n.nat = nat;
  return n;
}

std::vector<Endpoint> endpoints() {
  Endpoint a;
  a.address = "10.89.0.2";
  a.ports = {{"", 8080, 80, "tcp"}, {"127.0.0.1", 5353, 53, "udp"}};
  Endpoint b;
  b.address = "10.89.0.3";
  return {a, b};
}

TEST(NetworkFirewall, NftScriptShape) {
  const auto rules = detail::firewall_rules("linux", network(true), endpoints());
  EXPECT_EQ(rules.anchor, "ip knast_c0ffee012345");
  const std::string& s = rules.rules;
  EXPECT_NE(s.find("table ip knast_c0ffee012345 {}\ndelete table ip knast_c0ffee012345\n"), std::string::npos);
  EXPECT_NE(s.find("ip saddr 10.89.0.0/24 ip daddr != 10.89.0.0/24 masquerade"), std::string::npos) << s;
  EXPECT_NE(s.find("fib daddr type local tcp dport 8080 dnat to 10.89.0.2:80"), std::string::npos) << s;
  EXPECT_NE(s.find("ip daddr 127.0.0.1 udp dport 5353 dnat to 10.89.0.2:53"), std::string::npos) << s;
  const auto no_nat = detail::firewall_rules("linux", network(false), {}).rules;
  EXPECT_EQ(no_nat.find("masquerade"), std::string::npos) << no_nat;
  EXPECT_EQ(no_nat.find("chain"), std::string::npos) << no_nat;
}

int run(const std::string& command) { return std::system(command.c_str()); }

class NftInNamespace : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network namespace";
    if (run("command -v nft >/dev/null 2>&1") != 0) GTEST_SKIP() << "nft is not installed (apt-get install nftables)";
    if (run("unshare -n true") != 0) GTEST_SKIP() << "unshare -n does not work here";
    char name[] = "/tmp/knast-nft-XXXXXX";
    const int fd = ::mkstemp(name);
    ASSERT_GE(fd, 0);
    ::close(fd);
    file_ = name;
  }
  void TearDown() override {
    if (!file_.empty()) std::filesystem::remove(file_);
  }
  void write(const std::string& text) { std::ofstream(file_) << text; }
  std::string file_;
};

TEST_F(NftInNamespace, ScriptLoadsReplacesAndIsRemoved) {
  const auto rules = detail::firewall_rules("linux", network(true), endpoints());
  write(rules.rules);
  EXPECT_EQ(run("unshare -n nft -c -f " + file_), 0) << rules.rules;
  // Loaded twice (the second replaces the first: 2 ports x prerouting and output = 4 dnat
  // rules, not 8), then removed with the executor's script, twice (idempotent):
  // afterwards no table is left in the namespace.
  const std::string removal = "table " + rules.anchor + " {}\ndelete table " + rules.anchor + "\n";
  std::ofstream(file_ + ".rm") << removal;
  const std::string script = "set -e; nft -f " + file_ + "; nft -f " + file_ + "; test \"$(nft list table " +
                             rules.anchor + " | grep -c \"dnat to\")\" = 4; nft -f " + file_ + ".rm; nft -f " + file_ +
                             ".rm; test -z \"$(nft list tables)\"";
  EXPECT_EQ(run("unshare -n sh -c '" + script + "'"), 0) << script;
  std::filesystem::remove(file_ + ".rm");
}

TEST_F(NftInNamespace, ScriptWithoutNatOrPortsLoads) {
  write(detail::firewall_rules("linux", network(false), {}).rules);
  EXPECT_EQ(run("unshare -n nft -c -f " + file_), 0);
  write(detail::firewall_rules("linux", network(false), endpoints()).rules);
  EXPECT_EQ(run("unshare -n nft -c -f " + file_), 0);
}

}  // namespace
}  // namespace knast
