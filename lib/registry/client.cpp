#include "registry/client.hpp"

#include <knast/version.hpp>

#include <fmt/format.h>

#include <thread>

namespace knast {
inline namespace v0 {
namespace registry_detail {
namespace {

using Clock = std::chrono::steady_clock;

constexpr unsigned max_redirects = 10;
constexpr std::size_t max_token_answer = 1u << 20;
constexpr std::size_t max_idle_handles = 8;

/// Decides what Authorization header a request carries, and what a 401 means.
class AuthHook {
 public:
  virtual ~AuthHook() = default;
  /// Only requests to this origin ("scheme://host:port") carry the header.
  virtual const std::string& origin() const = 0;
  /// The header value to send, if any.
  virtual std::optional<std::string> header() = 0;
  /// A 401 came back from origin() after sending @p sent: true to try again.
  virtual bool unauthorized(const HttpResponse& response, const std::optional<std::string>& sent) = 0;
};

std::string attempts_text(unsigned attempts) {
  return attempts > 1 ? fmt::format(" after {} attempts", attempts) : std::string();
}

void check_cancel(const std::atomic<bool>* cancel) {
  if (cancel && cancel->load()) throw Error(ErrorCode::cancelled, "cancelled");
}

/// Sleeps @p delay, waking early (and throwing) if @p cancel is set meanwhile.
void pause(std::chrono::milliseconds delay, const std::atomic<bool>* cancel) {
  const auto until = Clock::now() + delay;
  while (Clock::now() < until) {
    check_cancel(cancel);
    std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(20), until - Clock::now()));
  }
  check_cancel(cancel);
}

std::optional<std::chrono::seconds> retry_after(const HttpResponse& response) {
  const auto value = response.headers.get("Retry-After");
  if (!value) return std::nullopt;
  return parse_retry_after(*value, std::chrono::system_clock::now());
}

/// One request through redirects and retries, with authentication from @p hook.
class Runner {
 public:
  Runner(HttpClient& http, const RetryPolicy& policy, const std::vector<std::string>& insecure, std::string what)
      : http_(http), policy_(policy), insecure_(insecure), what_(std::move(what)) {}

  /// A transport failure with the hint @p probe (unless none) is thrown at once as a
  /// TransportError instead of being retried: the caller then tries the other scheme.
  HttpResponse run(HttpRequest request, AuthHook* hook, ResponseSink* sink, const std::atomic<bool>* cancel,
                   ProtocolHint probe) {
    const std::vector<std::string> base_headers = request.headers;
    unsigned challenges = 0;
    while (true) {
      check_cancel(cancel);
      request.headers = base_headers;
      if (sink)
        for (auto& line : sink->request_headers()) request.headers.push_back(std::move(line));
      const bool to_origin = hook && parse_url(request.url).origin() == hook->origin();
      const std::optional<std::string> sent = to_origin ? hook->header() : std::nullopt;
      if (sent) request.headers.push_back("Authorization: " + *sent);
      const std::uint64_t before = sink ? sink->progress() : 0;
      HttpResponse response;
      try {
        response = http_.perform(request, sink, cancel);
      } catch (const TransportError& e) {
        if (sink && sink->progress() > before) failures_ = 0;  // it moved: not the same failure again
        if (probe != ProtocolHint::none && e.hint() == probe)
          throw TransportError(fmt::format("{}: {}", what_, e.what()), false, probe);
        if (!e.retryable() || failures_ >= policy_.retries)
          throw Error(ErrorCode::network, fmt::format("{}: {}{}", what_, e.what(), attempts_text(retries_ + 1)));
        retry(retry_delay(policy_, failures_++), cancel);
        continue;
      }
      response.attempts = retries_ + 1;
      // Twice at most: once to learn the challenge (or renew a stale token), once more so
      // the hook can tell a refusal of what it just sent.
      if (response.status == 401 && to_origin && challenges++ < 2) {
        if (hook->unauthorized(response, sent)) continue;
        return response;
      }
      if (is_redirect_status(response.status) && follow(request, response)) continue;
      if (is_retryable_status(response.status) && failures_ < policy_.retries) {
        retry(retry_delay(policy_, failures_++, retry_after(response)), cancel);
        continue;
      }
      return response;
    }
  }

 private:
  void retry(std::chrono::milliseconds delay, const std::atomic<bool>* cancel) {
    ++retries_;
    pause(delay, cancel);
  }

  /// Points @p request at the redirect target; false if the answer names none.
  bool follow(HttpRequest& request, const HttpResponse& response) {
    const auto location = response.headers.get("Location");
    if (!location) return false;
    const std::string target = resolve_url(request.url, *location);
    const UrlParts parts = parse_url(target);
    // No downgrade from HTTPS to plain HTTP, unless the target may speak plain HTTP
    // anyway. Only the origin goes into messages: storage URLs carry signatures.
    const bool downgrade = parts.scheme == "http" && parse_url(request.url).scheme == "https";
    if (downgrade && !plain_http_allowed(parts.host_port(), insecure_))
      throw Error(ErrorCode::network,
                  fmt::format("{}: redirected to plain HTTP at {}, which is not allowed", what_, parts.origin()));
    if (++redirects_ > max_redirects)
      throw Error(ErrorCode::network, fmt::format("{}: more than {} redirects", what_, max_redirects));
    request.url = target;
    if (response.status == 303) {
      request.method = "GET";
      request.body = nullptr;
    }
    return true;
  }

  HttpClient& http_;
  const RetryPolicy& policy_;
  const std::vector<std::string>& insecure_;
  std::string what_;
  unsigned retries_ = 0;   // tries of this request after the first, for messages
  unsigned failures_ = 0;  // failures in a row, reset by progress; bounded by the policy
  unsigned redirects_ = 0;
};

/// Token requests: Basic credentials for the realm's own origin, nothing to learn from a 401.
class TokenAuthHook final : public AuthHook {
 public:
  TokenAuthHook(std::string origin, std::optional<std::string> header)
      : origin_(std::move(origin)), header_(std::move(header)) {}
  const std::string& origin() const override { return origin_; }
  std::optional<std::string> header() override { return header_; }
  bool unauthorized(const HttpResponse&, const std::optional<std::string>&) override { return false; }

 private:
  std::string origin_;
  std::optional<std::string> header_;
};

bool has_password(const std::optional<Credentials>& credentials) {
  return credentials && (!credentials->username.empty() || !credentials->password.empty());
}

std::string errors_text(const HttpResponse& response) {
  const std::string described = describe_registry_errors(response.error_body);
  return described.empty() ? std::string() : ": " + described;
}

std::string scopes_text(const std::vector<std::string>& scopes) {
  return scopes.empty() ? std::string("the registry") : scope_key(scopes);
}

const char* const login_hint =
    "log in (docker login, or Registry::login) or pass credentials in RegistryOptions::credentials";

}  // namespace

// ---- errors of answers ---------------------------------------------------------------

ErrorCode error_code_for_status(long status) noexcept {
  switch (status) {
    case 400: return ErrorCode::invalid_argument;
    case 401: return ErrorCode::auth;
    case 403: return ErrorCode::permission_denied;
    case 404: return ErrorCode::not_found;
    case 405: return ErrorCode::unsupported;
    case 413: return ErrorCode::limit_exceeded;
    default: return ErrorCode::network;
  }
}

Error status_error(std::string_view what, const HttpResponse& response) {
  return Error(error_code_for_status(response.status),
               fmt::format("{}: HTTP {}{}{}", what, response.status, attempts_text(response.attempts), errors_text(response)));
}

// ---- a pool of easy handles, so connections are reused across calls -------------------

class RegistryClient::Pool {
 public:
  explicit Pool(const TransferSettings& settings) : settings_(settings) {}

