// plan_freebsd_jail(): a RunSpec into everything a FreeBSD host does to run it, as plain
// data (the executor in lib/platform/freebsd/ carries it out; --dry-run prints it).
// Sources: /work/shared/FREEBSD.md §1-§6 (jail(2), jail(8), nmount(2), rctl(8)).
#include "jail/jail_plan.hpp"

#include "core/text.hpp"

#include <knast/error.hpp>
#include <knast/jail.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>

namespace knast {
inline namespace v0 {

namespace detail {

bool is_jailsys_param(std::string_view name) noexcept {
  for (std::string_view n : {"host", "vnet", "ip4", "ip6", "sysvmsg", "sysvsem", "sysvshm", "linux"})
    if (name == n) return true;
  return false;
}

std::string_view jailsys_word(std::int64_t value) noexcept {
  switch (value) {
    case jail_sys_disable: return "disable";
    case jail_sys_new: return "new";
    case jail_sys_inherit: return "inherit";
    default: return "";
  }
}

bool is_address_param(std::string_view name) noexcept { return name == "ip4.addr" || name == "ip6.addr"; }

}  // namespace detail

namespace {

constexpr std::size_t jail_id_chars = 12;
constexpr std::size_t max_path = 1023;  // MAXPATHLEN 1024 with the NUL (jail path, nmount fspath)
constexpr std::string_view default_linux_osrelease = "5.15.0";

using Params = std::vector<std::pair<std::string, JailParamValue>>;

std::int64_t jailsys(SharingMode mode) {
  switch (mode) {
    case SharingMode::disable: return detail::jail_sys_disable;
    case SharingMode::new_: return detail::jail_sys_new;
    case SharingMode::inherit: return detail::jail_sys_inherit;
  }
  return detail::jail_sys_disable;
}

std::string annotation_of(const RunSpec& spec, std::string_view name) {
  const auto it = spec.annotations.find(std::string(name));
  return it == spec.annotations.end() ? std::string() : it->second;
}

// The image's platform: the caller's, else the spec's annotation, else amd64 of the kind
// the emulation annotation says. A Linux image is exactly one that needs the Linuxulator.
Platform image_platform(const RunSpec& spec, const JailPlanOptions& options) {
  const std::string emulation = annotation_of(spec, annotation::linux_emulation);
  Platform image = options.image;
  if (image.os.empty()) {
    const std::string written = annotation_of(spec, annotation::image_platform);
    image = written.empty() ? Platform{emulation == "true" ? "linux" : "freebsd", "amd64", "", "", {}}
                            : Platform::parse(written);
  }
  image = image.normalized();
  if (image.os != "linux" && image.os != "freebsd")
    throw Error(ErrorCode::unsupported, fmt::format("jail for a {} image: a FreeBSD host runs freebsd images "
                                                    "natively and linux images through the Linuxulator",
                                                    detail::quote_untrusted(image.string())));
  if (!emulation.empty() && (emulation == "true") != (image.os == "linux"))
    throw Error(ErrorCode::invalid_argument,
                fmt::format("jail for a {} image: annotation {} = {} says the opposite", image.string(),
                            annotation::linux_emulation, detail::quote_untrusted(emulation)));
  return image;
}

// An absolute path inside the root with no empty, "." or ".." component: what a mount
// target must be so that the executor can resolve it component by component.
void check_target(std::string_view target, std::string_view what) {
  bool ok = !target.empty() && target.front() == '/' && target.find('\0') == std::string_view::npos;
  for (std::size_t at = 1; ok && at < target.size();) {
    const std::size_t end = std::min(target.find('/', at), target.size());
    const std::string_view part = target.substr(at, end - at);
    ok = !part.empty() && part != "." && part != "..";
    at = end + 1;
  }
  if (!ok)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: destination {} must be an absolute path without empty, \".\" or \"..\" parts",
                            what, detail::quote_untrusted(target)));
}

std::string mount_label(const RunMount& m) {
  return fmt::format("mount {} on {}", detail::quote_untrusted(m.type.empty() ? std::string("(no type)") : m.type),
                     detail::quote_untrusted(m.destination));
}

bool is_linux_only_type(std::string_view type) {
  for (std::string_view t : {"proc", "sysfs", "mqueue", "devpts", "bind", "rbind", "cgroup", "cgroup2", "overlay"})
    if (type == t) return true;
  return false;
}

// Options both nullfs and tmpfs take as generic flags; "rw", "dev" and "nodev" change
// nothing (FreeBSD has device nodes only on devfs).
bool apply_generic_option(std::string_view option, MountFlags& flags) {
  if (option == "ro") flags = flags | MountFlags::read_only;
  else if (option == "nosuid") flags = flags | MountFlags::nosuid;
  else if (option == "noexec") flags = flags | MountFlags::noexec;
  else if (option == "rw" || option == "nodev" || option == "dev" || option == "suid" || option == "exec") {
    const auto clear = option == "rw" ? MountFlags::read_only : option == "suid" ? MountFlags::nosuid
                       : option == "exec" ? MountFlags::noexec : MountFlags::none;
    flags = static_cast<MountFlags>(static_cast<std::uint32_t>(flags) & ~static_cast<std::uint32_t>(clear));
  } else {
    return false;
  }
  return true;
}

[[noreturn]] void refuse_option(const RunMount& m, std::string_view option, std::string_view accepted) {
  throw Error(ErrorCode::invalid_argument, fmt::format("{}: option {} has no FreeBSD equivalent (accepted: {})",
                                                       mount_label(m), detail::quote_untrusted(option), accepted));
}

MountStep nullfs_mount(const RunMount& m) {
  if (m.source.empty() || m.source.front() != '/')
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: the source {} must be an absolute host path", mount_label(m),
                            detail::quote_untrusted(m.source)));
  MountStep step{"nullfs", m.source, m.destination, {}, MountFlags::none};
  for (const auto& option : m.options) {
    if (apply_generic_option(option, step.flags)) continue;
    if (option == "nocache" || option == "cache") step.options.emplace_back(option, "");
    else refuse_option(m, option, "ro, rw, nosuid, noexec, nodev, cache, nocache");
  }
  return step;
}

