/// @file docker_config.hpp
/// @brief Private: docker's config.json as far as registry credentials go — reading
///        `auths`, `credsStore` and `credHelpers`, decoding `auth` fields, updating the
///        file on login and logout, and the credential helper protocol's JSON.
///
/// The parsing and editing functions are pure (text in, values or text out). Error
/// messages name the file and the key, never a value: values are secrets.
#pragma once

#include <knast/registry.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace registry_detail {

/// The credential-related parts of a docker config.json.
struct DockerConfig {
  /// `auths` entries that hold credentials, keyed by registry domain (normalize_registry()).
  /// Docker leaves empty entries (`{}`) behind when a credsStore keeps the secrets; those
  /// are not here.
  std::map<std::string, Credentials> auths;
  /// `credsStore`: the helper for every registry without a credHelpers entry.
  std::optional<std::string> creds_store;
  /// `credHelpers`: helper name by registry domain.
  std::map<std::string, std::string> cred_helpers;
};

/// Parses a docker config.json; @p origin (the path) names it in messages. An entry under
/// several spellings of one registry ("https://index.docker.io/v1/", "docker.io") is
/// taken from docker's canonical spelling when there is one.
/// @throws Error invalid_argument naming the key that is wrong.
DockerConfig parse_docker_config(std::string_view json, std::string_view origin);

/// Decodes an `auth` field: base64 of "user:password" (split at the first ':').
/// @throws Error invalid_argument ("not base64", "no ':'") without quoting the field.
Credentials decode_auth_field(std::string_view field);

/// The `auth` field for @p username and @p password.
std::string encode_auth_field(std::string_view username, std::string_view password);

/// The helper (the NAME of `docker-credential-NAME`) that keeps @p domain's credentials:
/// its credHelpers entry, else the credsStore, else nothing.
std::optional<std::string> credential_helper_for(const DockerConfig& config, std::string_view domain);

/// Where docker looks for config.json: `$DOCKER_CONFIG/config.json`, else
/// `$HOME/.docker/config.json`. Pass the variables' values (nullptr when unset).
/// @throws Error not_found when neither variable is set.
std::filesystem::path default_docker_config_path(const char* docker_config_env, const char* home_env);

/// @p existing (a config.json's text, "" for none) with @p domain's credentials set under
/// docker's server address for it and any other spelling of it removed; every other
/// field is kept. @throws Error invalid_argument if @p existing is not a JSON object.
std::string docker_config_with_login(std::string_view existing, std::string_view domain, const Credentials& credentials);

/// @p existing without any `auths` entry for @p domain, or nothing if there was none.
/// @throws Error invalid_argument if @p existing is not a JSON object.
std::optional<std::string> docker_config_without_login(std::string_view existing, std::string_view domain);

/// The answer of `docker-credential-NAME get`: `{"ServerURL":…,"Username":…,"Secret":…}`.
/// A Username of `<token>` makes Secret an identity token, as docker does.
/// @throws Error invalid_argument (without quoting the output).
Credentials parse_credential_helper_output(std::string_view json);

/// The input of `docker-credential-NAME store`: `{"ServerURL":…,"Username":…,"Secret":…}`,
/// an identity token as Username `<token>` (as parse_credential_helper_output() reads it).
std::string credential_helper_input(std::string_view server_address, const Credentials& credentials);

/// Whether a helper's output says it has no credentials for the server (rather than
/// that it failed): "credentials not found in native keychain".
bool credential_helper_not_found(std::string_view output);

/// The contents of the file at @p path, or nothing if it does not exist.
/// @throws Error io (or the errno's code) if it exists but cannot be read, limit_exceeded
///         above 1 MiB.
std::optional<std::string> read_small_file(const std::filesystem::path& path);

/// Replaces the file at @p path with @p contents atomically (a temporary file in the same
/// folder, fsynced, renamed over it) with mode 0600, creating the folder (0700) if needed.
/// @throws Error with the errno of what failed.
void write_private_file(const std::filesystem::path& path, std::string_view contents);

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
