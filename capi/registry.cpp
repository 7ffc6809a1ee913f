// C ABI for the registry client. Progress callbacks are called on the caller's thread; a
// nonzero return cancels, which the C++ side sees as a `false` from its callback.
#include "guard.hpp"
#include "handles.hpp"

#include <knast/registry.hpp>

#include <climits>
#include <memory>
#include <string>
#include <vector>

namespace {

using knast::capi::guard;
using knast::capi::owned_string;
using knast::capi::require;

constexpr knast_registry_options default_registry_options = KNAST_REGISTRY_OPTIONS_INIT;
constexpr knast_pull_options default_pull_options = KNAST_PULL_OPTIONS_INIT;
constexpr knast_push_options default_push_options = KNAST_PUSH_OPTIONS_INIT;

std::string text_or_empty(const char* text) { return text != nullptr ? std::string(text) : std::string(); }

template <typename Item>
const Item* items_of(const Item* items, size_t count, const char* what) {
  if (count > 0) require(items, what);
  return items;
}

knast::RegistryOptions registry_options(const knast_registry_options& c) {
  knast::RegistryOptions o;
  if (c.docker_config != nullptr) o.docker_config = c.docker_config;
  o.use_docker_config = c.ignore_docker_config == 0;
  const auto* credentials = items_of(c.credentials, c.credential_count, "opts->credentials");
  for (size_t i = 0; i < c.credential_count; ++i) {
    require(credentials[i].registry, "credential registry");
    o.credentials[credentials[i].registry] = {text_or_empty(credentials[i].username),
                                              text_or_empty(credentials[i].password),
                                              text_or_empty(credentials[i].identity_token)};
  }
  const auto* insecure = items_of(c.insecure_registries, c.insecure_registry_count, "opts->insecure_registries");
  for (size_t i = 0; i < c.insecure_registry_count; ++i) {
    require(insecure[i], "insecure registry");
    o.insecure_registries.emplace_back(insecure[i]);
  }
  const auto* mirrors = items_of(c.mirrors, c.mirror_count, "opts->mirrors");
  for (size_t i = 0; i < c.mirror_count; ++i) {
    require(mirrors[i].registry, "mirror registry");
    require(mirrors[i].endpoint, "mirror endpoint");
    o.mirrors[mirrors[i].registry].emplace_back(mirrors[i].endpoint);
  }
  if (c.ca_file != nullptr) o.ca_file = c.ca_file;
  if (c.client_certificate != nullptr || c.client_key != nullptr) {
    require(c.client_certificate, "opts->client_certificate");
    require(c.client_key, "opts->client_key");
    o.client_certificate = knast::ClientCertificate{c.client_certificate, c.client_key};
  }
  if (c.jobs != 0) o.jobs = c.jobs;
  if (c.retries != UINT32_MAX) o.retries = c.retries;
  if (c.connect_timeout_ms != 0) o.connect_timeout = std::chrono::milliseconds(c.connect_timeout_ms);
  if (c.user_agent != nullptr) o.user_agent = c.user_agent;
  return o;
}

// Adapts a C callback to the C++ one; the strings live for the call only, as documented.
knast::ProgressCallback progress_adapter(knast_progress_cb callback, void* payload) {
  if (callback == nullptr) return {};
  return [callback, payload](const knast::Progress& p) {
    const std::string digest = p.digest.string();
    const knast_progress view{digest.c_str(), p.media_type.c_str(), static_cast<uint32_t>(p.state),
                              p.bytes_done, p.bytes_total, p.total_bytes_done, p.total_bytes,
                              p.blobs_done, p.blobs_total};
    return callback(&view, payload) == 0;
  };
}

std::optional<knast::Platform> platform_of(const char* text) {
  if (text == nullptr) return std::nullopt;
  return knast::Platform::parse(text);
}

}  // namespace

knast::PullOptions knast::capi::pull_options_from(const knast_pull_options* opts) {
  const auto c = knast::capi::options_or_default(opts, default_pull_options);
  knast::PullOptions options;
  options.platform = platform_of(c.platform);
  options.all_platforms = c.all_platforms != 0;
  options.jobs = c.jobs;
  options.progress = progress_adapter(c.progress, c.payload);
  return options;
}