// Linux tmpfs options into tmpfs(5) ones: size in bytes, mode in octal, uid, gid;
// nr_inodes is tmpfs(5)'s inodes.
MountStep tmpfs_mount(const RunMount& m) {
  MountStep step{"tmpfs", "tmpfs", m.destination, {}, MountFlags::none};
  for (const auto& option : m.options) {
    if (apply_generic_option(option, step.flags)) continue;
    const auto equals = option.find('=');
    const std::string key = option.substr(0, equals);
    const std::string value = equals == std::string::npos ? std::string() : option.substr(equals + 1);
    if ((key == "size" || key == "mode" || key == "uid" || key == "gid" || key == "nr_inodes") && !value.empty())
      step.options.emplace_back(key == "nr_inodes" ? "inodes" : key, value);
    else
      refuse_option(m, option, "ro, rw, nosuid, noexec, nodev, size=, mode=, uid=, gid=, nr_inodes=");
  }
  return step;
}

MountStep translate_mount(const RunMount& m) {
  check_target(m.destination, mount_label(m));
  if (m.destination == "/")
    throw Error(ErrorCode::invalid_argument, mount_label(m) + ": cannot mount over the root (use root.readonly)");
  const bool bind_option = std::any_of(m.options.begin(), m.options.end(),
                                       [](const std::string& o) { return o == "bind" || o == "rbind"; });
  if (is_linux_only_type(m.type) || bind_option)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: a Linux mount type a FreeBSD jail cannot have (FreeBSD uses nullfs for bind "
                            "mounts; make the RunSpec for a FreeBSD host)",
                            mount_label(m)));
  if (m.type == "nullfs") return nullfs_mount(m);
  if (m.type == "tmpfs") return tmpfs_mount(m);
  throw Error(ErrorCode::invalid_argument,
              fmt::format("{}: knast mounts nullfs and tmpfs from a RunSpec on FreeBSD", mount_label(m)));
}

