// Private: containers/<id>/rootfs.json, the record of what create() made, read by
// remove(), containers() and prune() in any process.
#pragma once

#include "rootfs/driver.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// Checks a container ID: `[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}` (so it is one safe path
/// component). @throws Error invalid_argument.
void check_container_id(std::string_view id);

/// Writes @p record to its dir/rootfs.json, atomically and only if there is none: the
/// claim on the id. False when the id is taken (another create() was first).
bool create_container_record(const ContainerRecord& record);
/// The record of container @p id; nothing when there is none or it cannot be read.
std::optional<ContainerRecord> read_container_record(const RootfsPaths& paths, std::string_view id);
/// Every readable record, sorted by ID.
std::vector<ContainerRecord> read_container_records(const RootfsPaths& paths);

}  // namespace detail
}  // namespace v0
}  // namespace knast
