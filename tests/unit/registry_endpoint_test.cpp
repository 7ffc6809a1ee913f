// Where a registry is reached: Docker Hub's API host, plain-HTTP policy, mirrors, the
// names docker keys credentials with, and the API paths and token scopes.
#include "registry/endpoint.hpp"

#include <knast/digest.hpp>
#include <knast/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using knast::Digest;
using knast::Error;
using knast::ErrorCode;
using namespace knast::registry_detail;

TEST(Endpoint, ApiHost) {
  EXPECT_EQ(api_host("docker.io"), "registry-1.docker.io");
  EXPECT_EQ(api_host("ghcr.io"), "ghcr.io");
  EXPECT_EQ(api_host("localhost:5000"), "localhost:5000");
}

TEST(Endpoint, HostWithoutPort) {
  EXPECT_EQ(host_without_port("localhost:5000"), "localhost");
  EXPECT_EQ(host_without_port("example.com"), "example.com");
  EXPECT_EQ(host_without_port("[::1]:5000"), "::1");
  EXPECT_EQ(host_without_port("[::1]"), "::1");
  EXPECT_EQ(host_without_port("::1"), "::1");
}

TEST(Endpoint, Loopback) {
  for (const char* yes : {"localhost", "localhost:5000", "LocalHost:1", "127.0.0.1", "127.0.0.1:443", "[::1]:5000", "::1"})
    EXPECT_TRUE(is_loopback(yes)) << yes;
  for (const char* no : {"localhost.example.com", "127.0.0.2", "10.0.0.1:5000", "[::2]:5000", "docker.io", "mylocalhost"})
    EXPECT_FALSE(is_loopback(no)) << no;
}

TEST(Endpoint, PlainHttpPolicy) {
  const std::vector<std::string> insecure = {"registry.lan:5000", "build.lan", "http://old.lan/"};
  EXPECT_TRUE(plain_http_allowed("localhost:5000", {}));
  EXPECT_TRUE(plain_http_allowed("registry.lan:5000", insecure));
  EXPECT_FALSE(plain_http_allowed("registry.lan:5001", insecure));
  EXPECT_TRUE(plain_http_allowed("build.lan:1234", insecure));  // a bare host allows any port
  EXPECT_TRUE(plain_http_allowed("old.lan", insecure));
  EXPECT_FALSE(plain_http_allowed("docker.io", insecure));
  EXPECT_FALSE(plain_http_allowed("registry.lan", insecure));  // host:port does not allow the bare host
}

TEST(Endpoint, PlainHttpFirstOnlyForLoopbackListedInsecure) {
  const std::vector<std::string> insecure = {"127.0.0.1:5000", "localhost", "registry.lan:5000"};
  EXPECT_TRUE(plain_http_first("127.0.0.1:5000", insecure));
  EXPECT_TRUE(plain_http_first("localhost:7000", insecure));   // a bare host: any port
  EXPECT_FALSE(plain_http_first("127.0.0.1:5001", insecure));  // loopback, but not listed: HTTPS first
  EXPECT_FALSE(plain_http_first("[::1]:5000", insecure));
  EXPECT_FALSE(plain_http_first("registry.lan:5000", insecure));  // listed, but its traffic leaves the machine
  EXPECT_TRUE(listed_insecure("registry.lan:5000", insecure));
  EXPECT_FALSE(listed_insecure("127.0.0.1:5001", insecure));

  EndpointPolicy policy;
  policy.insecure = insecure;
  policy.mirrors["docker.io"] = {"localhost:5001", "127.0.0.1:5002"};
  const auto endpoints = endpoints_for("docker.io", policy, true);
  ASSERT_EQ(endpoints.size(), 3u);
  EXPECT_TRUE(endpoints[0].plain_http_first);
  EXPECT_FALSE(endpoints[1].plain_http_first);
  EXPECT_TRUE(endpoints[1].plain_http_allowed);
  EXPECT_FALSE(endpoints[2].plain_http_first);
  EXPECT_TRUE(endpoints_for("127.0.0.1:5000", policy, false).front().plain_http_first);
  EXPECT_FALSE(endpoints_for("127.0.0.1:5000", {}, false).front().plain_http_first);
}