// An amount of an rctl rule with rctl(8)'s k/m/g/t suffix (powers of 1024, expand_number(3))
// written out in digits, as rctl_add_rule(2) takes it.
std::string expand_amount(std::string_view amount, std::string_view rule) {
  std::uint64_t scale = 1;
  if (!amount.empty()) {
    const std::string_view suffixes = "kmgt";
    const char last = static_cast<char>(amount.back() | 0x20);
    if (const auto at = suffixes.find(last); at != std::string_view::npos) {
      scale = std::uint64_t{1} << (10 * (at + 1));
      amount.remove_suffix(1);
    }
  }
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(amount.data(), amount.data() + amount.size(), value);
  if (ec != std::errc() || end != amount.data() + amount.size() || value > UINT64_MAX / scale)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("rctl rule {}: the amount is not a number rctl takes", detail::quote_untrusted(rule)));
  return std::to_string(value * scale);
}

std::vector<std::string> rctl_rules(const RunSpec& spec, const std::string& name) {
  std::vector<std::string> out;
  const std::string all = annotation_of(spec, annotation::rctl);
  std::string_view list = all;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const std::string_view rule = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    const auto equals = rule.find('=');
    if (rule.find(':') == std::string_view::npos || equals == std::string_view::npos)
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("rctl rule {}: expected resource:action=amount", detail::quote_untrusted(rule)));
    std::string_view amount = rule.substr(equals + 1);
    std::string_view per;
    if (const auto slash = amount.find('/'); slash != std::string_view::npos) {
      per = amount.substr(slash);
      amount = amount.substr(0, slash);
    }
    out.push_back(fmt::format("jail:{}:{}={}{}", name, rule.substr(0, equals), expand_amount(amount, rule), per));
  }
  return out;
}

void add_bool(Params& params, std::string name, std::optional<bool> value) {
  if (value) params.emplace_back(std::move(name), *value);
}

// allow.*: jail(8)'s defaults (the kernel's JAIL_DEFAULT_ALLOW on 13.x: set_hostname,
// reserved_ports, unprivileged_proc_debug, suser) written out, then what the spec asks.
void add_allow(Params& params, const std::optional<JailAllow>& spec_allow) {
  const JailAllow allow = spec_allow.value_or(JailAllow{});
  add_bool(params, "allow.set_hostname", allow.set_hostname.value_or(true));
  add_bool(params, "allow.reserved_ports", allow.reserved_ports.value_or(true));
  params.emplace_back("allow.unprivileged_proc_debug", true);
  add_bool(params, "allow.suser", allow.suser.value_or(true));
  add_bool(params, "allow.raw_sockets", allow.raw_sockets);
  add_bool(params, "allow.chflags", allow.chflags);
  add_bool(params, "allow.quotas", allow.quotas);
  add_bool(params, "allow.socket_af", allow.socket_af);
  if (!allow.mount.empty()) params.emplace_back("allow.mount", true);
  for (const auto& fs : allow.mount) {
    const bool word = !fs.empty() && std::all_of(fs.begin(), fs.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    });
    if (!word)
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("freebsd.jail.allow.mount: {} is not a file system name", detail::quote_untrusted(fs)));
    params.emplace_back("allow.mount." + fs, true);
  }
}

