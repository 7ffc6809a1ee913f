// The decisions behind answering a registry's 401, all pure: which challenge to take,
// which scopes a token is asked for, where credentials may go, what the token requests
// look like, when a token is renewed, and the token cache.
#include "registry/auth.hpp"
#include "registry/base64.hpp"

#include <knast/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using knast::Credentials;
using knast::Error;
using knast::ErrorCode;
using namespace knast::registry_detail;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::pair<ErrorCode, std::string> challenge_error(const std::vector<std::string>& headers) {
  try {
    choose_challenge(headers, "reg.example");
  } catch (const Error& e) {
    return {e.kind(), e.what()};
  }
  return {ErrorCode::ok, ""};
}

TEST(AuthDecisions, BearerIsPreferredOverBasic) {
  const AuthScheme scheme = choose_challenge(
      {R"(Basic realm="x")", R"(Bearer realm="https://auth.example/token",service="reg",scope="repository:a:pull")"},
      "reg.example");
  EXPECT_EQ(scheme.kind, AuthScheme::Kind::bearer);
  EXPECT_EQ(scheme.realm, "https://auth.example/token");
  EXPECT_EQ(scheme.service, "reg");
  EXPECT_EQ(scheme.scope, "repository:a:pull");
  EXPECT_EQ(choose_challenge({R"(Basic realm="x", Bearer realm="https://r/t")"}, "r").kind, AuthScheme::Kind::bearer);
}

TEST(AuthDecisions, BasicAndUnknownSchemes) {
  EXPECT_EQ(choose_challenge({R"(Negotiate abc==, Basic realm="Registry")"}, "r").kind, AuthScheme::Kind::basic);
  EXPECT_EQ(choose_challenge({"basic"}, "r"), (AuthScheme{AuthScheme::Kind::basic, "", "", ""}));
}

TEST(AuthDecisions, UnusableChallengesAreAuthErrorsNamingTheRegistry) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "sends no WWW-Authenticate challenge"},
      {{"Negotiate abc"}, "no scheme knast speaks"},
      {{R"(Bearer service="x")"}, "names no realm"},
      {{R"(Bearer realm="/relative/token")"}, "is not an http(s) URL"},
      {{R"(Bearer realm="ftp://r/t")"}, "is not an http(s) URL"},
      {{R"(Bearer realm="unterminated)"}, "malformed WWW-Authenticate"},
  };
  for (const auto& [headers, expected] : cases) {
    const auto [code, message] = challenge_error(headers);
    EXPECT_EQ(code, ErrorCode::auth) << expected;
    EXPECT_THAT(message, HasSubstr("reg.example asks for authentication, but"));
    EXPECT_THAT(message, HasSubstr(expected));
  }
}

TEST(AuthDecisions, Scopes) {
  EXPECT_EQ(merge_scopes({"repository:a:pull"}, "repository:a:pull"), (std::vector<std::string>{"repository:a:pull"}));
  EXPECT_EQ(merge_scopes({"repository:a:pull,push"}, "repository:b:pull  repository:a:pull,push "),
            (std::vector<std::string>{"repository:a:pull,push", "repository:b:pull"}));
  EXPECT_EQ(merge_scopes({}, ""), std::vector<std::string>{});
  EXPECT_EQ(scope_key({"b", "a", "b"}), "a b");
  EXPECT_EQ(scope_key({}), "");
}

TEST(AuthDecisions, BasicAuthorization) {
  EXPECT_EQ(basic_authorization(Credentials{"user", "pa:ss", ""}), "Basic " + base64_encode("user:pa:ss"));
}

TEST(AuthDecisions, CredentialsGoToHttpsRealmsOrTheRegistrysOwnHost) {
  EXPECT_TRUE(realm_may_receive_credentials("https://auth.docker.io/token", "https://registry-1.docker.io"));
  EXPECT_TRUE(realm_may_receive_credentials("https://auth.example/token", "http://localhost:5000"));
  // Plain HTTP: the registry's own host (any port), never another.
  EXPECT_TRUE(realm_may_receive_credentials("http://127.0.0.1:9999/token", "http://127.0.0.1:5000"));
  EXPECT_TRUE(realm_may_receive_credentials("http://LOCALHOST/token", "https://localhost:5000"));
  EXPECT_FALSE(realm_may_receive_credentials("http://evil.example/token", "https://registry.example"));
  EXPECT_FALSE(realm_may_receive_credentials("http://127.0.0.2/token", "http://127.0.0.1:5000"));
}

TEST(AuthDecisions, TokenRequests) {
  const AuthScheme scheme{AuthScheme::Kind::bearer, "https://r/token", "registry.docker.io", ""};
  EXPECT_EQ(token_query(scheme, {"repository:library/alpine:pull", "repository:me/x:pull,push"}),
            "service=registry.docker.io&scope=repository%3Alibrary%2Falpine%3Apull&scope=repository%3Ame%2Fx%3Apull%2Cpush");
  EXPECT_EQ(token_query(AuthScheme{AuthScheme::Kind::bearer, "https://r/t", "", ""}, {}), "");
  EXPECT_EQ(refresh_token_form(scheme, {"repository:a:pull", "repository:b:pull"}, "r&t"),
            "grant_type=refresh_token&refresh_token=r%26t&client_id=knast&service=registry.docker.io"
            "&scope=repository%3Aa%3Apull%20repository%3Ab%3Apull");
}

TEST(AuthDecisions, TokensAreRenewedALittleEarly) {
  const auto now = std::chrono::steady_clock::time_point{} + 1000s;
  EXPECT_EQ(token_refresh_time(now, 60s), now + 54s);
  EXPECT_EQ(token_refresh_time(now, 300s), now + 270s);
  EXPECT_EQ(token_refresh_time(now, 3600s), now + 3570s);  // at most 30 s early
}

TEST(AuthDecisions, CacheKeepsTokensPerOriginAndScope) {
  AuthCache cache;
  const auto now = std::chrono::steady_clock::now();
  EXPECT_EQ(cache.scheme("https://a:443"), std::nullopt);
  cache.set_scheme("https://a:443", AuthScheme{AuthScheme::Kind::bearer, "https://a/t", "s", ""});
  EXPECT_EQ(cache.scheme("https://a:443")->realm, "https://a/t");

  cache.put_token("https://a:443", "repository:x:pull", "t1", now + 10s);
  EXPECT_EQ(cache.token("https://a:443", "repository:x:pull", now), "t1");
  EXPECT_EQ(cache.token("https://a:443", "repository:y:pull", now), std::nullopt);
  EXPECT_EQ(cache.token("https://b:443", "repository:x:pull", now), std::nullopt);
  EXPECT_EQ(cache.token("https://a:443", "repository:x:pull", now + 10s), std::nullopt) << "due for renewal";

  cache.drop_token("https://a:443", "repository:x:pull");
  EXPECT_EQ(cache.token("https://a:443", "repository:x:pull", now), std::nullopt);

  cache.put_token("https://a:443", "k", "t2", now + 10s);
  cache.forget("https://a:443");
  EXPECT_EQ(cache.token("https://a:443", "k", now), std::nullopt);
  EXPECT_EQ(cache.scheme("https://a:443"), std::nullopt);
}

}  // namespace
