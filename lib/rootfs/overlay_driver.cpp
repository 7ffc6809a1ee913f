// The overlay driver: a container root is an overlay mount with the chain's tree as its
// lower layer and containers/<id>/upper, work as its writable half.
#include "rootfs/overlay_driver.hpp"

#include "image_store/posix_io.hpp"
#include "platform/xattr.hpp"
#include "rootfs/diff.hpp"
#include "rootfs/driver.hpp"
#include "rootfs/tree_remove.hpp"
#include "rootfs/tree_walk.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

/// The merged root's own mode, owner, times and attributes are the upper directory's:
/// give it the chain root's, so the container sees the image's `/`.
void copy_root_attributes(const fs::path& from, const fs::path& to) {
  struct stat st {};
  if (::lstat(from.c_str(), &st) != 0) throw Error(errno, "stat " + from.string());
  if (::geteuid() == 0 && ::chown(to.c_str(), st.st_uid, st.st_gid) != 0) throw Error(errno, "chown " + to.string());
  for (const auto& attribute : platform::read_xattrs(from)) platform::write_xattr(to, attribute);
  if (::chmod(to.c_str(), st.st_mode & 07777) != 0) throw Error(errno, "chmod " + to.string());
  const struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(AT_FDCWD, to.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) throw Error(errno, "set times of " + to.string());
}

class OverlayDriver final : public DirectoryChains {
 public:
  using DirectoryChains::DirectoryChains;

  void prepare(const ContainerRecord& record) override {
    const fs::path upper = record.dir / "upper";
    const fs::path work = record.dir / "work";
    try {
      make_directory(upper);
      make_directory(work);
      make_directory(record.path);
      copy_root_attributes(paths_.chain_tree(record.chain_id), upper);
      platform::mount(overlay_mount_plan(paths_.chain_tree(record.chain_id), upper, work, record.path));
    } catch (const Error& e) {
      throw e.with_context(fmt::format("create container {}", record.id));
    }
  }

  void remove(const ContainerRecord& record) override {
    try {
      platform::unmount(record.path);
    } catch (const Error& e) {
      throw e.with_context(fmt::format("remove container {}", record.id));
    }
    if (platform::is_mount_point(record.path))
      throw Error(ErrorCode::busy, fmt::format("remove container {}: {} is still mounted", record.id, record.path.string()));
    delete_tree(record.path);
  }

  LayerDiff diff(const ContainerRecord& record, const fs::path& output, LayerCompression compression) const override {
    return write_overlay_diff(record.dir / "upper", output, compression);
  }
};

}  // namespace

std::unique_ptr<Driver> make_overlay_driver(const RootfsPaths& paths) {
  if (!platform::filesystem_available("overlay"))
    throw Error(ErrorCode::unsupported,
                "snapshot driver overlay: this kernel has no overlay file system (Linux only; try `modprobe overlay`, "
                "or use the directory driver)");
  return std::make_unique<OverlayDriver>(paths);
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
