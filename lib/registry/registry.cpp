// The public Registry class: thin methods that validate their input, call the operation
// and put "what was being done" before any error.
#include <knast/registry.hpp>

#include "registry/manifests.hpp"
#include "registry/operations.hpp"

#include "image_store/store_files.hpp"

#include <knast/error.hpp>
#include <knast/image_store.hpp>

#include <fmt/format.h>

namespace knast {
inline namespace v0 {

using detail::in_context;
using registry_detail::RegistryClient;

struct Registry::Impl {
  explicit Impl(RegistryOptions options) : client(std::move(options)) {}
  RegistryClient client;
};

namespace {

/// A registry as the caller spells it ("docker.io", "https://localhost:5000/"), as a
/// Reference domain. @throws Error invalid_argument.
std::string registry_domain(std::string_view registry) {
  const std::string domain = registry_detail::normalize_registry(registry);
  // The reference grammar is the authority on what a domain is.
  if (domain.empty() || !Reference::try_parse(domain + "/x") || Reference::parse(domain + "/x").domain() != domain)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{} is not a registry name", registry_detail::quote_header(registry)));
  return domain;
}

/// The manifest descriptor from a HEAD answer, if it carries all that is needed.
std::optional<Descriptor> descriptor_from_head(const registry_detail::HttpResponse& response) {
  const auto digest = response.headers.get("Docker-Content-Digest");
  const auto type = response.headers.get("Content-Type");
  const auto length = response.headers.get("Content-Length");
  if (!digest || !type || !length) return std::nullopt;
  Descriptor out;
  out.media_type = registry_detail::media_type_of(*type);
  const auto parsed = Digest::try_parse(registry_detail::trim_ows(*digest));
  const auto size = registry_detail::parse_content_length(*length);
  if (!parsed || !size || (!is_manifest_media_type(out.media_type) && !is_index_media_type(out.media_type)))
    return std::nullopt;
  out.digest = *parsed;
  out.size = static_cast<std::int64_t>(*size);
  return out;
}

Descriptor head_on(RegistryClient& client, const registry_detail::Endpoint& endpoint, const Reference& ref) {
  using namespace registry_detail;
  RegistryCall call;
  call.what = fmt::format("manifest {}", api_reference(ref));
  call.method = "HEAD";
  call.path = manifest_path(ref.path(), api_reference(ref));
  call.headers = {manifest_accept_header()};
  call.scopes = {pull_scope(ref.path())};
  const HttpResponse response = client.send(endpoint, call, nullptr, nullptr);
  if (response.status != 200) throw status_error(call.what, response);
  const auto descriptor = descriptor_from_head(response);
  // Registries need not send the digest on HEAD; the body then tells.
  if (!descriptor) return fetch_document(client, endpoint, ref.path(), api_reference(ref), ref.digest(), call.what, nullptr)
                       .resolved.descriptor;
  if (ref.digest() && descriptor->digest != *ref.digest())
    throw Error(ErrorCode::integrity, fmt::format("{}: the registry answers for {}", call.what, descriptor->digest.string()));
  return *descriptor;
}

/// Erases @p domain's credentials from @p helper (if any); whether it kept some. A helper
/// that is not installed keeps nothing.
bool erase_from_helper(const std::optional<std::string>& helper, std::string_view domain,
                       std::chrono::milliseconds timeout) {
  if (!helper) return false;
  try {
    return registry_detail::erase_from_credential_helper(*helper, registry_detail::docker_server_address(domain),
                                                         timeout);
  } catch (const Error& e) {
    if (e.kind() == ErrorCode::not_found) return false;
    throw;
  }
}

}  // namespace

Registry::Registry(RegistryOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Registry::~Registry() = default;
Registry::Registry(Registry&&) noexcept = default;
Registry& Registry::operator=(Registry&&) noexcept = default;

const RegistryOptions& Registry::options() const noexcept { return impl_->client.options(); }

void Registry::ping(std::string_view registry) {
  in_context(fmt::format("ping {}", registry), [&] { registry_detail::ping_registry(impl_->client, registry_domain(registry)); });
}

ResolvedManifest Registry::resolve(const Reference& ref) {
  return in_context("resolve " + ref.string(),
                    [&] { return registry_detail::resolve_reference(impl_->client, ref, nullptr).document.resolved; });
}

Descriptor Registry::head(const Reference& ref) {
  return in_context("resolve " + ref.string(), [&] {
    const auto endpoints = impl_->client.endpoints(ref.domain(), true);
    for (std::size_t i = 0;; ++i) {
      try {
        return head_on(impl_->client, endpoints.at(i), ref);
      } catch (const Error&) {
        if (i + 1 == endpoints.size()) throw;  // a mirror's failure is skipped
      }
    }
  });
}

PullResult Registry::pull(const Reference& ref, ImageStore& store, const PullOptions& options) {
  return in_context("pull " + ref.string(), [&] { return registry_detail::pull_image(impl_->client, ref, store, options); });
}

PushResult Registry::push(ImageStore& store, const Reference& source, const Reference& destination,
                          const PushOptions& options) {
  return in_context(fmt::format("push {} to {}", source.string(), destination.string()), [&] {
    return registry_detail::push_image(impl_->client, store, source, destination, options);
  });
}

std::vector<std::string> Registry::tags(const Reference& repository, std::size_t page_size) {
  return in_context("list tags of " + repository.name(), [&] {
    return registry_detail::list_names(impl_->client, repository.domain(), registry_detail::tags_path(repository.path()),
                                       "tags", {registry_detail::pull_scope(repository.path())}, page_size);
  });
}

std::vector<std::string> Registry::catalog(std::string_view registry, std::size_t page_size) {
  return in_context(fmt::format("list repositories of {}", registry), [&] {
    return registry_detail::list_names(impl_->client, registry_domain(registry), registry_detail::catalog_path(),
                                       "repositories", {registry_detail::catalog_scope()}, page_size);
  });
}

void Registry::login(std::string_view registry, const Credentials& credentials) {
  in_context(fmt::format("login to {}", registry), [&] {
    const std::string domain = registry_domain(registry);
    if (credentials.empty()) throw Error(ErrorCode::invalid_argument, "no credentials given");
    registry_detail::check_login(impl_->client, domain, credentials);
    auto& store = impl_->client.credentials();
    const auto path = store.config_path();
    const std::string existing = registry_detail::read_small_file(path).value_or(std::string());
    // With a credential helper the secrets go to it, and the file keeps an empty entry
    // (as docker leaves it): a secret of an earlier login there is dropped.
    const auto helper = store.helper_for(domain);
    if (helper)
      registry_detail::store_in_credential_helper(*helper, registry_detail::docker_server_address(domain), credentials,
                                                  options().credential_helper_timeout);
    registry_detail::write_private_file(
        path, registry_detail::docker_config_with_login(existing, domain, helper ? Credentials{} : credentials));
    store.remember(domain, credentials);
    for (const auto& endpoint : impl_->client.endpoints(domain, false)) impl_->client.forget_auth(endpoint);
  });
}

bool Registry::logout(std::string_view registry) {
  return in_context(fmt::format("logout from {}", registry), [&] {
    const std::string domain = registry_domain(registry);
    auto& store = impl_->client.credentials();
    const auto path = store.config_path();
    const auto helper = store.helper_for(domain);
    const auto edited = registry_detail::docker_config_without_login(
        registry_detail::read_small_file(path).value_or(std::string()), domain);
    if (edited) registry_detail::write_private_file(path, *edited);
    store.forget(domain);
    for (const auto& endpoint : impl_->client.endpoints(domain, false)) impl_->client.forget_auth(endpoint);
    return erase_from_helper(helper, domain, options().credential_helper_timeout) || edited.has_value();
  });
}

}  // namespace v0
}  // namespace knast
