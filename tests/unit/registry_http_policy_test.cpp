// The request layer's pure rules: which answers are retried and how long to wait, which
// are redirects, what an error status becomes, and URL resolution for Location and Link.
#include "registry/client.hpp"
#include "registry/curl_handle.hpp"
#include "registry/http_client.hpp"
#include "registry/retry.hpp"

#include <knast/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using knast::Error;
using knast::ErrorCode;
using namespace knast::registry_detail;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

TEST(RetryPolicy, RetryableStatuses) {
  for (long status : {408, 429, 500, 502, 503, 504, 599}) EXPECT_TRUE(is_retryable_status(status)) << status;
  for (long status : {200, 201, 206, 301, 400, 401, 403, 404, 416, 501, 505}) EXPECT_FALSE(is_retryable_status(status)) << status;
}

TEST(RetryPolicy, Redirects) {
  for (long status : {301, 302, 303, 307, 308}) EXPECT_TRUE(is_redirect_status(status)) << status;
  for (long status : {200, 300, 304, 305, 306, 400}) EXPECT_FALSE(is_redirect_status(status)) << status;
}

TEST(RetryPolicy, ExponentialBackoffWithACap) {
  const RetryPolicy policy{5, 100ms, 1000ms};
  EXPECT_EQ(retry_delay(policy, 0), 100ms);
  EXPECT_EQ(retry_delay(policy, 1), 200ms);
  EXPECT_EQ(retry_delay(policy, 2), 400ms);
  EXPECT_EQ(retry_delay(policy, 3), 800ms);
  EXPECT_EQ(retry_delay(policy, 4), 1000ms);
  EXPECT_EQ(retry_delay(policy, 4000), 1000ms) << "no overflow however many retries";
}

TEST(RetryPolicy, RetryAfterLengthensButNeverPastTheCap) {
  const RetryPolicy policy{5, 100ms, 5000ms};
  EXPECT_EQ(retry_delay(policy, 0, 2s), 2000ms);
  EXPECT_EQ(retry_delay(policy, 3, 0s), 800ms) << "a shorter hint does not shorten the backoff";
  EXPECT_EQ(retry_delay(policy, 0, 3600s), 5000ms);
  EXPECT_EQ(retry_delay(policy, 0, std::chrono::seconds(1'000'000'000)), 5000ms);
}

TEST(StatusErrors, CodesFollowTheStatus) {
  EXPECT_EQ(error_code_for_status(400), ErrorCode::invalid_argument);
  EXPECT_EQ(error_code_for_status(401), ErrorCode::auth);
  EXPECT_EQ(error_code_for_status(403), ErrorCode::permission_denied);
  EXPECT_EQ(error_code_for_status(404), ErrorCode::not_found);
  EXPECT_EQ(error_code_for_status(405), ErrorCode::unsupported);
  EXPECT_EQ(error_code_for_status(413), ErrorCode::limit_exceeded);
  EXPECT_EQ(error_code_for_status(500), ErrorCode::network);
  EXPECT_EQ(error_code_for_status(302), ErrorCode::network);
}

TEST(StatusErrors, MessageSaysWhatHowOftenAndWhy) {
  HttpResponse response;
  response.status = 500;
  response.attempts = 4;
  response.error_body = R"({"errors":[{"code":"UNKNOWN","message":"unknown error"}]})";
  const Error e = status_error("blob sha256:ab", response);
  EXPECT_EQ(e.kind(), ErrorCode::network);
  EXPECT_EQ(std::string(e.what()), "blob sha256:ab: HTTP 500 after 4 attempts: UNKNOWN: unknown error");
  response.status = 404;
  response.attempts = 1;
  response.error_body = "<html>not json</html>";
  EXPECT_EQ(std::string(status_error("manifest 1", response).what()), "manifest 1: HTTP 404");
}

TEST(Urls, ParseGivesOriginWithDefaultPorts) {
  EXPECT_EQ(parse_url("https://Registry.Example/v2/").origin(), "https://registry.example:443");
  EXPECT_EQ(parse_url("http://127.0.0.1:5000/x?y").origin(), "http://127.0.0.1:5000");
  EXPECT_EQ(parse_url("HTTP://[::1]:5000/").origin(), "http://[::1]:5000");
  for (const char* bad : {"", "/v2/", "ftp://x/", "registry.example/v2", "https://", "http://a b/"}) {
    try {
      parse_url(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << bad;
    }
  }
}

TEST(Urls, ResolveLocationsAndLinks) {
  const std::string base = "https://r.example:5000/v2/a/blobs/uploads/";
  EXPECT_EQ(resolve_url(base, "/v2/a/blobs/uploads/uuid?_state=x"), "https://r.example:5000/v2/a/blobs/uploads/uuid?_state=x");
  EXPECT_EQ(resolve_url(base, "uuid"), "https://r.example:5000/v2/a/blobs/uploads/uuid");
  EXPECT_EQ(resolve_url(base, "https://storage.example/b?sig=1"), "https://storage.example/b?sig=1");
  EXPECT_EQ(resolve_url("http://127.0.0.1:5000/v2/_catalog", "/v2/_catalog?last=b&n=2"),
            "http://127.0.0.1:5000/v2/_catalog?last=b&n=2");
  EXPECT_THROW(resolve_url(base, "ftp://elsewhere/x"), Error);
}

TEST(Urls, AddQuery) {
  EXPECT_EQ(add_query("https://r/v2/a/blobs/uploads/u", "digest=sha256%3Aab"), "https://r/v2/a/blobs/uploads/u?digest=sha256%3Aab");
  EXPECT_EQ(add_query("https://r/u?_state=x", "digest=d"), "https://r/u?_state=x&digest=d");
  EXPECT_EQ(add_query("https://r/u?", "digest=d"), "https://r/u?digest=d");
  EXPECT_EQ(add_query("/v2/_catalog", "n=10"), "/v2/_catalog?n=10");
  EXPECT_EQ(add_query("https://r/u#frag", "d=1"), "https://r/u?d=1");
}

TEST(BufferSink, RefusesWhatIsAnnouncedOrArrivesOverTheLimit) {
  HttpHeaders announced;
  announced.entries = {{"Content-Length", "11"}};
  BufferSink sink(10, "manifest x");
  try {
    sink.begin(200, announced);
    ADD_FAILURE() << "accepted an announced 11 bytes";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::limit_exceeded);
    EXPECT_THAT(e.what(), HasSubstr("manifest x is 11 bytes, over the limit of 10 bytes"));
  }
  BufferSink unannounced(10, "manifest y");
  unannounced.begin(200, HttpHeaders{});
  unannounced.write("0123456789", 10);
  EXPECT_THROW(unannounced.write("x", 1), Error);
  EXPECT_EQ(unannounced.body(), "0123456789");
  // A retried answer starts over.
  unannounced.begin(200, HttpHeaders{});
  EXPECT_EQ(unannounced.body(), "");
  HttpHeaders garbage;
  garbage.entries = {{"content-length", "ten"}};
  EXPECT_THROW(BufferSink(10, "m").begin(200, garbage), Error);
}

TEST(HttpHeaders, LookupIsCaseInsensitive) {
  HttpHeaders headers;
  headers.entries = {{"WWW-Authenticate", "Basic"}, {"www-authenticate", "Bearer realm=x"}, {"X", "1"}};
  EXPECT_EQ(headers.get("www-Authenticate"), "Basic");
  EXPECT_EQ(headers.all("WWW-AUTHENTICATE"), (std::vector<std::string>{"Basic", "Bearer realm=x"}));
  EXPECT_EQ(headers.get("absent"), std::nullopt);
}

}  // namespace
