#include "registry/endpoint.hpp"

#include "registry/http_parse.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace knast {
inline namespace v0 {
namespace registry_detail {
namespace {

/// Docker Hub answers to several names; credentials saved under any of them are its.
bool is_docker_hub_alias(std::string_view host) {
  return host == docker_hub_domain || host == "index.docker.io" || host == docker_hub_api_host;
}

/// "scheme://rest" → {"scheme", "rest"}; no scheme → {"", text}.
std::pair<std::string, std::string_view> split_scheme(std::string_view text) {
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) return {"", text};
  return {ascii_lower(text.substr(0, sep)), text.substr(sep + 3)};
}

}  // namespace

std::string api_host(std::string_view domain) {
  return domain == docker_hub_domain ? std::string(docker_hub_api_host) : std::string(domain);
}

std::string host_without_port(std::string_view host_port) {
  if (!host_port.empty() && host_port.front() == '[') {
    const auto close = host_port.find(']');
    return std::string(host_port.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  // A bare IPv6 address has several colons and no port.
  if (std::count(host_port.begin(), host_port.end(), ':') > 1) return std::string(host_port);
  return std::string(host_port.substr(0, host_port.find(':')));
}

bool is_loopback(std::string_view host_port) {
  const std::string host = ascii_lower(host_without_port(host_port));
  return host == "localhost" || host == "127.0.0.1" || host == "::1";
}

std::string normalize_registry(std::string_view key) {
  std::string_view rest = split_scheme(trim_ows(key)).second;
  rest = rest.substr(0, rest.find('/'));
  if (is_docker_hub_alias(rest)) return std::string(docker_hub_domain);
  return std::string(rest);
}

std::string docker_server_address(std::string_view domain) {
  return domain == docker_hub_domain ? std::string(docker_hub_server_address) : std::string(domain);
}

bool listed_insecure(std::string_view host_port, const std::vector<std::string>& insecure) {
  const std::string host = host_without_port(host_port);
  return std::any_of(insecure.begin(), insecure.end(), [&](const std::string& entry) {
    const std::string normalized = normalize_registry(entry);
    return normalized == host_port || normalized == host;
  });
}

bool plain_http_allowed(std::string_view host_port, const std::vector<std::string>& insecure) {
  return is_loopback(host_port) || listed_insecure(host_port, insecure);
}

bool plain_http_first(std::string_view host_port, const std::vector<std::string>& insecure) {
  return is_loopback(host_port) && listed_insecure(host_port, insecure);
}

Endpoint parse_mirror(std::string_view text, const std::vector<std::string>& insecure) {
  const auto fail = [&](std::string_view problem) -> Endpoint {
    throw Error(ErrorCode::invalid_argument, fmt::format("mirror {}: {}", quote_header(text), problem));
  };
  auto [scheme, rest] = split_scheme(trim_ows(text));
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty()) return fail("no host");
  if (rest.find_first_of("/?#@ ") != std::string_view::npos) return fail("only scheme://host[:port] is allowed");
  Endpoint endpoint;
  endpoint.host = std::string(rest);
  endpoint.registry = normalize_registry(endpoint.host);
  endpoint.mirror = true;
  endpoint.plain_http_allowed = plain_http_allowed(endpoint.host, insecure);
  endpoint.plain_http_first = plain_http_first(endpoint.host, insecure);
  if (scheme == "http") {
    if (!endpoint.plain_http_allowed)
      return fail("plain HTTP is only allowed for localhost and insecure registries");
    endpoint.scheme = "http";
    endpoint.scheme_fixed = true;
  } else if (scheme == "https") {
    endpoint.scheme_fixed = true;
  } else if (!scheme.empty()) {
    return fail("scheme must be http or https");
  }
  return endpoint;
}

std::vector<Endpoint> endpoints_for(std::string_view domain, const EndpointPolicy& policy, bool with_mirrors) {
  std::vector<Endpoint> out;
  if (with_mirrors) {
    for (const auto& [registry, mirrors] : policy.mirrors) {
      if (normalize_registry(registry) != domain) continue;
      for (const auto& mirror : mirrors) out.push_back(parse_mirror(mirror, policy.insecure));
    }
  }
  Endpoint origin;
  origin.host = api_host(domain);
  origin.registry = std::string(domain);
  origin.plain_http_allowed = plain_http_allowed(domain, policy.insecure);
  origin.plain_http_first = plain_http_first(domain, policy.insecure);
  out.push_back(std::move(origin));
  return out;
}

std::string manifest_path(std::string_view repository, std::string_view reference) {
  return fmt::format("/v2/{}/manifests/{}", repository, reference);
}
std::string blob_path(std::string_view repository, const Digest& digest) {
  return fmt::format("/v2/{}/blobs/{}", repository, digest.string());
}
std::string upload_path(std::string_view repository) { return fmt::format("/v2/{}/blobs/uploads/", repository); }
std::string tags_path(std::string_view repository) { return fmt::format("/v2/{}/tags/list", repository); }
std::string catalog_path() { return "/v2/_catalog"; }

std::string pull_scope(std::string_view repository) { return fmt::format("repository:{}:pull", repository); }
std::string push_scope(std::string_view repository) { return fmt::format("repository:{}:pull,push", repository); }
std::string catalog_scope() { return "registry:catalog:*"; }

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
