#include "image_store/index_edit.hpp"

#include <knast/image_store.hpp>

#include <algorithm>
#include <map>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

bool is_named(const Descriptor& entry, std::string_view name) {
  const auto it = entry.annotations.find(std::string(ref_name_annotation));
  return it != entry.annotations.end() && it->second == name;
}

}  // namespace

std::optional<std::string> ref_name(const Descriptor& entry) {
  const auto it = entry.annotations.find(std::string(ref_name_annotation));
  if (it == entry.annotations.end()) return std::nullopt;
  return it->second;
}

std::optional<Descriptor> find_named(const Index& index, std::string_view name) {
  const auto& entries = index.manifests;
  const auto it = std::find_if(entries.begin(), entries.end(), [&](const Descriptor& e) { return is_named(e, name); });
  if (it == entries.end()) return std::nullopt;
  return *it;
}

void set_named(Index& index, std::string_view name, Descriptor target) {
  target.annotations[std::string(ref_name_annotation)] = std::string(name);
  auto& entries = index.manifests;
  const auto first = std::find_if(entries.begin(), entries.end(), [&](const Descriptor& e) { return is_named(e, name); });
  if (first == entries.end()) {
    entries.push_back(std::move(target));
    return;
  }
  *first = std::move(target);
  const auto duplicates = std::remove_if(std::next(first), entries.end(), [&](const Descriptor& e) { return is_named(e, name); });
  entries.erase(duplicates, entries.end());
}

bool remove_named(Index& index, std::string_view name) {
  return std::erase_if(index.manifests, [&](const Descriptor& e) { return is_named(e, name); }) > 0;
}

std::vector<std::pair<std::string, Descriptor>> named_entries(const Index& index) {
  std::map<std::string, Descriptor> named;  // emplace keeps the first entry of a name
  for (const auto& entry : index.manifests)
    if (auto name = ref_name(entry)) named.emplace(std::move(*name), entry);
  return {named.begin(), named.end()};
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
