// Other systems: no mounts.
#include "platform/mount.hpp"

#include <knast/error.hpp>

namespace knast::platform {

void mount(const MountStep& step) {
  throw Error(ErrorCode::unsupported, "mount " + step.fstype + ": knast has no mount executor for this OS");
}
UnmountResult unmount(const std::filesystem::path&) { return UnmountResult::not_mounted; }
bool is_mount_point(const std::filesystem::path&) { return false; }
bool filesystem_available(std::string_view) { return false; }

}  // namespace knast::platform