std::vector<std::string> split_commas(const std::string& list) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= list.size()) {
    const auto comma = std::min(list.find(',', at), list.size());
    out.push_back(list.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

// ip4/ip6/vnet: the spec's modes and address annotations. vnet=new excludes every ip4/ip6
// parameter (jail(2): "vnet jails cannot have IP address restrictions"); a non-vnet jail
// without an ip4 parameter would get IPv4 disabled, so the mode is always written.
void add_network(Params& params, const FreeBsdJail& jail, const RunSpec& spec) {
  const bool vnet = jail.vnet == SharingMode::new_;
  const std::string ip4_addr = annotation_of(spec, annotation::ip4_addresses);
  const std::string ip6_addr = annotation_of(spec, annotation::ip6_addresses);
  if (vnet) {
    if (jail.ip4 || jail.ip6 || !ip4_addr.empty() || !ip6_addr.empty())
      throw Error(ErrorCode::invalid_argument,
                  "freebsd.jail: vnet = new cannot be combined with ip4, ip6 or address annotations (a vnet jail "
                  "has its own network stack; addresses go on its interfaces)");
    params.emplace_back("vnet", detail::jail_sys_new);
    return;
  }
  if (jail.vnet) params.emplace_back("vnet", jailsys(*jail.vnet));
  auto family = [&](const std::string& mode_name, const std::optional<SharingMode>& mode, const std::string& addr) {
    const SharingMode m = !addr.empty() ? SharingMode::new_ : mode.value_or(SharingMode::disable);
    if (!addr.empty() && mode && *mode != SharingMode::new_)
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("freebsd.jail.{} = {} cannot have the addresses {}", mode_name, to_string(*mode),
                              detail::quote_untrusted(addr)));
    params.emplace_back(mode_name, jailsys(m));
    if (!addr.empty()) params.emplace_back(mode_name + ".addr", fmt::format("{}", fmt::join(split_commas(addr), ",")));
  };
  family("ip4", jail.ip4, ip4_addr);
  family("ip6", jail.ip6, ip6_addr);
}

std::string hostname_of(const RunSpec& spec, const std::string& name) { return spec.hostname.value_or(name); }

Params jail_params(const RunSpec& spec, const JailPlan& plan, std::uint32_t devfs_ruleset,
                   const std::optional<LinuxEmulationPlan>& linux_plan) {
  const FreeBsdJail jail = spec.freebsd_config && spec.freebsd_config->jail ? *spec.freebsd_config->jail : FreeBsdJail{};
  if (jail.parent)
    throw Error(ErrorCode::unsupported, fmt::format("freebsd.jail.parent {}: knast makes top-level jails only",
                                                    detail::quote_untrusted(*jail.parent)));
  Params params;
  params.emplace_back("persist", true);
  params.emplace_back("name", plan.name);
  params.emplace_back("path", plan.path);
  if (jail.host == SharingMode::inherit) {
    if (spec.hostname)
      throw Error(ErrorCode::invalid_argument,
                  "freebsd.jail.host = inherit: the jail shares the host's name, so the spec cannot set hostname");
    params.emplace_back("host", detail::jail_sys_inherit);
  } else {
    params.emplace_back("host.hostname", hostname_of(spec, plan.name));
  }
  const int enforce_statfs = jail.enforce_statfs.value_or(2);
  if (enforce_statfs < 0 || enforce_statfs > 2)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("freebsd.jail.enforceStatfs = {}: must be 0, 1 or 2", enforce_statfs));
  params.emplace_back("enforce_statfs", std::int64_t{enforce_statfs});
  params.emplace_back("devfs_ruleset", std::int64_t{devfs_ruleset});
  params.emplace_back("children.max", std::int64_t{0});
  add_allow(params, jail.allow);
  params.emplace_back("sysvmsg", jailsys(jail.sysvmsg.value_or(SharingMode::new_)));
  params.emplace_back("sysvsem", jailsys(jail.sysvsem.value_or(SharingMode::new_)));
  params.emplace_back("sysvshm", jailsys(jail.sysvshm.value_or(SharingMode::new_)));
  add_network(params, jail, spec);
  if (linux_plan) {
    params.emplace_back("linux", detail::jail_sys_new);
    for (const char* name : {"linux.osname", "linux.osrelease"}) params.emplace_back(name, linux_plan->jail_params.at(name));
  }
  return params;
}

void add_module(std::vector<KernelModule>& modules, KernelModule module) {
  const bool present = std::any_of(modules.begin(), modules.end(), [&](const KernelModule& m) { return m.file == module.file; });
  if (!present) modules.push_back(std::move(module));
}

// The mounts: devfs, the Linux mounts the spec does not replace, then the spec's mounts in
// its order.
std::vector<MountStep> plan_mounts(const RunSpec& spec, const JailPlan& plan, std::uint32_t devfs_ruleset,
                                   const std::optional<LinuxEmulationPlan>& linux_plan) {
  std::vector<MountStep> spec_mounts;
  std::set<std::string> spec_targets;
  for (const auto& m : spec.mounts) {
    spec_mounts.push_back(translate_mount(m));
    if (!spec_targets.insert(m.destination).second)
      throw Error(ErrorCode::invalid_argument, mount_label(m) + ": a second mount on the same destination");
  }
  if (spec_targets.contains("/dev"))
    throw Error(ErrorCode::invalid_argument, "mount on \"/dev\": the jail's /dev is devfs with its ruleset");

  // A read-only root would be a nullfs mount of the root onto itself, which nullfs_mount()
  // may refuse or deadlock on (it unlocks the covered vnode only when that is nullfs);
  // not verified on a FreeBSD host, so refused rather than guessed.
  if (spec.root.readonly)
    throw Error(ErrorCode::unsupported,
                fmt::format("jail {}: a read-only root (root.readonly, --read-only) is not supported on FreeBSD yet; "
                            "mount volumes read-only instead",
                            plan.name));
  std::vector<MountStep> mounts;
  if (linux_plan) {
    for (const auto& m : linux_plan->mounts)
      if (!spec_targets.contains(m.target)) mounts.push_back(m);
  } else {
    mounts.push_back({"devfs", "devfs", "/dev", {{"ruleset", std::to_string(devfs_ruleset)}}, MountFlags::nosuid});
  }
  mounts.insert(mounts.end(), spec_mounts.begin(), spec_mounts.end());
  for (const auto& m : mounts)
    if (plan.path.size() + m.target.size() > max_path)
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("mount on {}: {} and the target are longer than FreeBSD's {} bytes",
                              detail::quote_untrusted(m.target), detail::quote_untrusted(plan.path), max_path));
  return mounts;
}

