// Linux: mount(2) with the options string as the data argument, umount2(2), and
// /proc/self/mountinfo for what is mounted where.
#include "platform/mount.hpp"

#include "core/text.hpp"

#include <knast/error.hpp>

#include <sys/mount.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace knast::platform {
void mount(const MountStep& step) {
  if (::mount(step.source.c_str(), step.target.c_str(), step.fstype.c_str(), 0, step.options.c_str()) != 0)
    throw Error(errno, "mount " + step.fstype + " on " + step.target.string() + " (options " + step.options + ")");
}

UnmountResult unmount(const std::filesystem::path& target) {
  if (::umount2(target.c_str(), UMOUNT_NOFOLLOW) == 0) return UnmountResult::unmounted;
  if (errno == EINVAL || errno == ENOENT) return UnmountResult::not_mounted;
  if (errno != EBUSY) throw Error(errno, "unmount " + target.string());
  if (::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) return UnmountResult::detached;
  throw Error(errno, "unmount (detach) " + target.string());
}

bool is_mount_point(const std::filesystem::path& target) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw": field 5 is the mount point.
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point;
    if (fields >> id >> parent >> device >> root >> mount_point && detail::unescape_mountinfo(mount_point) == target.string())
      return true;
  }
  return false;
}

bool filesystem_available(std::string_view fstype) {
  std::ifstream in("/proc/filesystems");
  std::string line;
  while (std::getline(in, line)) {
    const auto tab = line.rfind('\t');
    if (line.substr(tab == std::string::npos ? 0 : tab + 1) == fstype) return true;
  }
  return false;
}

}  // namespace knast::platform
