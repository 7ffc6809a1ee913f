#include "registry/docker_config.hpp"

#include "registry/base64.hpp"
#include "registry/endpoint.hpp"
#include "registry/http_parse.hpp"

#include "image_store/posix_io.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace knast {
inline namespace v0 {
namespace registry_detail {
namespace {

using Json = nlohmann::json;

constexpr std::size_t max_config_file = 1u << 20;

[[noreturn]] void config_error(std::string_view origin, std::string_view key, std::string_view problem) {
  throw Error(ErrorCode::invalid_argument, fmt::format("docker config {}: {}: {}", origin, key, problem));
}

Json parse_object(std::string_view json, std::string_view origin) {
  Json doc = Json::parse(json, nullptr, false);
  if (doc.is_discarded()) config_error(origin, "(document)", "not valid JSON");
  if (!doc.is_object()) config_error(origin, "(document)", "not a JSON object");
  return doc;
}

/// Member @p key of @p object as a string; "" if absent or null.
std::string string_member(const Json& object, const char* key, std::string_view origin, const std::string& path) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  if (!it->is_string()) config_error(origin, path + "." + key, "must be a string");
  return it->get<std::string>();
}

Credentials decode_entry(const Json& entry, std::string_view origin, const std::string& path) {
  if (!entry.is_object()) config_error(origin, path, "must be an object");
  Credentials out;
  out.username = string_member(entry, "username", origin, path);
  out.password = string_member(entry, "password", origin, path);
  out.identity_token = string_member(entry, "identitytoken", origin, path);
  const std::string auth = string_member(entry, "auth", origin, path);
  if (!auth.empty()) {
    try {
      const Credentials decoded = decode_auth_field(auth);
      out.username = decoded.username;
      out.password = decoded.password;
    } catch (const Error& e) {
      config_error(origin, path + ".auth", e.what());
    }
  }
  return out;
}

/// Whether @p key is the spelling docker itself writes for the registry it names.
bool is_canonical_key(std::string_view key) {
  return key == docker_server_address(normalize_registry(key));
}

std::map<std::string, std::string> read_helpers(const Json& doc, std::string_view origin) {
  std::map<std::string, std::string> out;
  const auto it = doc.find("credHelpers");
  if (it == doc.end() || it->is_null()) return out;
  if (!it->is_object()) config_error(origin, "credHelpers", "must be an object");
  for (const auto& [key, value] : it->items()) {
    if (!value.is_string()) config_error(origin, "credHelpers." + key, "must be a string");
    out[normalize_registry(key)] = value.get<std::string>();
  }
  return out;
}

/// Removes every `auths` key that names @p domain; returns whether any was there.
bool erase_auths_for(Json& doc, std::string_view domain) {
  const auto auths = doc.find("auths");
  if (auths == doc.end() || !auths->is_object()) return false;
  bool erased = false;
  for (auto it = auths->begin(); it != auths->end();) {
    if (normalize_registry(it.key()) == domain) {
      it = auths->erase(it);
      erased = true;
    } else {
      ++it;
    }
  }
  return erased;
}

/// Removes a temporary file when a write fails half-way, unless released.
class RemoveOnExit {
 public:
  explicit RemoveOnExit(std::filesystem::path path) : path_(std::move(path)) {}
  ~RemoveOnExit() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  RemoveOnExit(const RemoveOnExit&) = delete;
  RemoveOnExit& operator=(const RemoveOnExit&) = delete;
  void release() noexcept { path_.clear(); }

 private:
  std::filesystem::path path_;
};

/// Docker's convention: a helper keeps an identity token under this user name.
constexpr std::string_view identity_token_username = "<token>";

/// Docker writes its config with tab indentation; so do we, so diffs stay small.
std::string dump_config(const Json& doc) { return doc.dump(1, '\t') + "\n"; }

}  // namespace

Credentials decode_auth_field(std::string_view field) {
  const auto decoded = base64_decode(field);
  if (!decoded) throw Error(ErrorCode::invalid_argument, "not valid base64");
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) throw Error(ErrorCode::invalid_argument, "does not hold \"user:password\"");
  Credentials out;
  out.username = decoded->substr(0, colon);
  out.password = decoded->substr(colon + 1);
  return out;
}

std::string encode_auth_field(std::string_view username, std::string_view password) {
  return base64_encode(std::string(username) + ":" + std::string(password));
}

