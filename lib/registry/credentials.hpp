/// @file credentials.hpp
/// @brief Private: where a registry's credentials come from — the caller's explicit
///        ones, then docker's credential helpers, then config.json `auths` — looked up
///        lazily (only when a registry asks) and cached per registry.
#pragma once

#include "registry/docker_config.hpp"

#include <knast/registry.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace registry_detail {

/// Runs `docker-credential-@p helper get` for @p server_address and returns what it keeps,
/// or nothing when it says it has nothing. @throws Error auth if the helper fails or
/// answers nonsense, not_found if it is not installed.
std::optional<Credentials> run_credential_helper(std::string_view helper, std::string_view server_address,
                                                 std::chrono::milliseconds timeout);

/// Runs `docker-credential-@p helper store` to keep @p credentials for @p server_address.
/// @throws Error auth if the helper fails, not_found if it is not installed.
void store_in_credential_helper(std::string_view helper, std::string_view server_address,
                                const Credentials& credentials, std::chrono::milliseconds timeout);

/// Runs `docker-credential-@p helper erase` for @p server_address; false if the helper
/// says it kept nothing for it. @throws Error auth if the helper fails, not_found if it is
/// not installed.
bool erase_from_credential_helper(std::string_view helper, std::string_view server_address,
                                  std::chrono::milliseconds timeout);

/// What a lookup found, with a note for error messages when it found nothing although
/// something was configured (a helper that is not installed, say).
struct CredentialLookup {
  std::optional<Credentials> credentials;  ///< What to authenticate with; none: anonymous.
  std::string source;                      ///< "explicit", "docker-credential-pass", "/home/u/.docker/config.json".
  std::string note;                        ///< Why nothing was found, if that is worth saying.
};

/// The credentials of every registry a Registry talks to. Thread-safe.
class CredentialStore {
 public:
  /// Uses @p options (which must outlive the store).
  explicit CredentialStore(const RegistryOptions& options);

  /// The credentials for registry @p domain (a Reference domain, or a mirror's host).
  /// @throws Error invalid_argument for a malformed docker config, auth for a failing
  ///         credential helper.
  CredentialLookup lookup(std::string_view domain);

  /// Uses @p credentials for @p domain from now on (after login()).
  void remember(std::string_view domain, const Credentials& credentials);
  /// Forgets @p domain's credentials (after logout()): anonymous from now on.
  void forget(std::string_view domain);

  /// The docker config.json in use. @throws Error not_found if there is none to use.
  std::filesystem::path config_path() const;

  /// The credential helper (credHelpers entry, else credsStore) the docker config names
  /// for @p domain; nothing without one or when the docker config is not used.
  /// @throws Error invalid_argument for a malformed docker config.
  std::optional<std::string> helper_for(std::string_view domain);

 private:
  CredentialLookup find(const std::string& domain);
  const DockerConfig& docker_config();

  const RegistryOptions* options_;
  std::mutex mutex_;
  std::optional<DockerConfig> config_;
  std::map<std::string, CredentialLookup> cache_;
};

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