  /// An HttpClient lent for one call; returned to the pool afterwards.
  class Lease {
   public:
    Lease(Pool& pool, std::unique_ptr<HttpClient> client) : pool_(&pool), client_(std::move(client)) {}
    ~Lease() { pool_->give_back(std::move(client_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    HttpClient& operator*() const noexcept { return *client_; }

   private:
    Pool* pool_;
    std::unique_ptr<HttpClient> client_;
  };

  Lease acquire() {
    {
      const std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        auto client = std::move(idle_.back());
        idle_.pop_back();
        return Lease(*this, std::move(client));
      }
    }
    return Lease(*this, std::make_unique<HttpClient>(settings_));
  }

 private:
  void give_back(std::unique_ptr<HttpClient> client) noexcept {
    const std::lock_guard lock(mutex_);
    if (idle_.size() < max_idle_handles) idle_.push_back(std::move(client));
  }

  const TransferSettings& settings_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<HttpClient>> idle_;
};

// ---- authentication with a registry -------------------------------------------------

/// Registry requests: a cached or fresh token for the call's scopes, or Basic
/// credentials; a 401 teaches the scheme and is answered once.
class RegistryAuthHook final : public AuthHook {
 public:
  RegistryAuthHook(RegistryClient& client, HttpClient& http, const Endpoint& endpoint,
                   const std::vector<std::string>& scopes, const std::atomic<bool>* cancel)
      : client_(client),
        http_(http),
        endpoint_(endpoint),
        scopes_(scopes),
        cancel_(cancel),
        origin_(parse_url(endpoint.base_url()).origin()),
        key_(scope_key(scopes)) {}

