/// @file auth.hpp
/// @brief Private: answering a registry's 401 — which challenge to take, what a token
///        request looks like, where credentials may go — and the cache of what was
///        learnt (a host's scheme, its tokens per scope). The decisions are pure
///        functions; the cache is thread-safe.
#pragma once

#include "registry/http_parse.hpp"

#include <knast/registry.hpp>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace registry_detail {

/// The challenge knast answers for a host.
struct AuthScheme {
  /// How to authenticate.
  enum class Kind { basic, bearer };
  Kind kind = Kind::bearer;  ///< Basic or Bearer.
  std::string realm;         ///< Bearer: the token server URL.
  std::string service;       ///< Bearer: `service`, passed back to the token server.
  std::string scope;         ///< Bearer: the `scope` the registry asked for, if any.

  /// Schemes compare field by field.
  friend bool operator==(const AuthScheme&, const AuthScheme&) = default;
};

/// Picks the challenge to answer from the WWW-Authenticate headers of a 401: Bearer over
/// Basic; other schemes are ignored. @p registry names it in messages.
/// @throws Error auth if no header is usable (none, malformed, no Bearer realm, only
///         unknown schemes, or a realm that is not an absolute http(s) URL).
AuthScheme choose_challenge(const std::vector<std::string>& www_authenticate, std::string_view registry);

/// @p scopes plus @p extra (a challenge's scope, possibly several separated by spaces),
/// without duplicates, in a stable order.
std::vector<std::string> merge_scopes(const std::vector<std::string>& scopes, std::string_view extra);

/// The cache key of a set of scopes: sorted, joined by spaces.
std::string scope_key(const std::vector<std::string>& scopes);

/// `Basic base64(user:password)`.
std::string basic_authorization(const Credentials& credentials);

/// Whether credentials may be sent to the token realm @p realm_url for a registry reached
/// at @p registry_url: over https always (the registry named the realm), over plain http
/// only to the registry's own host.
bool realm_may_receive_credentials(std::string_view realm_url, std::string_view registry_url);

/// The query of an anonymous or Basic-authenticated token GET: service, then each scope.
std::string token_query(const AuthScheme& scheme, const std::vector<std::string>& scopes);

/// The form body of the OAuth2 refresh_token grant (docker's identity tokens).
std::string refresh_token_form(const AuthScheme& scheme, const std::vector<std::string>& scopes,
                               std::string_view refresh_token);

/// When a token that lives @p expires_in from @p now should be replaced: a little
/// early, so a request is not sent with a token about to run out.
std::chrono::steady_clock::time_point token_refresh_time(std::chrono::steady_clock::time_point now,
                                                         std::chrono::seconds expires_in);

/// What knast learnt about each host's authentication. Thread-safe.
class AuthCache {
 public:
  using Clock = std::chrono::steady_clock;

  /// The scheme @p origin asked for last, if any.
  std::optional<AuthScheme> scheme(const std::string& origin) const;
  /// Records the scheme @p origin asked for.
  void set_scheme(const std::string& origin, AuthScheme scheme);
  /// A token for @p origin and @p key still good at @p now, if any.
  std::optional<std::string> token(const std::string& origin, const std::string& key, Clock::time_point now) const;
  /// Keeps @p token for @p origin and @p key until @p refresh_at.
  void put_token(const std::string& origin, const std::string& key, std::string token, Clock::time_point refresh_at);
  /// Forgets @p origin's token for @p key (the registry refused it).
  void drop_token(const std::string& origin, const std::string& key);
  /// Forgets everything about @p origin (after logout).
  void forget(const std::string& origin);

 private:
  struct Token {
    std::string value;
    Clock::time_point refresh_at;
  };
  mutable std::mutex mutex_;
  std::map<std::string, AuthScheme> schemes_;
  std::map<std::pair<std::string, std::string>, Token> tokens_;
};

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
