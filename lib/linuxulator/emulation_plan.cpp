// The Linux-emulation plan: what a Linux image needs in a FreeBSD jail, as data. Sources:
// FREEBSD.md §3 and §4 (rc.d/linux, linux(4) FILES, devfs.rules(5), fdescfs(5)).
#include <knast/error.hpp>
#include <knast/linuxulator.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace knast {
inline namespace v0 {
namespace {

constexpr std::uint32_t devfsrules_jail = 4;  // /etc/defaults/devfs.rules
constexpr std::size_t max_linux_name = 64;    // linux.osname, linux.osrelease: 65 with the NUL
constexpr std::size_t max_hostname = 255;     // MAXHOSTNAMELEN - 1

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "A.B.C" (two or three numbers, an optional "-suffix"): the Linuxulator parses
// linux.osrelease as a version and refuses anything else (linux_mib.c).
void check_osrelease(const std::string& release) {
  std::size_t at = 0;
  int numbers = 0;
  while (at < release.size() && numbers < 3) {
    const std::size_t start = at;
    while (at < release.size() && is_digit(release[at])) ++at;
    if (at == start) break;
    ++numbers;
    if (at < release.size() && release[at] == '.') ++at;
    else break;
  }
  const bool tail_ok = at == release.size() || release[at] == '-';
  if (numbers < 2 || !tail_ok || release.size() > max_linux_name)
    throw Error(ErrorCode::invalid_argument,
                "linux.osrelease \"" + release + "\" is not a kernel version such as 5.15.0");
}

void check_options(const LinuxEmulationOptions& o) {
  check_osrelease(o.osrelease);
  if (o.osname.empty() || o.osname.size() > max_linux_name)
    throw Error(ErrorCode::invalid_argument, "linux.osname must be 1 to 64 characters");
  const bool hostname_ok = !o.hostname.empty() && o.hostname.size() <= max_hostname &&
                           std::all_of(o.hostname.begin(), o.hostname.end(), [](char c) {
                             return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '.';
                           });
  if (!hostname_ok)
    throw Error(ErrorCode::invalid_argument,
                "hostname \"" + o.hostname + "\" is not a host name (letters, digits, '-' and '.', at most 255)");
  if (o.devfs_ruleset < 6 || o.devfs_ruleset > 65535)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("devfs ruleset {} cannot be knast's: use 6-65535 (1-5 are FreeBSD's defaults)", o.devfs_ruleset));
}

std::vector<KernelModule> modules_for(const std::string& arch, bool include_32bit) {
  std::vector<KernelModule> modules;
  if (arch == "amd64" || arch == "arm64")
    modules.push_back({"linux64", "linux64elf", "the 64-bit Linux ABI (image activator and system calls)"});
  if (arch == "386" || (include_32bit && arch == "amd64"))
    modules.push_back({"linux", "linuxelf", "the 32-bit Linux ABI, for 386 binaries"});
  modules.push_back({"linprocfs", "linprocfs", "/proc as Linux programs read it"});
  modules.push_back({"linsysfs", "linsysfs", "/sys as Linux programs read it"});
  modules.push_back({"fdescfs", "fdescfs", "/dev/fd with linrdlnk"});
  modules.push_back({"tmpfs", "tmpfs", "/dev/shm"});
  return modules;
}

std::string hosts_file(const std::string& hostname) {
  return fmt::format("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{}\n", hostname);
}

}  // namespace

std::string to_string(MountFlags flags) {
  std::string out;
  auto add = [&](MountFlags flag, const char* name) {
    if (has_flag(flags, flag) && flag != MountFlags::none) out += (out.empty() ? "" : ",") + std::string(name);
  };
  add(MountFlags::read_only, "ro");
  add(MountFlags::nosuid, "nosuid");
  add(MountFlags::noexec, "noexec");
  return out;
}

LinuxEmulationPlan make_linux_emulation_plan(const Platform& image, const LinuxEmulationOptions& options) {
  LinuxEmulationPlan plan;
  plan.image = image.normalized();
  if (plan.image.os != "linux")
    throw Error(ErrorCode::invalid_argument,
                "a Linux-emulation plan is for Linux images; this one is " + plan.image.string());
  const std::string& arch = plan.image.architecture;
  if (arch != "amd64" && arch != "386" && arch != "arm64")
    throw Error(ErrorCode::unsupported,
                "the Linuxulator runs amd64, 386 and arm64 Linux binaries; this image is " + plan.image.string());
  check_options(options);

  plan.kernel_modules = modules_for(arch, options.include_32bit);

  // Ruleset 4 hides /dev/shm, which linux_common creates as shm/.mountpoint; unhide it so
  // tmpfs can be mounted there (FREEBSD.md §3).
  plan.devfs_ruleset = DevfsRuleset{options.devfs_ruleset, devfsrules_jail, {{"shm", "unhide"}, {"shm/*", "unhide"}}};

  const MountFlags nosuid_noexec = MountFlags::nosuid | MountFlags::noexec;
  plan.mounts = {
      {"devfs", "devfs", "/dev", {{"ruleset", std::to_string(options.devfs_ruleset)}}, MountFlags::nosuid},
      {"fdescfs", "fdescfs", "/dev/fd", {{"linrdlnk", ""}}, MountFlags::none},
      {"linprocfs", "linprocfs", "/proc", {}, nosuid_noexec},
      {"linsysfs", "linsysfs", "/sys", {}, nosuid_noexec},
      {"tmpfs", "tmpfs", "/dev/shm", {{"mode", "1777"}}, nosuid_noexec},
  };

  plan.jail_params = {
      {"linux.osname", options.osname},
      {"linux.osrelease", options.osrelease},
      {"devfs_ruleset", static_cast<std::int64_t>(options.devfs_ruleset)},
  };

  plan.files = {
      {"/etc/hostname", options.hostname + "\n", 0644},
      {"/etc/hosts", hosts_file(options.hostname), 0644},
  };
  if (!options.resolv_conf.empty()) {
    std::string resolv = options.resolv_conf;
    if (resolv.back() != '\n') resolv += '\n';
    plan.files.push_back({"/etc/resolv.conf", std::move(resolv), 0644});
  }
  return plan;
}

}  // namespace v0
}  // namespace knast
