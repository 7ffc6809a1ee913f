// The small operations: ping, tags and catalog with pagination, checking a login.
#include "registry/manifests.hpp"
#include "registry/operations.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace knast {
inline namespace v0 {
namespace registry_detail {
namespace {

using Json = nlohmann::json;

/// A tag list of a big repository is a few MiB; this is well beyond any real one.
constexpr std::size_t max_list_page = 16u << 20;
/// Pages followed before knast decides the registry is looping.
constexpr std::size_t max_list_pages = 100'000;

/// The origin endpoint of @p domain: listing and logging in never go to mirrors.
Endpoint registry_endpoint(const RegistryClient& client, std::string_view domain) {
  return client.endpoints(domain, false).back();
}

/// The strings of member @p key of a list page (null reads as empty, as distribution
/// answers for a repository without tags).
std::vector<std::string> page_names(std::string_view body, const std::string& key, std::string_view what) {
  const Json doc = Json::parse(body, nullptr, false);
  if (!doc.is_object()) throw Error(ErrorCode::network, fmt::format("{}: the answer is not a JSON object", what));
  const auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return {};
  if (!it->is_array()) throw Error(ErrorCode::network, fmt::format("{}: \"{}\" is not an array", what, key));
  std::vector<std::string> names;
  for (const auto& name : *it) {
    if (!name.is_string()) throw Error(ErrorCode::network, fmt::format("{}: \"{}\" holds a non-string", what, key));
    names.push_back(name.get<std::string>());
  }
  return names;
}

}  // namespace

std::vector<std::string> list_names(RegistryClient& client, std::string_view domain, const std::string& path,
                                    const std::string& key, const std::vector<std::string>& scopes, std::size_t page_size) {
  const Endpoint endpoint = registry_endpoint(client, domain);
  RegistryCall call;
  call.what = path;
  call.path = page_size ? add_query(path, fmt::format("n={}", page_size)) : path;
  call.scopes = scopes;
  std::vector<std::string> names;
  for (std::size_t pages = 0; pages < max_list_pages; ++pages) {
    BufferSink sink(max_list_page, call.what);
    const HttpResponse response = client.send(endpoint, call, &sink, nullptr);
    if (response.status != 200) throw status_error(call.what, response);
    for (auto& name : page_names(sink.body(), key, call.what)) names.push_back(std::move(name));
    const auto link = response.headers.get("Link");
    const auto next = link ? parse_link_next(*link) : std::nullopt;
    if (!next) return names;
    // The next page must come from the same server: it gets the same credentials.
    call.url = resolve_url(response.url, *next);
    if (parse_url(call.url).origin() != parse_url(response.url).origin())
      throw Error(ErrorCode::network, fmt::format("{}: the next page is on another server", call.what));
  }
  throw Error(ErrorCode::limit_exceeded, fmt::format("{}: more than {} pages", call.what, max_list_pages));
}

void ping_registry(RegistryClient& client, std::string_view domain) {
  RegistryCall call;
  call.what = "/v2/";
  call.path = "/v2/";
  const HttpResponse response = client.send(registry_endpoint(client, domain), call, nullptr, nullptr);
  if (response.status != 200) throw status_error(call.what, response);
}

void check_login(RegistryClient& client, std::string_view domain, const Credentials& credentials) {
  // A client of its own, knowing only these credentials: nothing cached or configured
  // can make the check pass in their stead.
  RegistryOptions options = client.options();
  options.use_docker_config = false;
  options.credentials = {{std::string(domain), credentials}};
  RegistryClient checker(std::move(options));
  ping_registry(checker, domain);
}

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
