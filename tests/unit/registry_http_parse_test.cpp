// The header and body parsers of the registry client: WWW-Authenticate (RFC 7235 and the
// forms registries send), Link (RFC 8288), Content-Range and upload Range, Retry-After
// (RFC 9110), distribution error bodies and token server answers. Malformed input must
// be refused or read as absent, never half-understood.
#include "registry/http_parse.hpp"

#include <knast/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace {

using knast::Error;
using knast::ErrorCode;
using namespace knast::registry_detail;
using ::testing::HasSubstr;
using ::testing::Not;

/// The code and message of what @p f throws; ok and "" if nothing.
template <typename F>
std::pair<ErrorCode, std::string> thrown(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return {e.kind(), e.what()};
  }
  return {ErrorCode::ok, ""};
}

// ---- WWW-Authenticate ------------------------------------------------------------------

TEST(WwwAuthenticate, DockerHubBearer) {
  const auto challenges = parse_www_authenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "bearer");
  EXPECT_EQ(challenges[0].param("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(challenges[0].param("service"), "registry.docker.io");
  EXPECT_EQ(challenges[0].param("scope"), "repository:library/alpine:pull");
  EXPECT_EQ(challenges[0].param("error"), "");
}

TEST(WwwAuthenticate, BasicWithRealm) {
  const auto challenges = parse_www_authenticate(R"(Basic realm="Registry Realm")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "basic");
  EXPECT_EQ(challenges[0].param("realm"), "Registry Realm");
}

TEST(WwwAuthenticate, SchemeAndParameterNamesAreCaseInsensitiveValuesAreNot) {
  const auto challenges = parse_www_authenticate(R"(BEARER Realm="https://Auth/Token",SERVICE=Reg)");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "bearer");
  EXPECT_EQ(challenges[0].param("realm"), "https://Auth/Token");
  EXPECT_EQ(challenges[0].param("service"), "Reg");
}

TEST(WwwAuthenticate, SeveralChallengesInOneHeader) {
  // The RFC 7235 example, where a new challenge starts after a comma.
  const auto challenges = parse_www_authenticate(
      R"(Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple")");
  ASSERT_EQ(challenges.size(), 2u);
  EXPECT_EQ(challenges[0].scheme, "newauth");
  EXPECT_EQ(challenges[0].param("type"), "1");
  EXPECT_EQ(challenges[0].param("title"), R"(Login to "apps")");
  EXPECT_EQ(challenges[1].scheme, "basic");
  EXPECT_EQ(challenges[1].param("realm"), "simple");
}

TEST(WwwAuthenticate, WhitespaceAndEmptyListElements) {
  const auto challenges = parse_www_authenticate(" ,Bearer  realm = \"r\" ,, service=\"s\"\t, , Basic ,");
  ASSERT_EQ(challenges.size(), 2u);
  EXPECT_EQ(challenges[0].param("realm"), "r");
  EXPECT_EQ(challenges[0].param("service"), "s");
  EXPECT_EQ(challenges[1].scheme, "basic");
  EXPECT_TRUE(challenges[1].params.empty());
}

TEST(WwwAuthenticate, InsufficientScopeError) {
  const auto challenges = parse_www_authenticate(
      R"(Bearer realm="https://r/t",service="s",scope="repository:a:pull,push",error="insufficient_scope")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].param("scope"), "repository:a:pull,push");
  EXPECT_EQ(challenges[0].param("error"), "insufficient_scope");
}

TEST(WwwAuthenticate, Token68) {
  const auto challenges = parse_www_authenticate("Negotiate abc+/def==, Basic realm=x");
  ASSERT_EQ(challenges.size(), 2u);
  EXPECT_EQ(challenges[0].scheme, "negotiate");
  EXPECT_EQ(challenges[0].token68, "abc+/def==");
  EXPECT_TRUE(challenges[0].params.empty());
  EXPECT_EQ(challenges[1].param("realm"), "x");
}

TEST(WwwAuthenticate, SchemeAlone) {
  const auto challenges = parse_www_authenticate("Basic");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "basic");
}

TEST(WwwAuthenticate, QuotedPairsAndCommasInsideQuotes) {
  const auto challenges = parse_www_authenticate(R"(Bearer realm="a,b\\c\"d", scope="x")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].param("realm"), R"(a,b\c"d)");
  EXPECT_EQ(challenges[0].param("scope"), "x");
}

TEST(WwwAuthenticate, MalformedIsRefused) {
  for (const char* bad : {
           "",                                    // no challenge
           "   ",                                 // no challenge
           R"(Bearer realm="unterminated)",       // open quote
           R"(Bearer realm="a\)",                 // escape at the end
           R"(Bearer realm, service="x")",        // token68 "realm", then a parameter where a scheme belongs
           R"(Bearer realm="a", realm="b")",      // duplicate parameter
           R"(Bearer realm="a" service="b")",     // missing comma
           R"(Bearer realm=)",                    // empty value is a token68 ... of "realm="? no: see below
           R"(Bearer ="a")",                      // no parameter name
           R"("Bearer" realm="a")",               // scheme is not a token
           "Bearer realm=\"a\x01\"",              // control character
           R"(Bearer realm="a",, =b)",            // stray '='
       }) {
    if (std::string_view(bad) == "Bearer realm=") continue;  // a valid token68, checked below
    const auto [code, message] = thrown([&] { parse_www_authenticate(bad); });
    EXPECT_EQ(code, ErrorCode::invalid_argument) << bad;
    EXPECT_THAT(message, HasSubstr("WWW-Authenticate")) << bad;
  }
  // "realm=" has the shape of a token68 (RFC 7235 makes it one); it is not a realm.
  const auto challenges = parse_www_authenticate("Bearer realm=");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].token68, "realm=");
  EXPECT_EQ(challenges[0].param("realm"), "");
}

