// Pure edits of an OCI layout's index.json: names are the ref.name annotation of entries.
// No I/O here, so the rules are unit-tested directly.
#pragma once

#include <knast/oci.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// The ref.name annotation of an index.json entry, if it has one.
std::optional<std::string> ref_name(const Descriptor& entry);
/// The first entry named @p name.
std::optional<Descriptor> find_named(const Index& index, std::string_view name);
/// Points @p name at @p target: the first entry of that name is replaced in place (so the
/// order of index.json stays stable), any later duplicates are dropped (other tools may
/// have written them), or the entry is appended. @p target's other annotations are kept.
void set_named(Index& index, std::string_view name, Descriptor target);
/// Removes every entry named @p name; false if there was none.
bool remove_named(Index& index, std::string_view name);
/// Each name with its entry, sorted by name (for a duplicated name, the first entry).
std::vector<std::pair<std::string, Descriptor>> named_entries(const Index& index);

}  // namespace detail
}  // namespace v0
}  // namespace knast