std::string shell_word(std::string_view word) {
  const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("_-./=:,+@%").find(c) != std::string_view::npos;
  });
  if (plain) return std::string(word);
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string mount_command(const MountStep& m, const std::string& root) {
  std::string options = to_string(m.flags);
  for (const auto& [key, value] : m.options) options += (options.empty() ? "" : ",") + (value.empty() ? key : key + "=" + value);
  const std::string target = m.target == "/" ? root : root + m.target;
  return fmt::format("mount -t {}{} {} {}", m.fstype, options.empty() ? "" : " -o " + options, shell_word(m.source),
                     shell_word(target));
}

std::string user_text(const RunUser& user) {
  std::vector<std::uint32_t> groups{user.gid};
  for (const auto gid : user.additional_gids)
    if (gid != user.gid) groups.push_back(gid);
  return fmt::format("setgroups({}), setgid({}), setuid({})", fmt::join(groups, ","), user.gid, user.uid);
}

std::string argv_text(const std::vector<std::string>& args) {
  std::vector<std::string> words;
  for (const auto& a : args) words.push_back(shell_word(a));
  return fmt::format("{}", fmt::join(words, " "));
}

// Mount points the executor creates: every target not below an earlier mount of the plan
// (devfs provides /dev/fd and /dev/shm itself), and not the root.
std::vector<std::string> mount_points(const std::vector<MountStep>& mounts) {
  std::vector<std::string> out;
  std::vector<std::string> earlier;
  for (const auto& m : mounts) {
    const bool below = std::any_of(earlier.begin(), earlier.end(), [&](const std::string& e) {
      return e != "/" && m.target.size() > e.size() && m.target.starts_with(e) && m.target[e.size()] == '/';
    });
    if (m.target != "/" && !below) out.push_back(m.target);
    earlier.push_back(m.target);
  }
  return out;
}

std::vector<JailPlanStep> plan_steps(const JailPlan& plan, bool vnet) {
  std::vector<JailPlanStep> steps;
  for (const auto& m : plan.kernel_modules)
    steps.push_back({"kldload", fmt::format("kldload -n {} (unless module {} is in the kernel): {}", m.file, m.module, m.reason)});
  if (!plan.rctl_rules.empty())
    steps.push_back({"racct-check", "sysctl kern.racct.enable must be 1 (kern.racct.enable=1 in /boot/loader.conf)"});
  if (plan.devfs_ruleset) {
    const DevfsRuleset& rs = *plan.devfs_ruleset;
    if (rs.include != 0) steps.push_back({"devfs-ruleset", fmt::format("devfs rule -s {} add include {}", rs.number, rs.include)});
    for (const auto& r : rs.rules)
      steps.push_back({"devfs-ruleset", fmt::format("devfs rule -s {} add path {} {}", rs.number, shell_word(r.pattern), r.action)});
  } else {
    steps.push_back({"devfs-ruleset-check",
                     fmt::format("devfs ruleset {} (devfsrules_jail) must hold rules (an unknown ruleset hides nothing)",
                                 detail::devfsrules_jail)});
  }
  for (const auto& target : mount_points(plan.mounts))
    steps.push_back({"mkdir", fmt::format("mkdir {} (inside the root, no symlink followed)", shell_word(plan.path + target))});
  for (const auto& f : plan.files)
    steps.push_back({"write-file", fmt::format("{} (mode {:04o}, no symlink followed)", shell_word(plan.path + f.path), f.mode)});
  for (const auto& m : plan.mounts) steps.push_back({"mount", mount_command(m, plan.path)});
  steps.push_back({"jail_set", fmt::format("jail_set(JAIL_CREATE) name={} with the {} parameters below", plan.name, plan.params.size())});
  for (const auto& r : plan.rctl_rules) steps.push_back({"rctl", "rctl -a " + r});
  if (vnet) steps.push_back({"loopback", fmt::format("in jail {}: ifconfig lo0 inet 127.0.0.1/8 up", plan.name)});
  steps.push_back({"attach-exec", fmt::format("fork, jail_attach({}), {}, chdir {}, wait for start, execve {}", plan.name,
                                              user_text(plan.process.user), shell_word(plan.process.cwd),
                                              argv_text(plan.process.args))});
  steps.push_back({"jail_remove", fmt::format("jail -r {} (jail_remove(2): SIGKILL to every process left)", plan.name)});
  if (!plan.rctl_rules.empty()) steps.push_back({"rctl-remove", fmt::format("rctl -r jail:{}:", plan.name)});
  for (auto m = plan.mounts.rbegin(); m != plan.mounts.rend(); ++m)
    steps.push_back({"unmount", "umount -f " + shell_word(m->target == "/" ? plan.path : plan.path + m->target)});
  return steps;
}

}  // namespace

