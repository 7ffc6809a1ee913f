#include "registry/auth.hpp"

#include "registry/base64.hpp"
#include "registry/curl_handle.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace knast {
inline namespace v0 {
namespace registry_detail {
namespace {

[[noreturn]] void unusable(std::string_view registry, std::string_view problem) {
  throw Error(ErrorCode::auth, fmt::format("{} asks for authentication, but {}", registry, problem));
}

AuthScheme bearer_scheme(const AuthChallenge& challenge, std::string_view registry) {
  AuthScheme scheme;
  scheme.kind = AuthScheme::Kind::bearer;
  scheme.realm = challenge.param("realm");
  scheme.service = challenge.param("service");
  scheme.scope = challenge.param("scope");
  if (scheme.realm.empty()) unusable(registry, "its Bearer challenge names no realm");
  try {
    parse_url(scheme.realm);
  } catch (const Error&) {
    unusable(registry, fmt::format("its token realm {} is not an http(s) URL", quote_header(scheme.realm)));
  }
  return scheme;
}

}  // namespace

AuthScheme choose_challenge(const std::vector<std::string>& www_authenticate, std::string_view registry) {
  if (www_authenticate.empty()) unusable(registry, "sends no WWW-Authenticate challenge");
  std::vector<AuthChallenge> challenges;
  for (const auto& value : www_authenticate) {
    try {
      auto parsed = parse_www_authenticate(value);
      challenges.insert(challenges.end(), parsed.begin(), parsed.end());
    } catch (const Error& e) {
      unusable(registry, e.what());
    }
  }
  for (const auto& challenge : challenges)
    if (challenge.scheme == "bearer") return bearer_scheme(challenge, registry);
  for (const auto& challenge : challenges)
    if (challenge.scheme == "basic") return AuthScheme{AuthScheme::Kind::basic, "", "", ""};
  unusable(registry, "with no scheme knast speaks (Bearer, Basic)");
}

std::vector<std::string> merge_scopes(const std::vector<std::string>& scopes, std::string_view extra) {
  std::vector<std::string> out = scopes;
  while (!extra.empty()) {
    const auto space = extra.find(' ');
    const std::string scope(extra.substr(0, space));
    if (!scope.empty() && std::find(out.begin(), out.end(), scope) == out.end()) out.push_back(scope);
    extra = space == std::string_view::npos ? std::string_view() : extra.substr(space + 1);
  }
  return out;
}

std::string scope_key(const std::vector<std::string>& scopes) {
  const std::set<std::string> sorted(scopes.begin(), scopes.end());
  std::string out;
  for (const auto& scope : sorted) out += (out.empty() ? "" : " ") + scope;
  return out;
}

std::string basic_authorization(const Credentials& credentials) {
  return "Basic " + base64_encode(credentials.username + ":" + credentials.password);
}

bool realm_may_receive_credentials(std::string_view realm_url, std::string_view registry_url) {
  const UrlParts realm = parse_url(realm_url);
  if (realm.scheme == "https") return true;
  return realm.host == parse_url(registry_url).host;
}

std::string token_query(const AuthScheme& scheme, const std::vector<std::string>& scopes) {
  std::vector<std::pair<std::string, std::string>> fields;
  if (!scheme.service.empty()) fields.emplace_back("service", scheme.service);
  for (const auto& scope : scopes) fields.emplace_back("scope", scope);
  return form_encode(fields);
}

std::string refresh_token_form(const AuthScheme& scheme, const std::vector<std::string>& scopes,
                               std::string_view refresh_token) {
  std::vector<std::pair<std::string, std::string>> fields = {{"grant_type", "refresh_token"},
                                                              {"refresh_token", std::string(refresh_token)},
                                                              {"client_id", "knast"}};
  if (!scheme.service.empty()) fields.emplace_back("service", scheme.service);
  // OAuth2 puts every scope in one space-separated field.
  std::string joined;
  for (const auto& scope : scopes) joined += (joined.empty() ? "" : " ") + scope;
  if (!joined.empty()) fields.emplace_back("scope", joined);
  return form_encode(fields);
}

std::chrono::steady_clock::time_point token_refresh_time(std::chrono::steady_clock::time_point now,
                                                         std::chrono::seconds expires_in) {
  // A tenth of the lifetime, at most 30 s: covers clock steps and slow requests.
  const auto margin = std::min<std::chrono::seconds>(expires_in / 10, std::chrono::seconds(30));
  return now + expires_in - margin;
}

std::optional<AuthScheme> AuthCache::scheme(const std::string& origin) const {
  const std::lock_guard lock(mutex_);
  const auto it = schemes_.find(origin);
  if (it == schemes_.end()) return std::nullopt;
  return it->second;
}

void AuthCache::set_scheme(const std::string& origin, AuthScheme scheme) {
  const std::lock_guard lock(mutex_);
  schemes_[origin] = std::move(scheme);
}

std::optional<std::string> AuthCache::token(const std::string& origin, const std::string& key,
                                            Clock::time_point now) const {
  const std::lock_guard lock(mutex_);
  const auto it = tokens_.find({origin, key});
  if (it == tokens_.end() || now >= it->second.refresh_at) return std::nullopt;
  return it->second.value;
}

void AuthCache::put_token(const std::string& origin, const std::string& key, std::string token,
                          Clock::time_point refresh_at) {
  const std::lock_guard lock(mutex_);
  tokens_[{origin, key}] = Token{std::move(token), refresh_at};
}

void AuthCache::drop_token(const std::string& origin, const std::string& key) {
  const std::lock_guard lock(mutex_);
  tokens_.erase({origin, key});
}

void AuthCache::forget(const std::string& origin) {
  const std::lock_guard lock(mutex_);
  schemes_.erase(origin);
  std::erase_if(tokens_, [&](const auto& entry) { return entry.first.first == origin; });
}

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
