// Linux executor: the container's file system view, made in the first process's new
// mount namespace before pivot_root. Every mount target is resolved inside the root
// through descriptors (lib/rootfs' in-root resolution), never by a host path that a
// symbolic link in the image could redirect, and mounted through /proc/self/fd/N.
#include "platform/linux/executor_linux.hpp"

#include "core/text.hpp"
#include "rootfs/in_root.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

namespace knast::platform::executor {
namespace {

using knast::detail::MissingDirs;
using knast::detail::quote_untrusted;

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// mount(8)-style options split into mount(2)'s flags, propagation and file-system data.
struct MountOptions {
  unsigned long flags = 0;
  unsigned long propagation = 0;
  bool bind = false;
  bool recursive = false;
  std::string data;
};

struct FlagOption {
  std::string_view name;
  bool clear;
  unsigned long flag;
};

constexpr FlagOption flag_options[] = {
    {"ro", false, MS_RDONLY},          {"rw", true, MS_RDONLY},          {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},         {"nodev", false, MS_NODEV},       {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},      {"exec", true, MS_NOEXEC},        {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},   {"dirsync", false, MS_DIRSYNC},   {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},     {"noatime", false, MS_NOATIME},   {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME}, {"diratime", true, MS_NODIRATIME}, {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME}, {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME}, {"defaults", true, 0},
};

constexpr std::pair<std::string_view, unsigned long> propagation_options[] = {
    {"private", MS_PRIVATE},         {"rprivate", MS_PRIVATE | MS_REC}, {"shared", MS_SHARED},
    {"rshared", MS_SHARED | MS_REC}, {"slave", MS_SLAVE},               {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE},   {"runbindable", MS_UNBINDABLE | MS_REC},
};

MountOptions parse_options(const RunMount& m) {
  MountOptions out;
  out.bind = m.type == "bind";
  for (const auto& option : m.options) {
    const auto flag = std::find_if(std::begin(flag_options), std::end(flag_options),
                                   [&](const FlagOption& f) { return f.name == option; });
    const auto propagation = std::find_if(std::begin(propagation_options), std::end(propagation_options),
                                          [&](const auto& p) { return p.first == option; });
    if (flag != std::end(flag_options)) {
      out.flags = flag->clear ? out.flags & ~flag->flag : out.flags | flag->flag;
    } else if (propagation != std::end(propagation_options)) {
      out.propagation = propagation->second;
    } else if (option == "bind" || option == "rbind") {
      out.bind = true;
      out.recursive = out.recursive || option == "rbind";
    } else {
      if (!out.data.empty()) out.data += ',';
      out.data += option;
    }
  }
  return out;
}

// The mount flags in force on the mount @p fd is on (statfs reports them as ST_*), so a
// remount that adds MS_RDONLY keeps nosuid, nodev, noexec and the atime mode.
unsigned long current_flags(int fd) {
  struct statfs st {};
  if (::fstatfs(fd, &st) != 0) throw Error(errno, "read the mount flags (fstatfs)");
  constexpr std::pair<unsigned long, unsigned long> st_to_ms[] = {
      {ST_RDONLY, MS_RDONLY},   {ST_NOSUID, MS_NOSUID},       {ST_NODEV, MS_NODEV},
      {ST_NOEXEC, MS_NOEXEC},   {ST_SYNCHRONOUS, MS_SYNCHRONOUS}, {ST_NOATIME, MS_NOATIME},
      {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME}};
  unsigned long flags = 0;
  for (const auto& [st_flag, ms_flag] : st_to_ms)
    if ((static_cast<unsigned long>(st.f_flags) & st_flag) != 0) flags |= ms_flag;
  return flags;
}

// What a mount target is made as when missing.
enum class TargetKind { directory, file };

// A mount target inside the root: its parent directory, opened inside the root (missing
// directories created), and the entry itself, created when missing, opened O_PATH and
// never followed when it is a link to a file.
class Target {
 public:
  Target(int root_fd, const std::string& destination, TargetKind kind, MissingDirs missing = MissingDirs::create)
      : destination_(destination) {
    const auto clean = knast::detail::clean_layer_path(destination);
    if (!clean || clean->empty())
      throw Error(ErrorCode::invalid_argument,
                  "mount destination " + quote_untrusted(destination) + ": must be an absolute path below /");
    const auto [parent, name] = knast::detail::split_parent(*clean);
    parent_ = knast::detail::open_dir_in_root(root_fd, parent, missing);
    if (!parent_) return;
    name_ = name;
    if (missing == MissingDirs::create) create(kind);
    open(root_fd, *clean);
  }