std::string jail_name(std::string_view container_id) {
  const std::string_view id = container_id.substr(0, jail_id_chars);
  const bool ok = !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
  if (!ok)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("container id {}: a jail is named after its first 12 characters, which must be letters, "
                            "digits, '_' or '-' (jail names may not hold dots)",
                            detail::quote_untrusted(container_id)));
  return "knast-" + std::string(id);
}

JailPlan plan_freebsd_jail(const RunSpec& spec, const JailPlanOptions& options) {
  JailPlan plan;
  plan.name = jail_name(options.container_id);
  plan.path = options.root_path.empty() ? spec.root.path : options.root_path;
  while (plan.path.size() > 1 && plan.path.back() == '/') plan.path.pop_back();
  if (plan.path.empty() || plan.path.front() != '/' || plan.path == "/" || plan.path.size() > max_path ||
      plan.path.find('\0') != std::string::npos)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("jail {}: the root {} must be an absolute path other than / of at most {} bytes", plan.name,
                            detail::quote_untrusted(plan.path), max_path));

  const Platform image = image_platform(spec, options);
  std::optional<LinuxEmulationPlan> linux_plan;
  std::uint32_t devfs_ruleset = detail::devfsrules_jail;
  if (image.os == "linux") {
    LinuxEmulationOptions emulation;
    const std::string release = annotation_of(spec, annotation::linux_osrelease);
    emulation.osrelease = release.empty() ? std::string(default_linux_osrelease) : release;
    emulation.hostname = hostname_of(spec, plan.name);
    emulation.include_32bit = options.include_32bit;
    linux_plan = make_linux_emulation_plan(image, emulation);
    devfs_ruleset = linux_plan->devfs_ruleset.number;
    plan.kernel_modules = linux_plan->kernel_modules;
    plan.devfs_ruleset = linux_plan->devfs_ruleset;
    plan.files = linux_plan->files;
  }

  plan.params = jail_params(spec, plan, devfs_ruleset, linux_plan);
  plan.mounts = plan_mounts(spec, plan, devfs_ruleset, linux_plan);
  for (const auto& m : plan.mounts) {
    if (m.fstype == "nullfs") add_module(plan.kernel_modules, {"nullfs", "nullfs", "nullfs mounts (volumes)"});
    if (m.fstype == "tmpfs") add_module(plan.kernel_modules, {"tmpfs", "tmpfs", "tmpfs mounts"});
  }
  plan.rctl_rules = rctl_rules(spec, plan.name);
  plan.process = spec.process;
  const bool vnet = std::any_of(plan.params.begin(), plan.params.end(), [](const auto& p) {
    return p.first == "vnet" && p.second == JailParamValue{detail::jail_sys_new};
  });
  plan.steps = plan_steps(plan, vnet);
  return plan;
}

}  // namespace v0
}  // namespace knast
