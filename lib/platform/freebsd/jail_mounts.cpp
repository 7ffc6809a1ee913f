// Mounts of a jail: mount points made inside the root without following symlinks,
// nmount(2) of each planned MountStep, unmount(2) by file-system id (MNT_BYFSID) in
// reverse, and the devfs ruleset defined with the devfs rule ioctls (FREEBSD.md §2, §3).
//
// Why the ioctls and not devfs(8): they are what devfs(8) itself calls, they report
// EEXIST/ENOENT precisely (so a ruleset someone else defined differently is detected), and
// the supervisor needs no program of the host and no shell quoting.
//
// Why mounting by path is safe here: at mount time the jail has no process yet, so nothing
// can swap a checked directory for a symlink before nmount(2) resolves the same path.
// Later the jail's processes can rename and relink freely, which is why teardown unmounts
// by file-system id rather than by a path that may lead elsewhere by then.
#include "platform/freebsd/jail_freebsd.hpp"

#include "jail/jail_plan.hpp"
#include "linuxulator/root_paths.hpp"

#include <knast/error.hpp>
#include <knast/linuxulator.hpp>

#include <sys/param.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <fs/devfs/devfs.h>
#include <fcntl.h>

#include <fmt/format.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace knast::platform::freebsd {
namespace {

using detail::UniqueFd;

std::string host_path(const std::string& root, const std::string& target) {
  return target == "/" ? root : root + target;
}

UniqueFd open_root(const std::string& root) {
  UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw Error(errno, "open the container root " + root);
  return fd;
}

// What a nullfs source is: a directory or a regular file. A UNIX socket cannot be a
// nullfs source (null_vfsops.c refuses anything but directories and regular files), and
// mounting its parent directory instead would show the container every other file there
// and move the socket to another path, so knast refuses it and says what works.
bool nullfs_source_is_file(const MountStep& m) {
  struct stat st {};
  if (::stat(m.source.c_str(), &st) != 0)
    throw Error(errno, fmt::format("volume {} for {}: the source cannot be used", m.source, m.target));
  if (S_ISDIR(st.st_mode)) return false;
  if (S_ISREG(st.st_mode)) return true;
  if (S_ISSOCK(st.st_mode))
    throw Error(ErrorCode::invalid_argument,
                fmt::format("volume {} for {}: a UNIX socket cannot be a nullfs mount source on FreeBSD; mount the "
                            "directory that holds it instead (e.g. -v /var/run/app:/var/run/app)",
                            m.source, m.target));
  throw Error(ErrorCode::invalid_argument,
              fmt::format("volume {} for {}: nullfs mounts directories and regular files only", m.source, m.target));
}

// Checks that @p target exists inside the root with no symlink on the way.
void check_mount_point(int root_fd, const std::string& target, bool is_file) {
  if (target == "/") return;
  if (is_file) {
    UniqueFd fd = detail::open_file_beneath(root_fd, target, O_RDONLY);
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
      throw Error(ErrorCode::invalid_argument, "mount point " + target + " is not a regular file inside the root");
  } else {
    detail::open_directory_beneath(root_fd, detail::root_path_components(target), false);
  }
}

std::string fsid_text(const fsid_t& fsid) {
  return fmt::format("FSID:{}:{}", fsid.val[0], fsid.val[1]);
}

// unmount(2) of @p m by its id (by path when no id was recorded), MNT_FORCE when busy.
// Returns "" or the failure; a file system already gone is no failure.
std::string unmount_one(const Mounted& m) {
  const bool by_id = m.fsid.val[0] != 0 || m.fsid.val[1] != 0;
  const std::string name = by_id ? fsid_text(m.fsid) : m.path;
  const int base = by_id ? static_cast<int>(MNT_BYFSID) : 0;
  if (::unmount(name.c_str(), base) == 0) return {};
  if (errno == ENOENT || (!by_id && errno == EINVAL)) return {};
  if (errno == EBUSY && ::unmount(name.c_str(), base | static_cast<int>(MNT_FORCE)) == 0) return {};
  return fmt::format("unmount {} ({}): {}", m.path, name, std::strerror(errno));
}

}  // namespace