  explicit operator bool() const noexcept { return static_cast<bool>(fd_); }
  int fd() const noexcept { return fd_.get(); }
  std::string path() const { return fd_path(fd_.get()); }
  const std::string& destination() const noexcept { return destination_; }
  bool is_directory() const noexcept { return directory_; }

  // After a mount on it, the descriptor still names the covered entry: open it again to
  // reach the new mount (for remounts and propagation changes).
  void reopen_after_mount(int root_fd) { open(root_fd, *knast::detail::clean_layer_path(destination_)); }

 private:
  void create(TargetKind kind) {
    const std::string& name = name_;
    if (kind == TargetKind::directory) {
      if (::mkdirat(parent_.get(), name.c_str(), 0755) != 0 && errno != EEXIST)
        throw Error(errno, "create the mount point " + quote_untrusted(destination_));
      return;
    }
    const int fd = ::openat(parent_.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) ::close(fd);
    else if (errno != EEXIST) throw Error(errno, "create the mount point " + quote_untrusted(destination_));
  }

  void open(int root_fd, const std::string& clean) {
    const std::string& name = name_;
    fd_.reset(::openat(parent_.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd_) {
      if (errno == ENOENT) return;  // only with MissingDirs::absent_ok: nothing to do
      throw Error(errno, "open the mount point " + quote_untrusted(destination_));
    }
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) throw Error(errno, "stat the mount point " + quote_untrusted(destination_));
    if (S_ISLNK(st.st_mode)) {
      // A link inside the image: follow it, inside the root, when it leads to a directory.
      fd_ = knast::detail::open_dir_in_root(root_fd, clean, MissingDirs::fail);
      directory_ = true;
      return;
    }
    directory_ = S_ISDIR(st.st_mode);
  }