DockerConfig parse_docker_config(std::string_view json, std::string_view origin) {
  const Json doc = parse_object(json, origin);
  DockerConfig out;
  out.cred_helpers = read_helpers(doc, origin);
  const std::string store = string_member(doc, "credsStore", origin, "");
  if (!store.empty()) out.creds_store = store;
  const auto auths = doc.find("auths");
  if (auths == doc.end() || auths->is_null()) return out;
  if (!auths->is_object()) config_error(origin, "auths", "must be an object");
  std::map<std::string, bool> from_canonical;
  for (const auto& [key, entry] : auths->items()) {
    Credentials credentials = decode_entry(entry, origin, "auths." + quote_header(key));
    if (credentials.empty()) continue;
    const std::string domain = normalize_registry(key);
    const bool canonical = is_canonical_key(key);
    const auto known = from_canonical.find(domain);
    if (known != from_canonical.end() && (known->second || !canonical)) continue;
    out.auths[domain] = std::move(credentials);
    from_canonical[domain] = canonical;
  }
  return out;
}

std::optional<std::string> credential_helper_for(const DockerConfig& config, std::string_view domain) {
  const auto it = config.cred_helpers.find(std::string(domain));
  if (it != config.cred_helpers.end()) return it->second;
  return config.creds_store;
}

std::filesystem::path default_docker_config_path(const char* docker_config_env, const char* home_env) {
  if (docker_config_env && *docker_config_env) return std::filesystem::path(docker_config_env) / "config.json";
  if (home_env && *home_env) return std::filesystem::path(home_env) / ".docker" / "config.json";
  throw Error(ErrorCode::not_found, "no docker config: neither DOCKER_CONFIG nor HOME is set");
}

std::string docker_config_with_login(std::string_view existing, std::string_view domain, const Credentials& credentials) {
  Json doc = existing.empty() ? Json::object() : parse_object(existing, "(existing)");
  erase_auths_for(doc, domain);
  if (!doc.contains("auths") || !doc["auths"].is_object()) doc["auths"] = Json::object();
  Json entry = Json::object();
  if (!credentials.username.empty() || !credentials.password.empty())
    entry["auth"] = encode_auth_field(credentials.username, credentials.password);
  if (!credentials.identity_token.empty()) entry["identitytoken"] = credentials.identity_token;
  doc["auths"][docker_server_address(domain)] = std::move(entry);
  return dump_config(doc);
}

std::optional<std::string> docker_config_without_login(std::string_view existing, std::string_view domain) {
  if (existing.empty()) return std::nullopt;
  Json doc = parse_object(existing, "(existing)");
  if (!erase_auths_for(doc, domain)) return std::nullopt;
  return dump_config(doc);
}

Credentials parse_credential_helper_output(std::string_view json) {
  const Json doc = Json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    throw Error(ErrorCode::invalid_argument, "credential helper output is not a JSON object");
  const auto field = [&](const char* key) {
    const auto it = doc.find(key);
    if (it == doc.end() || !it->is_string())
      throw Error(ErrorCode::invalid_argument, fmt::format("credential helper output has no string {}", key));
    return it->get<std::string>();
  };
  Credentials out;
  const std::string username = field("Username");
  if (username == identity_token_username) {
    out.identity_token = field("Secret");
  } else {
    out.username = username;
    out.password = field("Secret");
  }
  return out;
}

std::string credential_helper_input(std::string_view server_address, const Credentials& credentials) {
  const bool token = !credentials.identity_token.empty();
  Json doc = Json::object();
  doc["ServerURL"] = server_address;
  doc["Username"] = token ? std::string(identity_token_username) : credentials.username;
  doc["Secret"] = token ? credentials.identity_token : credentials.password;
  return doc.dump();
}

bool credential_helper_not_found(std::string_view output) {
  return output.find("credentials not found in native keychain") != std::string_view::npos;
}

std::optional<std::string> read_small_file(const std::filesystem::path& path) {
  const detail::UniqueFd fd = detail::open_if_exists(path, O_RDONLY);
  if (!fd) return std::nullopt;
  return detail::read_all(fd, max_config_file, path);
}

void write_private_file(const std::filesystem::path& path, std::string_view contents) {
  const std::filesystem::path folder = path.parent_path().empty() ? "." : path.parent_path();
  if (::mkdir(folder.c_str(), 0700) != 0 && errno != EEXIST)
    throw Error(errno, fmt::format("cannot create {}", folder.string()));
  // A temporary name of our own in the same folder, created 0600 from the start (the
  // umask can only narrow that): the secrets are never readable by others, not even
  // for a moment.
  const std::filesystem::path temp = folder / ("." + path.filename().string() + "." + detail::unique_name());
  RemoveOnExit cleanup(temp);
  {
    const detail::UniqueFd fd = detail::open_file(temp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    detail::write_all(fd, contents.data(), contents.size(), temp);
    if (::fchmod(fd.get(), 0600) != 0) throw Error(errno, fmt::format("cannot chmod {}", temp.string()));
    detail::sync_file(fd, temp);
  }
  detail::rename_durably(temp, path);
  cleanup.release();
}

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