void MountStack::mount(const MountStep& step, const std::string& root) {
  const std::string target = host_path(root, step.target);
  const bool is_file = step.fstype == "nullfs" && step.target != "/" && nullfs_source_is_file(step);
  {
    UniqueFd root_fd = open_root(root);
    check_mount_point(root_fd.get(), step.target, is_file);
  }
  IovecList iov;
  iov.add_string("fstype", step.fstype);
  iov.add_string("fspath", target);
  iov.add_string("from", step.source);
  if (has_flag(step.flags, MountFlags::read_only)) iov.add_flag("ro");
  if (has_flag(step.flags, MountFlags::nosuid)) iov.add_flag("nosuid");
  if (has_flag(step.flags, MountFlags::noexec)) iov.add_flag("noexec");
  for (const auto& [key, value] : step.options) {
    if (value.empty()) iov.add_flag(key);
    else iov.add_string(key, value);
  }
  iov.add_errmsg();
  if (::nmount(iov.data(), iov.size(), 0) != 0) {
    const int err = errno;
    const std::string message = iov.errmsg();
    throw Error(err, fmt::format("mount -t {} {} {}: {}", step.fstype, step.source, target,
                                 message.empty() ? std::strerror(err) : message));
  }
  // The file system now at the target is the one just mounted (nothing else mounts there
  // meanwhile); its id survives whatever the jail later does to the path.
  Mounted mounted{target, {}};
  struct statfs info {};
  if (::statfs(target.c_str(), &info) == 0 && step.fstype == info.f_fstypename) mounted.fsid = info.f_fsid;
  mounted_.push_back(mounted);
}

std::string MountStack::unmount_all() noexcept {
  std::string first_failure;
  while (!mounted_.empty()) {
    std::string failure;
    try {
      failure = unmount_one(mounted_.back());
    } catch (...) {
      failure = "unmount " + mounted_.back().path + ": out of memory";
    }
    if (first_failure.empty()) first_failure = failure;
    mounted_.pop_back();
  }
  return first_failure;
}