TEST(Endpoint, NormalizeRegistry) {
  EXPECT_EQ(normalize_registry("https://index.docker.io/v1/"), "docker.io");
  EXPECT_EQ(normalize_registry("index.docker.io"), "docker.io");
  EXPECT_EQ(normalize_registry("registry-1.docker.io"), "docker.io");
  EXPECT_EQ(normalize_registry("docker.io"), "docker.io");
  EXPECT_EQ(normalize_registry("http://localhost:5000/v2/"), "localhost:5000");
  EXPECT_EQ(normalize_registry("HTTPS://ghcr.io"), "ghcr.io");
  EXPECT_EQ(normalize_registry(" quay.io "), "quay.io");
  EXPECT_EQ(docker_server_address("docker.io"), "https://index.docker.io/v1/");
  EXPECT_EQ(docker_server_address("ghcr.io"), "ghcr.io");
}

TEST(Endpoint, Mirrors) {
  const std::vector<std::string> insecure = {"mirror.lan"};
  auto m = parse_mirror("https://mirror.gcr.io/", insecure);
  EXPECT_EQ(m.host, "mirror.gcr.io");
  EXPECT_EQ(m.scheme, "https");
  EXPECT_TRUE(m.scheme_fixed);
  EXPECT_FALSE(m.plain_http_allowed);
  EXPECT_TRUE(m.mirror);

  m = parse_mirror("localhost:5001", insecure);
  EXPECT_EQ(m.base_url(), "https://localhost:5001");
  EXPECT_FALSE(m.scheme_fixed);
  EXPECT_TRUE(m.plain_http_allowed);

  m = parse_mirror("http://mirror.lan:80", insecure);
  EXPECT_EQ(m.base_url(), "http://mirror.lan:80");
  EXPECT_TRUE(m.scheme_fixed);
}

TEST(Endpoint, BadMirrorsAreRefused) {
  for (const char* bad : {"http://mirror.example.com", "ftp://m", "https://m/path", "", "https://", "m?x", "user@m"}) {
    try {
      parse_mirror(bad, {});
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << bad;
      EXPECT_THAT(e.what(), ::testing::StartsWith("mirror ")) << bad;
    }
  }
}

TEST(Endpoint, EndpointsForTriesMirrorsFirst) {
  EndpointPolicy policy;
  policy.mirrors["docker.io"] = {"https://m1.example", "localhost:5001"};
  policy.mirrors["https://index.docker.io/v1/"] = {"https://m3.example"};
  policy.mirrors["ghcr.io"] = {"https://other.example"};

  auto endpoints = endpoints_for("docker.io", policy, true);
  ASSERT_EQ(endpoints.size(), 4u);
  EXPECT_EQ(endpoints[0].host, "m1.example");
  EXPECT_EQ(endpoints[1].host, "localhost:5001");
  EXPECT_EQ(endpoints[2].host, "m3.example");
  EXPECT_EQ(endpoints[3].host, "registry-1.docker.io");
  EXPECT_EQ(endpoints[3].registry, "docker.io");
  EXPECT_EQ(endpoints[1].registry, "localhost:5001");
  EXPECT_FALSE(endpoints[3].mirror);
  EXPECT_FALSE(endpoints[3].plain_http_allowed);

  endpoints = endpoints_for("docker.io", policy, false);
  ASSERT_EQ(endpoints.size(), 1u);
  EXPECT_EQ(endpoints[0].host, "registry-1.docker.io");

  endpoints = endpoints_for("localhost:5000", policy, true);
  ASSERT_EQ(endpoints.size(), 1u);
  EXPECT_EQ(endpoints[0].base_url(), "https://localhost:5000");
  EXPECT_TRUE(endpoints[0].plain_http_allowed);
}

TEST(Endpoint, PathsAndScopes) {
  const auto d = Digest::of(std::string_view("x"));
  EXPECT_EQ(manifest_path("library/alpine", "3.20"), "/v2/library/alpine/manifests/3.20");
  EXPECT_EQ(blob_path("a/b", d), "/v2/a/b/blobs/" + d.string());
  EXPECT_EQ(upload_path("a"), "/v2/a/blobs/uploads/");
  EXPECT_EQ(tags_path("a/b"), "/v2/a/b/tags/list");
  EXPECT_EQ(catalog_path(), "/v2/_catalog");
  EXPECT_EQ(pull_scope("library/alpine"), "repository:library/alpine:pull");
  EXPECT_EQ(push_scope("me/app"), "repository:me/app:pull,push");
  EXPECT_EQ(catalog_scope(), "registry:catalog:*");
}

}  // namespace