  std::string destination_;
  UniqueFd parent_;
  std::string name_;
  UniqueFd fd_;
  bool directory_ = false;
};

void do_mount(const std::string& source, const Target& target, const char* type, unsigned long flags,
              const std::string& data) {
  if (::mount(source.c_str(), target.path().c_str(), type, flags, data.empty() ? nullptr : data.c_str()) != 0)
    throw Error(errno, "mount " + std::string(type != nullptr ? type : "bind") + " " + quote_untrusted(source) +
                           " on " + quote_untrusted(target.destination()) +
                           (data.empty() ? std::string() : " (options " + quote_untrusted(data) + ")"));
}

// Remounts the bind mount now at @p target with @p flags added to those in force.
void remount_bind(int root_fd, Target& target, unsigned long flags) {
  target.reopen_after_mount(root_fd);
  const unsigned long all = current_flags(target.fd()) | flags;
  if (::mount(nullptr, target.path().c_str(), nullptr, MS_REMOUNT | MS_BIND | all, nullptr) != 0)
    throw Error(errno, "remount " + quote_untrusted(target.destination()) + " with its options");
}

void set_propagation(int root_fd, Target& target, unsigned long propagation) {
  target.reopen_after_mount(root_fd);
  if (::mount(nullptr, target.path().c_str(), nullptr, propagation, nullptr) != 0)
    throw Error(errno, "set the propagation of " + quote_untrusted(target.destination()));
}

void bind_mount(int root_fd, const RunMount& m, const MountOptions& o) {
  if (m.source.empty() || m.source.front() != '/')
    throw Error(ErrorCode::invalid_argument,
                "bind mount on " + quote_untrusted(m.destination) + ": the source must be an absolute host path");
  const UniqueFd source(::open(m.source.c_str(), O_PATH | O_CLOEXEC));
  if (!source)
    throw Error(errno, "bind mount " + quote_untrusted(m.source) + " on " + quote_untrusted(m.destination) +
                           ": cannot open the source on the host");
  struct stat st {};
  if (::fstat(source.get(), &st) != 0) throw Error(errno, "stat the bind source " + quote_untrusted(m.source));
  Target target(root_fd, m.destination, S_ISDIR(st.st_mode) ? TargetKind::directory : TargetKind::file);
  do_mount(fd_path(source.get()), target, nullptr, MS_BIND | (o.recursive ? MS_REC : 0), {});
  if (o.flags != 0) remount_bind(root_fd, target, o.flags);
  if (o.propagation != 0) set_propagation(root_fd, target, o.propagation);
}

// Specs from `crun spec`/`runc spec` ask for a "cgroup" mount. The container gets the
// host's unified hierarchy bound read-only (the spec's flags), as crun shows it on a v1 or
// hybrid host; a fresh cgroup2 mount would show the same but costs ~15 ms of kernel time
// per container. A host without a v2 hierarchy gives an empty read-only tmpfs.
void cgroup_mount(int root_fd, const RunMount& m, const MountOptions& o) {
  const std::string unified = cgroup2_mount_point(read_mountinfo());
  if (unified.empty()) {
    Target target(root_fd, m.destination, TargetKind::directory);
    do_mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0k,mode=755");
    return;
  }
  bind_mount(root_fd, RunMount{m.destination, "bind", unified, {"rbind", "ro", "nosuid", "nodev", "noexec"}},
             MountOptions{o.flags | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, true, true, {}});
}

// The kernel lets only an owner of the network namespace mount sysfs (it shows that
// namespace's devices): elsewhere, bind the host's /sys — alone, not its submounts such
// as the cgroup file systems — read-only.
void mount_sysfs(int root_fd, Target& target, const std::string& source, const MountOptions& o) {
  if (::mount(source.c_str(), target.path().c_str(), "sysfs", o.flags, nullptr) == 0) return;
  if (errno != EPERM) throw Error(errno, "mount sysfs on " + quote_untrusted(target.destination()));
  do_mount("/sys", target, nullptr, MS_BIND, {});
  remount_bind(root_fd, target, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

void file_system_mount(int root_fd, const RunMount& m, const MountOptions& o) {
  if (m.type == "cgroup") {
    cgroup_mount(root_fd, m, o);
    return;
  }
  Target target(root_fd, m.destination, TargetKind::directory);
  const auto source = m.source.empty() ? m.type : m.source;
  if (m.type == "sysfs") mount_sysfs(root_fd, target, source, o);
  else do_mount(source, target, m.type.c_str(), o.flags, o.data);
  if (o.propagation != 0) set_propagation(root_fd, target, o.propagation);
}

void make_mount(int root_fd, const RunMount& m) {
  const auto options = parse_options(m);
  if (options.bind) bind_mount(root_fd, m, options);
  else file_system_mount(root_fd, m, options);
}

// The device nodes every container has (runc's and docker's default set).
struct StandardDevice {
  const char* name;
  unsigned major;
  unsigned minor;
};
constexpr StandardDevice standard_devices[] = {{"null", 1, 3},    {"zero", 1, 5},    {"full", 1, 7},
                                               {"random", 1, 8},  {"urandom", 1, 9}, {"tty", 5, 0}};

// A node made with mknod, or — where the kernel refuses (no CAP_MKNOD, a user
// namespace) — an empty file with the host's node bound onto it.
void make_device(int root_fd, int dev_fd, const StandardDevice& device) {
  if (::mknodat(dev_fd, device.name, S_IFCHR | 0666, makedev(device.major, device.minor)) == 0 || errno == EEXIST)
    return;
  if (errno != EPERM) throw Error(errno, std::string("create the device /dev/") + device.name);
  bind_mount(root_fd, RunMount{std::string("/dev/") + device.name, "bind", std::string("/dev/") + device.name, {}},
             MountOptions{0, 0, true, false, {}});
}

void make_dev_links(int dev_fd) {
  constexpr std::pair<const char*, const char*> links[] = {{"ptmx", "pts/ptmx"},
                                                           {"fd", "/proc/self/fd"},
                                                           {"stdin", "/proc/self/fd/0"},
                                                           {"stdout", "/proc/self/fd/1"},
                                                           {"stderr", "/proc/self/fd/2"}};
  for (const auto& [name, to] : links)
    if (::symlinkat(to, dev_fd, name) != 0 && errno != EEXIST)
      throw Error(errno, std::string("create the link /dev/") + name);
}

void populate_dev(int root_fd) {
  const auto dev = knast::detail::open_dir_in_root(root_fd, "dev", MissingDirs::fail);
  for (const auto& device : standard_devices) make_device(root_fd, dev.get(), device);
  make_dev_links(dev.get());
}

// Hides @p path: an empty read-only tmpfs over a directory, /dev/null over anything else.
void mask_path(int root_fd, const std::string& path, int null_fd) {
  Target target(root_fd, path, TargetKind::file, MissingDirs::absent_ok);
  if (!target) return;  // nothing there to hide
  if (target.is_directory()) do_mount("tmpfs", target, "tmpfs", MS_RDONLY, "size=0k,mode=755");
  else do_mount(fd_path(null_fd), target, nullptr, MS_BIND, {});
}

void make_readonly(int root_fd, const std::string& path) {
  Target target(root_fd, path, TargetKind::file, MissingDirs::absent_ok);
  if (!target) return;
  do_mount(target.path(), target, nullptr, MS_BIND | MS_REC, {});
  remount_bind(root_fd, target, MS_RDONLY);
}

void hide_and_protect(int root_fd, const LinuxConfig& config) {
  if (config.masked_paths.empty() && config.readonly_paths.empty()) return;
  const UniqueFd null_fd(::open("/dev/null", O_PATH | O_CLOEXEC));
  if (!null_fd) throw Error(errno, "open the host's /dev/null to mask paths");
  for (const auto& path : config.masked_paths) mask_path(root_fd, path, null_fd.get());
  for (const auto& path : config.readonly_paths) make_readonly(root_fd, path);
}

void pivot_into(int root_fd) {
  if (::fchdir(root_fd) != 0) throw Error(errno, "enter the container root");
  // pivot_root(".", "."): the old root ends up on top of the new one; detach it.
  if (::syscall(SYS_pivot_root, ".", ".") != 0) throw Error(errno, "pivot_root into the container root");
  if (::umount2(".", MNT_DETACH) != 0) throw Error(errno, "detach the host's root after pivot_root");
  if (::chdir("/") != 0) throw Error(errno, "chdir / in the container");
}

void make_root_readonly() {
  const UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) throw Error(errno, "open the container root");
  if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | current_flags(root.get()), nullptr) != 0)
    throw Error(errno, "make the container root read-only");
}

}  // namespace

