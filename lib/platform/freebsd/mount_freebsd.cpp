// FreeBSD: nmount(2) with "fstype", "fspath", "from" and each "name=value" option as an
// iovec pair, unmount(2) (MNT_FORCE when busy), statfs(2) for what is mounted where.
#include "platform/mount.hpp"

#include <knast/error.hpp>

#include <sys/param.h>
#include <sys/mount.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace knast::platform {
namespace {

/// The name/value strings of an nmount(2) call; iovecs point into them, so they are kept
/// here, each with its terminating NUL (nmount counts it in iov_len).
class MountArgs {
 public:
  void add(std::string name, std::string value) { pairs_.emplace_back(std::move(name), std::move(value)); }
  std::vector<iovec> iovecs() {
    std::vector<iovec> out;
    for (auto& [name, value] : pairs_) {
      iovec n{};
      n.iov_base = name.data();
      n.iov_len = name.size() + 1;
      iovec v{};
      v.iov_base = value.data();
      v.iov_len = value.size() + 1;
      out.push_back(n);
      out.push_back(v);
    }
    return out;
  }

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;
};

}  // namespace

void mount(const MountStep& step) {
  MountArgs args;
  args.add("fstype", step.fstype);
  args.add("fspath", step.target.string());
  args.add("from", step.source);
  std::string_view options = step.options;
  while (!options.empty()) {
    const auto comma = options.find(',');
    const std::string_view option = options.substr(0, comma);
    options = comma == std::string_view::npos ? std::string_view{} : options.substr(comma + 1);
    if (option.empty()) continue;
    const auto eq = option.find('=');
    args.add(std::string(option.substr(0, eq)), eq == std::string_view::npos ? "" : std::string(option.substr(eq + 1)));
  }
  std::vector<iovec> iov = args.iovecs();
  char errmsg[255] = {};
  iovec e_name{}, e_value{};
  static char errmsg_name[] = "errmsg";
  e_name.iov_base = errmsg_name;
  e_name.iov_len = sizeof errmsg_name;
  e_value.iov_base = errmsg;
  e_value.iov_len = sizeof errmsg;
  iov.push_back(e_name);
  iov.push_back(e_value);
  if (::nmount(iov.data(), static_cast<unsigned>(iov.size()), 0) != 0) {
    const int err = errno;
    throw Error(err, "mount " + step.fstype + " on " + step.target.string() + (errmsg[0] ? ": " + std::string(errmsg) : ""));
  }
}

UnmountResult unmount(const std::filesystem::path& target) {
  if (!is_mount_point(target)) return UnmountResult::not_mounted;
  if (::unmount(target.c_str(), 0) == 0) return UnmountResult::unmounted;
  if (errno != EBUSY) throw Error(errno, "unmount " + target.string());
  if (::unmount(target.c_str(), MNT_FORCE) == 0) return UnmountResult::detached;
  throw Error(errno, "unmount (force) " + target.string());
}

bool is_mount_point(const std::filesystem::path& target) {
  struct statfs info {};
  if (::statfs(target.c_str(), &info) != 0) return false;
  return target.string() == info.f_mntonname;
}

bool filesystem_available(std::string_view fstype) {
  struct xvfsconf conf {};
  return ::getvfsbyname(std::string(fstype).c_str(), &conf) == 0;
}

}  // namespace knast::platform
