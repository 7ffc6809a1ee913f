// The names of the snapshot drivers.
#include <knast/error.hpp>
#include <knast/rootfs.hpp>

#include <fmt/format.h>

namespace knast {
inline namespace v0 {

std::string_view to_string(SnapshotDriver driver) noexcept {
  switch (driver) {
    case SnapshotDriver::directory: return "directory";
    case SnapshotDriver::overlay: return "overlay";
    case SnapshotDriver::zfs: return "zfs";
  }
  return "directory";
}

SnapshotDriver parse_snapshot_driver(std::string_view name) {
  for (const auto driver : {SnapshotDriver::directory, SnapshotDriver::overlay, SnapshotDriver::zfs})
    if (name == to_string(driver)) return driver;
  throw Error(ErrorCode::invalid_argument,
              fmt::format("unknown snapshot driver \"{}\": use directory, overlay or zfs", name));
}

}  // namespace v0
}  // namespace knast