TEST(WwwAuthenticate, MessageQuotesTheHeaderSafely) {
  const auto [code, message] = thrown([] { parse_www_authenticate("Bearer realm=\"x\ny"); });
  EXPECT_EQ(code, ErrorCode::invalid_argument);
  EXPECT_THAT(message, Not(HasSubstr("\n")));
  EXPECT_THAT(message, HasSubstr("\\x0a"));
}

// ---- Link ------------------------------------------------------------------------------

TEST(LinkHeader, DistributionNextLink) {
  EXPECT_EQ(parse_link_next(R"(</v2/_catalog?last=b&n=2>; rel="next")"), "/v2/_catalog?last=b&n=2");
}

TEST(LinkHeader, UnquotedRelAndCase) {
  EXPECT_EQ(parse_link_next("</v2/a/tags/list?n=1&last=x>;rel=NEXT"), "/v2/a/tags/list?n=1&last=x");
}

TEST(LinkHeader, SeveralLinksAndRelLists) {
  EXPECT_EQ(parse_link_next(R"(<https://x/prev>; rel="prev", <https://x/next?a=1,2>; title="t"; rel="last next")"),
            "https://x/next?a=1,2");
}

TEST(LinkHeader, NoNextLink) {
  EXPECT_EQ(parse_link_next(R"(<https://x/prev>; rel="prev")"), std::nullopt);
  EXPECT_EQ(parse_link_next(""), std::nullopt);
  EXPECT_EQ(parse_link_next(R"(<https://x/y>; rel="nextpage")"), std::nullopt);
}

TEST(LinkHeader, MalformedIsRefused) {
  for (const char* bad : {R"(/v2/_catalog; rel="next")", R"(</v2/_catalog; rel="next")", R"(<a> rel="next")",
                          R"(<a>; rel="next)", R"(<a>; ="next")"}) {
    EXPECT_EQ(thrown([&] { parse_link_next(bad); }).first, ErrorCode::invalid_argument) << bad;
  }
}

// ---- Content-Range and Range -------------------------------------------------------------

