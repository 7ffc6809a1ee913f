/// @file endpoint.hpp
/// @brief Private: where a registry is reached (host, scheme, mirrors), the names docker
///        uses for it in config.json, and the URL paths of the distribution API. Pure.
#pragma once

#include <knast/digest.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace registry_detail {

/// The registry domain docker's own registry has in references.
inline constexpr std::string_view docker_hub_domain = "docker.io";
/// The host that serves Docker Hub's API.
inline constexpr std::string_view docker_hub_api_host = "registry-1.docker.io";
/// The server address docker keys Docker Hub credentials with.
inline constexpr std::string_view docker_hub_server_address = "https://index.docker.io/v1/";

/// The host (with port) that serves @p domain's API: docker.io → registry-1.docker.io,
/// anything else unchanged.
std::string api_host(std::string_view domain);

/// The host part of "host[:port]" or "[v6]:port", without brackets and port.
std::string host_without_port(std::string_view host_port);

/// Whether @p host_port names this machine's loopback: localhost, 127.0.0.1 or ::1 (with
/// or without a port or brackets).
bool is_loopback(std::string_view host_port);

/// The registry a docker config key or a user's spelling names, as a Reference domain:
/// "https://index.docker.io/v1/", "index.docker.io" and "registry-1.docker.io" are
/// "docker.io"; "http://localhost:5000/v2/" is "localhost:5000". Scheme and path go,
/// host case is kept (as docker keeps it).
std::string normalize_registry(std::string_view key);

/// The server address docker uses for @p domain in config.json and with credential
/// helpers: "https://index.docker.io/v1/" for docker.io, the domain itself otherwise.
std::string docker_server_address(std::string_view domain);

/// One way to reach a registry's API.
struct Endpoint {
  std::string host;               ///< host[:port] as in URLs ("[::1]:5000").
  std::string registry;           ///< Whose credentials apply: the registry's domain, or the mirror's host.
  std::string scheme = "https";   ///< "https" or "http".
  bool plain_http_allowed = false;  ///< May fall back to http when https is not spoken.
  /// Try plain HTTP before HTTPS (falling back to HTTPS when the answer shows TLS): a
  /// loopback registry the caller listed as insecure, whose traffic never leaves the
  /// machine, spares the failed TLS handshake (and the CA bundle's loading) per process.
  bool plain_http_first = false;
  bool scheme_fixed = false;      ///< The scheme was given explicitly: no fallback.
  bool mirror = false;            ///< A mirror, not the registry itself.

  /// scheme://host
  std::string base_url() const { return scheme + "://" + host; }
  /// Endpoints compare field by field.
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

/// Which registries may use plain HTTP and which have mirrors.
struct EndpointPolicy {
  std::vector<std::string> insecure;                         ///< "host:port" or "host".
  std::map<std::string, std::vector<std::string>> mirrors;   ///< By registry domain.
};

/// Whether @p host_port is listed in @p insecure as "host:port" or as "host" (any port).
bool listed_insecure(std::string_view host_port, const std::vector<std::string>& insecure);

/// Whether @p host_port may be reached over plain HTTP: a loopback name, or
/// listed_insecure().
bool plain_http_allowed(std::string_view host_port, const std::vector<std::string>& insecure);

/// Whether plain HTTP is tried before HTTPS for @p host_port: a loopback name that is
/// also listed_insecure() (see Endpoint::plain_http_first).
bool plain_http_first(std::string_view host_port, const std::vector<std::string>& insecure);

/// Parses a mirror given as "host[:port]", "https://host[:port]" or "http://host[:port]"
/// (a trailing "/" is allowed, other paths are not). http:// is accepted only where
/// plain_http_allowed(). @throws Error invalid_argument.
Endpoint parse_mirror(std::string_view text, const std::vector<std::string>& insecure);

/// The endpoints to try for @p domain, in order: its mirrors (when @p with_mirrors), then
/// the registry itself. @throws Error invalid_argument for a malformed mirror.
std::vector<Endpoint> endpoints_for(std::string_view domain, const EndpointPolicy& policy, bool with_mirrors);

/// `/v2/<repository>/manifests/<tag or digest>`
std::string manifest_path(std::string_view repository, std::string_view reference);
/// `/v2/<repository>/blobs/<digest>`
std::string blob_path(std::string_view repository, const Digest& digest);
/// `/v2/<repository>/blobs/uploads/`
std::string upload_path(std::string_view repository);
/// `/v2/<repository>/tags/list`
std::string tags_path(std::string_view repository);
/// `/v2/_catalog`
std::string catalog_path();

/// The token scope to read @p repository: `repository:NAME:pull`.
std::string pull_scope(std::string_view repository);
/// The token scope to write @p repository: `repository:NAME:pull,push`.
std::string push_scope(std::string_view repository);
/// The token scope of the catalog: `registry:catalog:*`.
std::string catalog_scope();

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