void prepare_root(const JailPlan& plan) {
  LinuxEmulationPlan dirs;  // what prepare_linux_root() needs: directory mount points and files
  dirs.files = plan.files;
  std::vector<std::string> file_targets;
  for (const auto& m : plan.mounts) {
    if (m.target == "/") continue;
    if (m.fstype == "nullfs" && nullfs_source_is_file(m)) file_targets.push_back(m.target);
    else dirs.mounts.push_back(m);
  }
  prepare_linux_root(dirs, plan.path);
  UniqueFd root_fd = open_root(plan.path);
  for (const auto& target : file_targets) {
    std::vector<std::string> parts = detail::root_path_components(target);
    const std::string leaf = parts.back();
    parts.pop_back();
    UniqueFd parent = detail::open_directory_beneath(root_fd.get(), parts, true);
    UniqueFd file(::openat(parent.get(), leaf.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!file) throw Error(errno, "create the mount point " + target + " in " + plan.path);
  }
}

std::string unmount_planned(const JailPlan& plan) noexcept {
  try {
    const int count = ::getfsstat(nullptr, 0, MNT_NOWAIT);
    if (count < 0) return std::string("getfsstat: ") + std::strerror(errno);
    std::vector<struct statfs> table(static_cast<std::size_t>(count) + 16);
    const int got = ::getfsstat(table.data(), static_cast<long>(table.size() * sizeof(struct statfs)), MNT_NOWAIT);
    if (got < 0) return std::string("getfsstat: ") + std::strerror(errno);
    table.resize(static_cast<std::size_t>(got));
    char resolved[PATH_MAX] = {};
    const std::string real_root = ::realpath(plan.path.c_str(), resolved) ? std::string(resolved) : plan.path;
    std::string first_failure;
    for (auto m = plan.mounts.rbegin(); m != plan.mounts.rend(); ++m) {
      const std::string paths[2] = {host_path(plan.path, m->target), host_path(real_root, m->target)};
      for (auto entry = table.rbegin(); entry != table.rend(); ++entry) {  // the topmost of a path first
        const bool same_path = paths[0] == entry->f_mntonname || paths[1] == entry->f_mntonname;
        if (!same_path || m->fstype != entry->f_fstypename) continue;
        const std::string failure = unmount_one(Mounted{entry->f_mntonname, entry->f_fsid});
        if (first_failure.empty()) first_failure = failure;
        entry->f_mntonname[0] = '\0';  // used up
        break;
      }
    }
    return first_failure;
  } catch (...) {
    return "unmount the mounts of " + plan.name + ": out of memory";
  }
}

// ---- devfs rules -------------------------------------------------------------------------

namespace {

devfs_rule rule_for(std::uint32_t ruleset, std::uint32_t number) {
  devfs_rule rule{};
  rule.dr_magic = DEVFS_MAGIC;
  rule.dr_id = mkrid(ruleset, number);
  return rule;
}

bool same_rule(const devfs_rule& a, const devfs_rule& b) {
  return a.dr_id == b.dr_id && a.dr_icond == b.dr_icond && a.dr_iacts == b.dr_iacts && a.dr_bacts == b.dr_bacts &&
         a.dr_incset == b.dr_incset && std::strncmp(a.dr_pathptrn, b.dr_pathptrn, DEVFS_MAXPTRNLEN) == 0;
}

// DEVFSIO_RADD of @p rule; a rule of that id already there must be this one (an earlier
// container's, or another supervisor's at the same moment).
void add_rule(int dev_fd, devfs_rule rule) {
  devfs_rule added = rule;
  if (::ioctl(dev_fd, DEVFSIO_RADD, &added) == 0) return;
  if (errno != EEXIST) throw Error(errno, fmt::format("devfs ruleset {}: add rule {}", rid2rsn(rule.dr_id), rid2rn(rule.dr_id)));
  devfs_rule existing = rule_for(rid2rsn(rule.dr_id), rid2rn(rule.dr_id) - 1);
  if (::ioctl(dev_fd, DEVFSIO_RGETNEXT, &existing) != 0 || !same_rule(existing, rule))
    throw Error(ErrorCode::already_exists,
                fmt::format("devfs ruleset {} already has a different rule {}: it is not knast's; remove it "
                            "(devfs rule -s {} delset) or have knast use another ruleset",
                            rid2rsn(rule.dr_id), rid2rn(rule.dr_id), rid2rsn(rule.dr_id)));
}

void define_ruleset(int dev_fd, const DevfsRuleset& rs) {
  std::uint32_t number = 0;
  if (rs.include != 0) {
    devfs_rule include = rule_for(rs.number, number += 100);
    include.dr_iacts = DRA_INCSET;
    include.dr_incset = static_cast<devfs_rsnum>(rs.include);
    add_rule(dev_fd, include);
  }
  for (const auto& r : rs.rules) {
    devfs_rule rule = rule_for(rs.number, number += 100);
    if (r.pattern.size() >= DEVFS_MAXPTRNLEN)
      throw Error(ErrorCode::invalid_argument, "devfs rule pattern " + r.pattern + " is too long");
    rule.dr_icond = DRC_PATHPTRN;
    std::memcpy(rule.dr_pathptrn, r.pattern.c_str(), r.pattern.size() + 1);
    rule.dr_iacts = DRA_BACTS;
    rule.dr_bacts = r.action == "hide" ? DRB_HIDE : DRB_UNHIDE;
    add_rule(dev_fd, rule);
  }
}

// A ruleset number nobody defined is created empty when devfs is mounted with it, and an
// empty ruleset hides nothing: the jail would see every device of the host.
void check_ruleset_has_rules(int dev_fd, std::uint32_t ruleset) {
  devfs_rule first = rule_for(ruleset, 0);
  if (::ioctl(dev_fd, DEVFSIO_RGETNEXT, &first) == 0 && rid2rsn(first.dr_id) == ruleset) return;
  throw Error(ErrorCode::unsupported,
              fmt::format("devfs ruleset {} holds no rules on this host, so a jail's /dev would show every device: "
                          "load the default rules (4 is devfsrules_jail) with `service devfs restart`",
                          ruleset));
}

}  // namespace

void apply_devfs_ruleset(const JailPlan& plan) {
  UniqueFd dev(::open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dev) throw Error(errno, "open /dev for the devfs rule ioctls");
  if (plan.devfs_ruleset) {
    if (plan.devfs_ruleset->include != 0) check_ruleset_has_rules(dev.get(), plan.devfs_ruleset->include);
    define_ruleset(dev.get(), *plan.devfs_ruleset);
  } else {
    check_ruleset_has_rules(dev.get(), knast::detail::devfsrules_jail);
  }
}

}  // namespace knast::platform::freebsd