TEST(ContentRangeHeader, Forms) {
  EXPECT_EQ(parse_content_range("bytes 100-199/200"), (ContentRange{100, 199, 200}));
  EXPECT_EQ(parse_content_range("bytes 0-0/*"), (ContentRange{0, 0, std::nullopt}));
  EXPECT_EQ(parse_content_range("bytes */4096"), (ContentRange{std::nullopt, std::nullopt, 4096}));
  EXPECT_EQ(parse_content_range(" Bytes 5-9/10 "), (ContentRange{5, 9, 10}));
}

TEST(ContentRangeHeader, MalformedIsRefused) {
  for (const char* bad : {"", "bytes", "bytes 1-2", "bytes 2-1/10", "bytes 0-10/10", "bytes */*", "items 0-1/2",
                          "bytes -1-2/3", "bytes 1-/3", "bytes a-b/c", "bytes 0-99999999999999999999/1",
                          "bytes 1 - 2/3"}) {
    EXPECT_EQ(thrown([&] { parse_content_range(bad); }).first, ErrorCode::invalid_argument) << bad;
  }
}

TEST(UploadRange, DistributionAndBytesForms) {
  EXPECT_EQ(parse_upload_range("0-1023"), 1024u);
  EXPECT_EQ(parse_upload_range("bytes=0-0"), 1u);
  EXPECT_EQ(range_from(0), "bytes=0-");
  EXPECT_EQ(range_from(1234), "bytes=1234-");
}

TEST(UploadRange, MalformedIsRefused) {
  for (const char* bad : {"", "1-2", "0-", "-5", "0-x", "0-18446744073709551615", "bytes 0-1"}) {
    EXPECT_EQ(thrown([&] { parse_upload_range(bad); }).first, ErrorCode::invalid_argument) << bad;
  }
}

// ---- Retry-After -------------------------------------------------------------------------

std::chrono::system_clock::time_point at(int y, unsigned m, unsigned d, int hh, int mm, int ss) {
  using namespace std::chrono;
  return sys_days{year{y} / month{m} / day{d}} + hours{hh} + minutes{mm} + seconds{ss};
}

TEST(RetryAfter, DeltaSeconds) {
  const auto now = at(2024, 1, 1, 0, 0, 0);
  EXPECT_EQ(parse_retry_after("120", now), std::chrono::seconds(120));
  EXPECT_EQ(parse_retry_after(" 0 ", now), std::chrono::seconds(0));
  EXPECT_EQ(parse_retry_after("99999999999999999999999", now), std::chrono::seconds(1'000'000'000));
}

TEST(RetryAfter, HttpDatesInAllThreeForms) {
  const auto now = at(1994, 11, 6, 8, 49, 0);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), std::chrono::seconds(37));
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now), std::chrono::seconds(37));
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:37 1994", now), std::chrono::seconds(37));
}

TEST(RetryAfter, PastDateMeansNow) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", at(2024, 1, 1, 0, 0, 0)), std::chrono::seconds(0));
}

TEST(RetryAfter, MalformedReadsAsAbsent) {
  const auto now = at(2024, 1, 1, 0, 0, 0);
  for (const char* bad : {"", "-1", "1.5", "soon", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 31 Feb 1994 08:49:37 GMT",
                          "Sun, 06 Xyz 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08-49-37 GMT",
                          "Sunday, 06-Nov-1994 08:49:37 GMT"}) {
    EXPECT_EQ(parse_retry_after(bad, now), std::nullopt) << bad;
  }
}

// ---- error bodies and token answers ------------------------------------------------------

TEST(RegistryErrors, DescribesCodesAndMessages) {
  EXPECT_EQ(describe_registry_errors(
                R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]})"),
            "MANIFEST_UNKNOWN: manifest unknown");
  EXPECT_EQ(describe_registry_errors(R"({"errors":[{"code":"DENIED"},{"message":"only a message"}]})"),
            "DENIED; only a message");
  EXPECT_TRUE(has_registry_error(R"({"errors":[{"code":"DENIED"}]})", "DENIED"));
  EXPECT_FALSE(has_registry_error(R"({"errors":[{"code":"DENIED"}]})", "UNAUTHORIZED"));
}