// The words of the refusal in a chroot; tests look for them to skip.
constexpr std::string_view no_containers_in_chroot =
    "cannot make a container here: the root directory of this process is not a mount point (a chroot): "
    "run knast outside the chroot, or bind-mount the chroot's directory onto itself before entering it";

void enter_root(const RunSpec& spec) {
  // Nothing mounted from here on reaches the host, and host mounts still reach us.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
    // EINVAL: "/" is not a mount point, as in a chroot. Then neither can the mounts be kept
    // from propagating to the host nor can pivot_root work: refuse, saying why.
    if (errno == EINVAL)
      throw Error(ErrorCode::unsupported, std::string(no_containers_in_chroot));
    throw Error(errno, "make the container's mounts private (rslave /)");
  }
  const auto& root = spec.root.path;
  if (::mount(root.c_str(), root.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    throw Error(errno, "bind the container root " + quote_untrusted(root) + " onto itself");
  const UniqueFd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (!root_fd) throw Error(errno, "open the container root " + quote_untrusted(root));

  bool dev_mounted = false;
  for (const auto& m : spec.mounts) {
    make_mount(root_fd.get(), m);
    dev_mounted = dev_mounted || knast::detail::clean_layer_path(m.destination) == std::optional<std::string>("dev");
  }
  if (dev_mounted) populate_dev(root_fd.get());
  if (spec.linux_config) hide_and_protect(root_fd.get(), *spec.linux_config);
  // The working directory exists, as docker makes it (inside the root, never via a link out).
  if (auto cwd = knast::detail::clean_layer_path(spec.process.cwd); cwd && !cwd->empty())
    (void)knast::detail::open_dir_in_root(root_fd.get(), *cwd, MissingDirs::create);
  pivot_into(root_fd.get());
  if (spec.root.readonly) make_root_readonly();
}

}  // namespace knast::platform::executor
