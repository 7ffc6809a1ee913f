/// @file client.hpp
/// @brief Private: the request layer every Registry operation goes through — picks the
///        scheme of a loopback or insecure registry, attaches and renews authentication,
///        follows redirects (dropping credentials when the host changes), and retries
///        with backoff. Also the mapping of HTTP answers to knast errors.
#pragma once

#include "registry/auth.hpp"
#include "registry/credentials.hpp"
#include "registry/endpoint.hpp"
#include "registry/http_client.hpp"
#include "registry/retry.hpp"

#include <knast/registry.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace registry_detail {

/// One request to a registry, as an operation describes it.
struct RegistryCall {
  std::string what;                  ///< What is being fetched or sent, for messages: "manifest x:1".
  std::string method = "GET";        ///< HTTP method.
  std::string path;                  ///< Path below the endpoint ("/v2/…"), unless url is set.
  std::string url;                   ///< An absolute URL on the endpoint (an upload Location).
  std::vector<std::string> headers;  ///< Extra "Name: value" lines.
  RequestBody* body = nullptr;       ///< Body, if any.
  std::vector<std::string> scopes;   ///< Token scopes the request needs.
  bool retry = true;                 ///< Whether failures may be retried (not for a PATCH).
};

/// The ErrorCode an HTTP error status stands for: 401 auth, 403 permission_denied,
/// 404 not_found, 400 invalid_argument, 405 unsupported, 413 limit_exceeded, else network.
ErrorCode error_code_for_status(long status) noexcept;

/// The Error for a failed answer: "<what>: HTTP 500 after 4 attempts: <registry errors>".
Error status_error(std::string_view what, const HttpResponse& response);

/// The request layer shared by all operations of a Registry. Thread-safe.
class RegistryClient {
 public:
  /// A client with @p options.
  explicit RegistryClient(RegistryOptions options);
  ~RegistryClient();
  RegistryClient(const RegistryClient&) = delete;
  RegistryClient& operator=(const RegistryClient&) = delete;

  /// The options in use.
  const RegistryOptions& options() const noexcept { return options_; }
  /// The credentials in use.
  CredentialStore& credentials() noexcept { return credentials_; }

  /// Where @p domain is reached, mirrors first if @p with_mirrors.
  std::vector<Endpoint> endpoints(std::string_view domain, bool with_mirrors) const;

  /// Sends @p call to @p endpoint and returns the final answer, whatever its status: the
  /// caller decides what a 404 means. Authenticates (once per call on a 401), follows up
  /// to 10 redirects, retries transport failures and 408/429/5xx answers (resetting the
  /// count whenever @p sink made progress), honours Retry-After.
  /// @throws Error network when the retries are used up on transport failures, auth when
  ///         authentication cannot succeed, cancelled when @p cancel is set; and whatever
  ///         @p sink throws.
  HttpResponse send(const Endpoint& endpoint, const RegistryCall& call, ResponseSink* sink = nullptr,
                    const std::atomic<bool>* cancel = nullptr);

  /// Sends @p call to its absolute url without any credentials (a foreign layer's URL,
  /// which is not the registry's), following redirects and retrying as send() does.
  /// @throws as send().
  HttpResponse send_anonymous(const RegistryCall& call, ResponseSink* sink, const std::atomic<bool>* cancel);

  /// Forgets the schemes and tokens learnt for @p endpoint (after logout()).
  void forget_auth(const Endpoint& endpoint);

  /// The Endpoint with its scheme as decided for it so far.
  Endpoint resolved(const Endpoint& endpoint) const;

 private:
  friend class CallRunner;
  friend class RegistryAuthHook;
  class Pool;

  void decide_scheme(const Endpoint& endpoint, std::string scheme);
  TokenResponse fetch_token(HttpClient& http, const Endpoint& endpoint, const AuthScheme& scheme,
                          const std::vector<std::string>& scopes, const std::atomic<bool>* cancel);

  RegistryOptions options_;
  TransferSettings settings_;
  RetryPolicy retry_;
  CredentialStore credentials_;
  AuthCache auth_;
  std::unique_ptr<Pool> pool_;
  mutable std::mutex schemes_mutex_;
  std::map<std::string, std::string> schemes_;  // host → "https" or "http", once known
};

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