TEST(RegistryErrors, AnythingElseIsEmpty) {
  for (const char* body : {"", "<html>502 Bad Gateway</html>", "[]", R"({"errors":"x"})", R"({"errors":[1,2]})",
                           R"({"message":"x"})"}) {
    EXPECT_EQ(describe_registry_errors(body), "") << body;
    EXPECT_FALSE(has_registry_error(body, "x")) << body;
  }
}

TEST(RegistryErrors, HostileBodiesAreCutAndCleaned) {
  const std::string long_message(5000, 'm');
  const std::string described =
      describe_registry_errors(R"({"errors":[{"code":"X","message":")" + long_message + "\\n\\u0007\"}]}");
  EXPECT_LT(described.size(), 300u);
  EXPECT_THAT(described, Not(HasSubstr("\n")));
  std::string many = R"({"errors":[)";
  for (int i = 0; i < 100; ++i) many += std::string(i ? "," : "") + R"({"code":"C"})";
  many += "]}";
  EXPECT_LT(describe_registry_errors(many).size(), 50u);
}

TEST(TokenResponse, TokenAccessTokenAndExpiry) {
  auto r = parse_token_response(R"({"token":"abc","expires_in":300,"issued_at":"2024-01-01T00:00:00Z"})");
  EXPECT_EQ(r.token, "abc");
  EXPECT_EQ(r.expires_in, std::chrono::seconds(300));
  EXPECT_EQ(r.refresh_token, std::nullopt);

  r = parse_token_response(R"({"access_token":"oauth","refresh_token":"again"})");
  EXPECT_EQ(r.token, "oauth");
  EXPECT_EQ(r.expires_in, std::chrono::seconds(60));
  EXPECT_EQ(r.refresh_token, "again");

  // Both present: they mean the same, access_token wins (as in distribution's client).
  EXPECT_EQ(parse_token_response(R"({"token":"t","access_token":"a"})").token, "a");
  // Less than the spec's minimum of 60 s, or nonsense, reads as 60 s.
  EXPECT_EQ(parse_token_response(R"({"token":"t","expires_in":5})").expires_in, std::chrono::seconds(60));
  EXPECT_EQ(parse_token_response(R"({"token":"t","expires_in":"300"})").expires_in, std::chrono::seconds(60));
}

TEST(TokenResponse, MalformedIsRefusedWithoutQuotingTheBody) {
  for (const char* bad : {"", "not json", "[]", R"({"token":""})", R"({"token":42})", R"({"tok":"secret-value"})"}) {
    const auto [code, message] = thrown([&] { parse_token_response(bad); });
    EXPECT_EQ(code, ErrorCode::invalid_argument) << bad;
    EXPECT_THAT(message, Not(HasSubstr("secret-value")));
  }
}

// ---- small helpers -----------------------------------------------------------------------

TEST(HttpHelpers, FormEncode) {
  EXPECT_EQ(form_encode({{"grant_type", "refresh_token"}, {"scope", "repository:a/b:pull,push"}, {"x", "a b&c=d~"}}),
            "grant_type=refresh_token&scope=repository%3Aa%2Fb%3Apull%2Cpush&x=a%20b%26c%3Dd~");
  EXPECT_EQ(form_encode({}), "");
}

TEST(HttpHelpers, MediaTypeOf) {
  EXPECT_EQ(media_type_of("application/vnd.oci.image.index.v1+json; charset=utf-8"),
            "application/vnd.oci.image.index.v1+json");
  EXPECT_EQ(media_type_of(" Application/JSON "), "application/json");
  EXPECT_EQ(media_type_of(""), "");
}

TEST(HttpHelpers, CaseAndWhitespace) {
  EXPECT_TRUE(iequals("Docker-Content-Digest", "docker-content-digest"));
  EXPECT_FALSE(iequals("abc", "abd"));
  EXPECT_FALSE(iequals("abc", "ab"));
  EXPECT_EQ(trim_ows(" \t x y \t"), "x y");
  EXPECT_EQ(quote_header("a\"b"), R"("a\"b")");
  EXPECT_EQ(quote_header(std::string(300, 'x')).size(), 200u + 2 + 3);
}

}  // namespace
