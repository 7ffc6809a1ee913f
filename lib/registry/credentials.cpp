#include "registry/credentials.hpp"

#include "registry/endpoint.hpp"
#include "registry/http_parse.hpp"
#include "registry/subprocess.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

#include <cstdlib>

namespace knast {
inline namespace v0 {
namespace registry_detail {
namespace {

/// The first line of a helper's complaint, cut: enough to act on, too little to leak much.
std::string first_line(std::string_view text) {
  text = trim_ows(text.substr(0, text.find('\n')));
  return quote_header(text);
}

/// Runs `docker-credential-@p helper @p action` with @p input on stdin; nothing when the
/// helper says it keeps no credentials for the server, else its output.
/// @throws Error auth if it fails, not_found if it is not installed.
std::optional<std::string> run_helper(std::string_view helper, const char* action, std::string_view input,
                                      std::chrono::milliseconds timeout) {
  const std::string program = "docker-credential-" + std::string(helper);
  ProcessResult result;
  try {
    result = run_process({program, action}, input, timeout);
  } catch (const Error& e) {
    if (e.kind() == ErrorCode::not_found) throw;
    throw Error(ErrorCode::auth, fmt::format("credential helper {}: {}", program, e.what()));
  }
  if (result.exit_code != 0) {
    if (credential_helper_not_found(result.out) || credential_helper_not_found(result.err)) return std::nullopt;
    const std::string_view complaint = trim_ows(result.err).empty() ? result.out : result.err;
    throw Error(ErrorCode::auth, fmt::format("credential helper {} {} failed (exit status {}): {}", program, action,
                                             result.exit_code, first_line(complaint)));
  }
  return std::move(result.out);
}

}  // namespace

std::optional<Credentials> run_credential_helper(std::string_view helper, std::string_view server_address,
                                                 std::chrono::milliseconds timeout) {
  const auto output = run_helper(helper, "get", server_address, timeout);
  if (!output) return std::nullopt;
  try {
    return parse_credential_helper_output(*output);
  } catch (const Error& e) {
    throw Error(ErrorCode::auth, fmt::format("credential helper docker-credential-{}: {}", helper, e.what()));
  }
}

void store_in_credential_helper(std::string_view helper, std::string_view server_address,
                                const Credentials& credentials, std::chrono::milliseconds timeout) {
  if (!run_helper(helper, "store", credential_helper_input(server_address, credentials), timeout))
    throw Error(ErrorCode::auth, fmt::format("credential helper docker-credential-{} store failed", helper));
}

bool erase_from_credential_helper(std::string_view helper, std::string_view server_address,
                                  std::chrono::milliseconds timeout) {
  return run_helper(helper, "erase", server_address, timeout).has_value();
}

CredentialStore::CredentialStore(const RegistryOptions& options) : options_(&options) {}

std::filesystem::path CredentialStore::config_path() const {
  if (options_->docker_config) return *options_->docker_config;
  return default_docker_config_path(std::getenv("DOCKER_CONFIG"), std::getenv("HOME"));
}

std::optional<std::string> CredentialStore::helper_for(std::string_view domain) {
  if (!options_->use_docker_config) return std::nullopt;
  const std::lock_guard lock(mutex_);
  return credential_helper_for(docker_config(), normalize_registry(domain));
}

const DockerConfig& CredentialStore::docker_config() {
  if (config_) return *config_;
  std::optional<std::string> text;
  std::filesystem::path path;
  try {
    path = config_path();
    text = read_small_file(path);
  } catch (const Error& e) {
    // No HOME, or no file: no credentials, as with docker.
    if (e.kind() != ErrorCode::not_found) throw;
  }
  config_ = text ? parse_docker_config(*text, path.string()) : DockerConfig{};
  return *config_;
}

CredentialLookup CredentialStore::lookup(std::string_view domain) {
  const std::lock_guard lock(mutex_);
  const std::string key = normalize_registry(domain);
  const auto cached = cache_.find(key);
  if (cached != cache_.end()) return cached->second;
  CredentialLookup found = find(key);
  cache_[key] = found;
  return found;
}

CredentialLookup CredentialStore::find(const std::string& domain) {
  for (const auto& [registry, credentials] : options_->credentials)
    if (normalize_registry(registry) == domain) return {credentials, "explicit", ""};
  if (!options_->use_docker_config) return {};
  const DockerConfig& config = docker_config();
  CredentialLookup out;
  if (const auto helper = credential_helper_for(config, domain)) {
    try {
      if (auto credentials =
              run_credential_helper(*helper, docker_server_address(domain), options_->credential_helper_timeout))
        return {std::move(credentials), "docker-credential-" + *helper, ""};
    } catch (const Error& e) {
      // A helper named in a config copied from another machine is a common sight; the
      // file's own entries (if any) still work, and a 401 will carry this note.
      if (e.kind() != ErrorCode::not_found) throw;
      out.note = fmt::format("credential helper docker-credential-{} is not installed", *helper);
    }
  }
  const auto entry = config.auths.find(domain);
  if (entry != config.auths.end()) return {entry->second, config_path().string(), ""};
  return out;
}

void CredentialStore::remember(std::string_view domain, const Credentials& credentials) {
  const std::lock_guard lock(mutex_);
  cache_[normalize_registry(domain)] = CredentialLookup{credentials, "login", ""};
}

void CredentialStore::forget(std::string_view domain) {
  const std::lock_guard lock(mutex_);
  cache_[normalize_registry(domain)] = CredentialLookup{};
}

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