  const std::string& origin() const override { return origin_; }

  std::optional<std::string> header() override {
    const auto scheme = client_.auth_.scheme(origin_);
    if (!scheme) return std::nullopt;  // the first request teaches what the registry wants
    if (scheme->kind == AuthScheme::Kind::basic) {
      const auto lookup = client_.credentials_.lookup(endpoint_.registry);
      return has_password(lookup.credentials) ? std::optional(basic_authorization(*lookup.credentials)) : std::nullopt;
    }
    if (auto token = client_.auth_.token(origin_, key_, Clock::now())) return "Bearer " + *token;
    return "Bearer " + fetch(*scheme, scopes_);
  }

  bool unauthorized(const HttpResponse& response, const std::optional<std::string>& sent) override {
    const AuthScheme scheme = choose_challenge(response.headers.all("WWW-Authenticate"), endpoint_.registry);
    client_.auth_.set_scheme(origin_, scheme);
    const auto lookup = client_.credentials_.lookup(endpoint_.registry);
    if (scheme.kind == AuthScheme::Kind::basic) {
      if (!has_password(lookup.credentials))
        throw Error(ErrorCode::auth, fmt::format("{} requires authentication and knast has no credentials for it{}: {}",
                                                 endpoint_.registry, note(lookup), login_hint));
      if (sent == basic_authorization(*lookup.credentials)) refused(response, lookup);
      return true;
    }
    if (fetched_) refused(response, lookup);  // a token fresh from the token server did not do
    client_.auth_.drop_token(origin_, key_);
    fetch(scheme, merge_scopes(scopes_, scheme.scope));
    return true;
  }

 private:
  std::string fetch(const AuthScheme& scheme, const std::vector<std::string>& scopes) {
    fetched_ = true;
    const auto asked = Clock::now();
    TokenResponse token = client_.fetch_token(http_, endpoint_, scheme, scopes, cancel_);
    // Cached under the call's scopes: the token covers at least those.
    client_.auth_.put_token(origin_, key_, token.token, token_refresh_time(asked, token.expires_in));
    return std::move(token.token);
  }

  static std::string note(const CredentialLookup& lookup) {
    return lookup.note.empty() ? std::string() : " (" + lookup.note + ")";
  }