extern "C" {

knast_status knast_registry_options_init(knast_registry_options* opts, unsigned int version) {
  return guard([&] { knast::capi::init_options(opts, version, default_registry_options); });
}

knast_status knast_registry_new(knast_registry** out, const knast_registry_options* opts) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    const auto options = knast::capi::options_or_default(opts, default_registry_options);
    *out = new knast_registry{knast::Registry(registry_options(options))};
  });
}

void knast_registry_free(knast_registry* registry) { delete registry; }

knast_status knast_pull_options_init(knast_pull_options* opts, unsigned int version) {
  return guard([&] { knast::capi::init_options(opts, version, default_pull_options); });
}

knast_status knast_registry_pull(char** digest, knast_registry* registry, knast_image_store* store,
                                 const char* reference, const knast_pull_options* opts) {
  return guard([&] {
    if (digest != nullptr) *digest = nullptr;
    require(registry, "registry");
    require(store, "store");
    require(reference, "reference");
    auto result = registry->registry.pull(knast::Reference::parse(reference), store->store,
                                          knast::capi::pull_options_from(opts));
    if (digest != nullptr) *digest = owned_string(result.target.digest.string());
  });
}

knast_status knast_push_options_init(knast_push_options* opts, unsigned int version) {
  return guard([&] { knast::capi::init_options(opts, version, default_push_options); });
}

knast_status knast_registry_push(char** digest, knast_registry* registry, knast_image_store* store, const char* source,
                                 const char* destination, const knast_push_options* opts) {
  return guard([&] {
    if (digest != nullptr) *digest = nullptr;
    require(registry, "registry");
    require(store, "store");
    require(source, "source");
    require(destination, "destination");
    const auto c = knast::capi::options_or_default(opts, default_push_options);
    knast::PushOptions options;
    options.platform = platform_of(c.platform);
    options.jobs = c.jobs;
    options.chunk_size = c.chunk_size;
    options.mount = c.no_mount == 0;
    options.progress = progress_adapter(c.progress, c.payload);
    auto result = registry->registry.push(store->store, knast::Reference::parse(source),
                                          knast::Reference::parse(destination), options);
    if (digest != nullptr) *digest = owned_string(result.target.digest.string());
  });
}

knast_status knast_registry_resolve(char** digest, char** document, knast_registry* registry, const char* reference) {
  return guard([&] {
    require(digest, "digest");
    *digest = nullptr;
    if (document != nullptr) *document = nullptr;
    require(registry, "registry");
    require(reference, "reference");
    auto resolved = registry->registry.resolve(knast::Reference::parse(reference));
    // Both strings are made before either is handed out, so a failure leaks neither.
    std::unique_ptr<char, decltype(&knast_string_free)> bytes(
        document != nullptr ? owned_string(resolved.bytes) : nullptr, &knast_string_free);
    *digest = owned_string(resolved.descriptor.digest.string());
    if (document != nullptr) *document = bytes.release();
  });
}

knast_status knast_registry_tags(char** tags, knast_registry* registry, const char* repository) {
  return guard([&] {
    require(tags, "tags");
    *tags = nullptr;
    require(registry, "registry");
    require(repository, "repository");
    std::string lines;
    for (const auto& tag : registry->registry.tags(knast::Reference::parse(repository))) lines += tag + '\n';
    *tags = owned_string(lines);
  });
}

knast_status knast_registry_login(knast_registry* registry, const char* registry_name, const char* username,
                                  const char* password) {
  return guard([&] {
    require(registry, "registry");
    require(registry_name, "registry_name");
    require(username, "username");
    require(password, "password");
    registry->registry.login(registry_name, knast::Credentials{username, password, {}});
  });
}

knast_status knast_registry_logout(int* removed, knast_registry* registry, const char* registry_name) {
  return guard([&] {
    require(registry, "registry");
    require(registry_name, "registry_name");
    const bool had = registry->registry.logout(registry_name);
    if (removed != nullptr) *removed = had ? 1 : 0;
  });
}

}  // extern "C"
