/// @file operations.hpp
/// @brief Private: the operations behind the Registry methods, each a function of the
///        shared RegistryClient. Registry's methods add the "pull <ref>: " context.
#pragma once

#include "registry/client.hpp"

#include <knast/image_store.hpp>
#include <knast/registry.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace registry_detail {

/// Registry::pull.
PullResult pull_image(RegistryClient& client, const Reference& ref, ImageStore& store, const PullOptions& options);

/// Registry::push.
PushResult push_image(RegistryClient& client, ImageStore& store, const Reference& source, const Reference& destination,
                      const PushOptions& options);

/// Registry::tags and Registry::catalog: the names of a paginated list at @p path
/// (under @p key: "tags" or "repositories").
std::vector<std::string> list_names(RegistryClient& client, std::string_view domain, const std::string& path,
                                    const std::string& key, const std::vector<std::string>& scopes, std::size_t page_size);

/// Registry::login: checks @p credentials against @p domain's /v2/.
void check_login(RegistryClient& client, std::string_view domain, const Credentials& credentials);

/// Registry::ping.
void ping_registry(RegistryClient& client, std::string_view domain);

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
