// Published ports: docker's -p forms that parse (and what they expand to) and those refused.
#include <knast/error.hpp>
#include <knast/network.hpp>

#include <gtest/gtest.h>

namespace knast {
namespace {

TEST(NetworkPorts, ParsesDockerForms) {
  struct Case {
    const char* text;
    std::vector<PortMapping> expected;
  };
  const Case cases[] = {
      {"8080:80", {{"", 8080, 80, "tcp"}}},
      {"127.0.0.1:8080:80", {{"127.0.0.1", 8080, 80, "tcp"}}},
      {"8080:80/udp", {{"", 8080, 80, "udp"}}},
      {"8080:80/tcp", {{"", 8080, 80, "tcp"}}},
      {"0.0.0.0:1:65535", {{"", 1, 65535, "tcp"}}},
      {"8080-8081:80-81", {{"", 8080, 80, "tcp"}, {"", 8081, 81, "tcp"}}},
      {"10.0.0.1:5000-5002:6000-6002/udp",
       {{"10.0.0.1", 5000, 6000, "udp"}, {"10.0.0.1", 5001, 6001, "udp"}, {"10.0.0.1", 5002, 6002, "udp"}}},
      // No host port: any free one, chosen at join (0 until then).
      {"80", {{"", 0, 80, "tcp"}}},
      {"80/udp", {{"", 0, 80, "udp"}}},
      {":80", {{"", 0, 80, "tcp"}}},
      {"127.0.0.1::80", {{"127.0.0.1", 0, 80, "tcp"}}},
      {"80-81", {{"", 0, 80, "tcp"}, {"", 0, 81, "tcp"}}},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_port_mappings(c.text), c.expected) << c.text;
}

TEST(NetworkPorts, RefusesWithTheValueNamed) {
  for (const char* text : {"0", "/tcp", "0:80", "8080:0", "65536:80", "8080:65536",
                           "8080:80/sctp", "8080:80/", "[::1]:8080:80", "::1:8080:80", "fe80::1:8080:80",
                           "1.2.3:8080:80", "x:8080:80", "8080:80:70:60", "8080-8082:80-81", "8081-8080:81-80",
                           "80a:80", "+80:80", " 80:80", "8080:", "", "8080:80/tcp/udp", "-1:80"}) {
    try {
      parse_port_mappings(text);
      ADD_FAILURE() << "accepted " << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << text;
      EXPECT_NE(std::string(e.what()).find("port mapping \"" + std::string(text) + "\""), std::string::npos)
          << e.what();
    }
  }
}

TEST(NetworkPorts, PrintsAsDockerPort) {
  EXPECT_EQ(to_string(PortMapping{"", 8080, 80, "tcp"}), "80/tcp -> 0.0.0.0:8080");
  EXPECT_EQ(to_string(PortMapping{"127.0.0.1", 53, 5353, "udp"}), "5353/udp -> 127.0.0.1:53");
}

TEST(NetworkPorts, Json) {
  EXPECT_EQ(to_json(PortMapping{"127.0.0.1", 8080, 80, "udp"}),
            "{\n  \"host_ip\": \"127.0.0.1\",\n  \"host_port\": 8080,\n  \"container_port\": 80,\n"
            "  \"protocol\": \"udp\"\n}\n");
}

TEST(NetworkPorts, ModeNames) {
  EXPECT_EQ(to_string(NetworkMode::none), "none");
  EXPECT_EQ(to_string(NetworkMode::host), "host");
  EXPECT_EQ(to_string(NetworkMode::shared), "shared");
  EXPECT_EQ(to_string(NetworkMode::bridge), "bridge");
}

}  // namespace
}  // namespace knast