  [[noreturn]] void refused(const HttpResponse& response, const CredentialLookup& lookup) const {
    const std::string who = lookup.credentials ? "the credentials from " + lookup.source
                                               : "anonymous access" + note(lookup);
    throw Error(ErrorCode::auth, fmt::format("{} refused {} for {} (HTTP 401{}): {}", endpoint_.registry, who,
                                             scopes_text(scopes_), errors_text(response),
                                             lookup.credentials ? "check the credentials and the repository name"
                                                                : login_hint));
  }

  RegistryClient& client_;
  HttpClient& http_;
  const Endpoint& endpoint_;
  const std::vector<std::string>& scopes_;
  const std::atomic<bool>* cancel_;
  std::string origin_;
  std::string key_;
  bool fetched_ = false;
};

// ---- RegistryClient ------------------------------------------------------------------

RegistryClient::RegistryClient(RegistryOptions options)
    : options_(std::move(options)), credentials_(options_) {
  settings_.connect_timeout = options_.connect_timeout;
  settings_.low_speed_time = options_.low_speed_time;
  settings_.low_speed_limit = options_.low_speed_limit;
  settings_.ca_file = options_.ca_file;
  if (options_.client_certificate) {
    settings_.client_cert = options_.client_certificate->certificate;
    settings_.client_key = options_.client_certificate->key;
  }
  settings_.user_agent = options_.user_agent.empty() ? std::string("knast/") + version() : options_.user_agent;
  retry_.retries = options_.retries;
  retry_.base_delay = options_.retry_delay;
  retry_.max_delay = options_.max_retry_delay;
  pool_ = std::make_unique<Pool>(settings_);
}

RegistryClient::~RegistryClient() = default;

std::vector<Endpoint> RegistryClient::endpoints(std::string_view domain, bool with_mirrors) const {
  return endpoints_for(domain, EndpointPolicy{options_.insecure_registries, options_.mirrors}, with_mirrors);
}

Endpoint RegistryClient::resolved(const Endpoint& endpoint) const {
  Endpoint out = endpoint;
  if (out.scheme_fixed) return out;
  const std::lock_guard lock(schemes_mutex_);
  const auto it = schemes_.find(out.host);
  if (it != schemes_.end()) {
    out.scheme = it->second;
    out.scheme_fixed = true;
  }
  return out;
}

void RegistryClient::decide_scheme(const Endpoint& endpoint, std::string scheme) {
  const std::lock_guard lock(schemes_mutex_);
  schemes_[endpoint.host] = std::move(scheme);
}

void RegistryClient::forget_auth(const Endpoint& endpoint) {
  auth_.forget(parse_url(resolved(endpoint).base_url()).origin());
}

HttpResponse RegistryClient::send(const Endpoint& endpoint, const RegistryCall& call, ResponseSink* sink,
                                  const std::atomic<bool>* cancel) {
  const auto lease = pool_->acquire();
  Endpoint target = resolved(endpoint);
  // One attempt over @p scheme; a failure hinting @p probe is thrown at once.
  const auto attempt = [&](std::string_view scheme, ProtocolHint probe) {
    target.scheme = std::string(scheme);
    HttpRequest request;
    request.method = call.method;
    request.url = call.url.empty() ? target.base_url() + call.path : call.url;
    request.headers = call.headers;
    request.body = call.body;
    RegistryAuthHook hook(*this, *lease, target, call.scopes, cancel);
    RetryPolicy policy = retry_;
    if (!call.retry) policy.retries = 0;
    Runner runner(*lease, policy, options_.insecure_registries, call.what);
    return runner.run(std::move(request), &hook, sink, cancel, probe);
  };
  if (!target.plain_http_allowed || target.scheme_fixed) return attempt(target.scheme, ProtocolHint::none);

  // A loopback or insecure registry may speak either; the first answer decides, and the
  // decision holds for every later call of this client.
  std::optional<HttpResponse> plain_answer;
  if (target.plain_http_first) {
    try {
      HttpResponse response = attempt("http", ProtocolHint::not_http);
      // TLS servers answer a plain request with 400 ("Client sent an HTTP request to an
      // HTTPS server"); a registry's own 400 is returned below if HTTPS fails.
      if (response.status != 400) {
        decide_scheme(target, "http");
        return response;
      }
      plain_answer = std::move(response);
    } catch (const TransportError& e) {
      if (e.hint() != ProtocolHint::not_http) throw;
    }
  }
  try {
    HttpResponse response = attempt("https", ProtocolHint::tls_handshake);
    decide_scheme(target, "https");
    return response;
  } catch (const TransportError& e) {
    if (!e.tls_handshake()) throw;
  }
  decide_scheme(target, "http");
  return plain_answer ? std::move(*plain_answer) : attempt("http", ProtocolHint::none);
}

HttpResponse RegistryClient::send_anonymous(const RegistryCall& call, ResponseSink* sink,
                                            const std::atomic<bool>* cancel) {
  const auto lease = pool_->acquire();
  HttpRequest request;
  request.method = call.method;
  request.url = call.url;
  request.headers = call.headers;
  request.body = call.body;
  RetryPolicy policy = retry_;
  if (!call.retry) policy.retries = 0;
  Runner runner(*lease, policy, options_.insecure_registries, call.what);
  return runner.run(std::move(request), nullptr, sink, cancel, ProtocolHint::none);
}

TokenResponse RegistryClient::fetch_token(HttpClient& http, const Endpoint& endpoint, const AuthScheme& scheme,
                                        const std::vector<std::string>& scopes, const std::atomic<bool>* cancel) {
  const CredentialLookup lookup = credentials_.lookup(endpoint.registry);
  const UrlParts realm = parse_url(scheme.realm);
  // Credentials never travel over plain HTTP to a host other than the registry's.
  const bool may_send = realm_may_receive_credentials(scheme.realm, endpoint.base_url());
  const std::optional<Credentials> credentials = may_send ? lookup.credentials : std::nullopt;
  const std::string what = fmt::format("token for {} from {}", endpoint.registry, realm.origin());

  HttpRequest request;
  std::optional<StringBody> form;
  std::optional<std::string> basic;
  if (credentials && !credentials->identity_token.empty()) {
    form.emplace(refresh_token_form(scheme, scopes, credentials->identity_token));
    request.method = "POST";
    request.url = scheme.realm;
    request.body = &*form;
    request.headers.push_back("Content-Type: application/x-www-form-urlencoded");
  } else {
    const std::string query = token_query(scheme, scopes);
    request.url = query.empty() ? scheme.realm : add_query(scheme.realm, query);
    if (has_password(credentials)) basic = basic_authorization(*credentials);
  }
  TokenAuthHook hook(realm.origin(), basic);
  BufferSink sink(max_token_answer, "token server answer");
  Runner runner(http, retry_, options_.insecure_registries, what);
  const HttpResponse response = runner.run(std::move(request), &hook, &sink, cancel, ProtocolHint::none);

  if (response.status == 401 || response.status == 403) {
    const std::string who = credentials ? "the credentials from " + lookup.source
                            : lookup.credentials ? "anonymous access (credentials are not sent to a plain-HTTP realm on another host)"
                                                 : "anonymous access";
    throw Error(ErrorCode::auth, fmt::format("token server {} refused {} for {} (HTTP {}{}): {}", realm.origin(), who,
                                             endpoint.registry, response.status, errors_text(response),
                                             credentials ? "check the credentials" : login_hint));
  }
  if (response.status != 200) throw status_error(what, response);
  try {
    return parse_token_response(sink.body());
  } catch (const Error& e) {
    throw Error(ErrorCode::auth, fmt::format("{}: {}", what, e.what()));
  }
}

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
