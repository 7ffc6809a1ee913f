// make_run_spec(): an image config plus `docker run` options into a RunSpec.
#include "core/text.hpp"
#include "jail/confined_open.hpp"
#include "jail/run_rules.hpp"
#include "jail/run_spec_checks.hpp"
#include "jail/user_db.hpp"

#include <knast/error.hpp>
#include <knast/platform.hpp>
#include <knast/run_spec.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace knast {
inline namespace v0 {
namespace {

namespace fs = std::filesystem;

// /etc/passwd and /etc/group of real images are kilobytes; the cap only stops a hostile
// image from making knast read gigabytes.
constexpr std::size_t max_user_db_bytes = 4 * 1024 * 1024;
// Docker refuses a memory limit below 6 MiB (linuxMinMemory): the container could not start.
constexpr std::int64_t min_memory_bytes = 6 * 1024 * 1024;
// Docker's CFS period for --cpus, in microseconds, and the smallest quota the kernel takes.
constexpr std::int64_t cpu_period_us = 100'000;
constexpr std::int64_t min_cpu_quota_us = 1'000;

std::string image_label(const RunOverrides& o) {
  return o.image_ref.empty() ? std::string("image") : detail::quote_untrusted(o.image_ref);
}

// Strings handed to execve(2) end at the first NUL: refuse rather than cut them.
void check_exec_strings(const std::vector<std::string>& values, std::string_view what, const RunOverrides& o) {
  for (const auto& value : values)
    if (value.find('\0') != std::string::npos)
      throw Error(ErrorCode::invalid_argument, fmt::format("run {}: {} entry {} contains a NUL byte", image_label(o),
                                                           what, detail::quote_untrusted(value)));
}

std::vector<std::string> to_strings(auto const& list) { return {list.begin(), list.end()}; }

std::size_t depth(const std::string& path) {
  return static_cast<std::size_t>(std::count(path.begin(), path.end(), '/'));
}

// The caller's mounts (tmpfs, then volumes), shallowest destination first as docker
// sorts them, so a mount never hides one made below it. Two on one destination are refused.
std::vector<RunMount> user_mounts(const RunOverrides& o, std::string_view host_os) {
  std::vector<RunMount> mounts;
  for (const auto& t : o.tmpfs) mounts.push_back(parse_tmpfs(t));
  for (const auto& v : o.volumes) mounts.push_back(parse_volume(v, host_os));
  std::set<std::string> seen;
  for (const auto& m : mounts)
    if (!seen.insert(m.destination).second)
      throw Error(ErrorCode::invalid_argument, fmt::format("run {}: duplicate mount point {}", image_label(o),
                                                           detail::quote_untrusted(m.destination)));
  std::stable_sort(mounts.begin(), mounts.end(),
                   [](const RunMount& a, const RunMount& b) { return depth(a.destination) < depth(b.destination); });
  return mounts;
}

// Standard mounts first, except those the caller mounts something else on (docker lets
// `--tmpfs /dev/shm` replace the default /dev/shm).
std::vector<RunMount> linux_mounts(std::vector<RunMount> mine) {
  std::vector<RunMount> out;
  for (auto& standard : standard_linux_mounts()) {
    const bool replaced =
        std::any_of(mine.begin(), mine.end(), [&](const RunMount& m) { return m.destination == standard.destination; });
    if (!replaced) out.push_back(std::move(standard));
  }
  out.insert(out.end(), std::make_move_iterator(mine.begin()), std::make_move_iterator(mine.end()));
  return out;
}

// The limits, parsed and checked once for both hosts.
struct Limits {
  std::optional<std::int64_t> memory_bytes;
  std::optional<std::int64_t> pids;
  std::optional<std::int64_t> nano_cpus;
};

Limits parse_limits(const RunOverrides& o) {
  Limits l;
  if (o.memory) {
    try {
      l.memory_bytes = parse_byte_size(*o.memory);
    } catch (const Error& e) {
      throw e.with_context("memory");
    }
    if (*l.memory_bytes < min_memory_bytes)
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("memory {}: the minimum memory limit is 6 MiB", detail::quote_untrusted(*o.memory)));
  }
  if (o.pids_limit && *o.pids_limit > 0) l.pids = o.pids_limit;
  if (o.cpus) {
    l.nano_cpus = parse_cpus(*o.cpus);
    if (*l.nano_cpus * cpu_period_us / 1'000'000'000 < min_cpu_quota_us)
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("cpus {}: the smallest is 0.01", detail::quote_untrusted(*o.cpus)));
  }
  return l;
}

void check_rlimits(const std::vector<PosixRlimit>& rlimits) {
  for (const auto& r : rlimits) {
    if (!r.type.starts_with("RLIMIT_"))
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("ulimit {}: expected an RLIMIT_* name", detail::quote_untrusted(r.type)));
    if (r.soft > r.hard)
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("ulimit {}: soft limit {} is above the hard limit {}", r.type, r.soft, r.hard));
  }
}

LinuxConfig linux_config(const RunOverrides& o, const Limits& limits) {
  LinuxConfig c;
  for (const char* type : {"pid", "ipc", "uts", "mount"}) c.namespaces.push_back(LinuxNamespace{type, std::nullopt});
  if (!o.host_network) c.namespaces.push_back(LinuxNamespace{"network", std::nullopt});
  c.resources.memory_limit = limits.memory_bytes;
  c.resources.pids_limit = limits.pids;
  c.resources.cpu_shares = o.cpu_shares;
  if (limits.nano_cpus) {
    c.resources.cpu_period = static_cast<std::uint64_t>(cpu_period_us);
    c.resources.cpu_quota = *limits.nano_cpus * cpu_period_us / 1'000'000'000;
  }
  c.masked_paths = to_strings(docker_masked_paths);
  c.readonly_paths = to_strings(docker_readonly_paths);
  return c;
}

// Networking: the host's stack (ip4/ip6 inherit), or docker's "none": a network stack of
// its own with only a loopback interface (vnet=new; the executor brings lo0 up). An
// address list (annotation::ip4_addresses/ip6_addresses) replaces vnet with addresses of
// the host's stack (ip4/ip6=new), set in make_run_spec() once the annotations are known.
FreeBsdConfig freebsd_config(const RunOverrides& o, bool has_hostname) {
  FreeBsdJail jail;
  if (has_hostname) jail.host = SharingMode::new_;
  if (o.host_network) {
    jail.ip4 = jail.ip6 = SharingMode::inherit;
  } else {
    jail.vnet = SharingMode::new_;
  }
  jail.sysvmsg = jail.sysvsem = jail.sysvshm = SharingMode::new_;
  jail.enforce_statfs = 2;
  return FreeBsdConfig{{}, std::move(jail)};
}

// rctl(8) rules for the limits: memoryuse in bytes, maxproc, pcpu in percent of one CPU.
std::string rctl_rules(const Limits& limits) {
  std::vector<std::string> rules;
  if (limits.memory_bytes) rules.push_back(fmt::format("memoryuse:deny={}", *limits.memory_bytes));
  if (limits.pids) rules.push_back(fmt::format("maxproc:deny={}", *limits.pids));
  if (limits.nano_cpus) rules.push_back(fmt::format("pcpu:deny={}", (*limits.nano_cpus + 9'999'999) / 10'000'000));
  return fmt::format("{}", fmt::join(rules, ","));
}

std::string host_os_of(const RunOverrides& o) {
  const auto os = o.host_os.empty() ? Platform::host().os : o.host_os;
  if (os != "linux" && os != "freebsd")
    throw Error(ErrorCode::unsupported, fmt::format("run on {}: knast runs containers on linux and freebsd hosts",
                                                    detail::quote_untrusted(os)));
  return os;
}

void check_image_os(const ImageConfig& image, std::string_view host_os, const RunOverrides& o) {
  const bool runs = image.os == host_os || (host_os == "freebsd" && image.os == "linux");
  if (!runs)
    throw Error(ErrorCode::unsupported, fmt::format("run {}: a {} image cannot run on a {} host", image_label(o),
                                                    detail::quote_untrusted(image.os), host_os));
  if (o.linux_osrelease && !(host_os == "freebsd" && image.os == "linux"))
    throw Error(ErrorCode::invalid_argument,
                fmt::format("run {}: linux.osrelease applies only to a Linux image on a FreeBSD host", image_label(o)));
}

std::map<std::string, std::string> knast_annotations(const ImageConfig& image, std::string_view host_os,
                                                     const Limits& limits, const RunOverrides& o) {
  std::map<std::string, std::string> out;
  if (host_os == "freebsd") {
    if (image.os == "linux") out[std::string(annotation::linux_emulation)] = "true";
    out[std::string(annotation::image_platform)] =
        Platform{image.os, image.architecture, image.variant.value_or(""), "", {}}.string();
    if (o.linux_osrelease) out[std::string(annotation::linux_osrelease)] = *o.linux_osrelease;
    if (auto rules = rctl_rules(limits); !rules.empty()) out[std::string(annotation::rctl)] = std::move(rules);
  }
  for (const auto& [name, value] : o.annotations) out[name] = value;
  detail::check_knast_annotations(out);
  return out;
}

RunUser resolve_user(const ImageConfig& image, const fs::path& rootfs, const RunOverrides& o, std::string& home) {
  const std::string spec = o.user ? *o.user : image.config.user.value_or("");
  const auto passwd = detail::read_file_in_root(rootfs, "etc/passwd", max_user_db_bytes);
  const auto group = detail::read_file_in_root(rootfs, "etc/group", max_user_db_bytes);
  auto resolved = detail::resolve_user(spec, passwd, group, o.image_ref);
  home = resolved.home;
  return RunUser{resolved.uid, resolved.gid, std::move(resolved.additional_gids), std::nullopt,
                 std::move(resolved.name)};
}

}  // namespace

std::vector<RunMount> standard_linux_mounts() {
  return {
      {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
      {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
  };
}

RunSpec make_run_spec(const ImageConfig& image, const fs::path& rootfs, const RunOverrides& o) {
  const auto host_os = host_os_of(o);
  check_image_os(image, host_os, o);
  check_rlimits(o.rlimits);
  const auto limits = parse_limits(o);
  if (host_os == "freebsd" && o.cpu_shares)
    throw Error(
        ErrorCode::unsupported,
        fmt::format("run {}: cpu shares have no FreeBSD equivalent (rctl has no weights): use cpus", image_label(o)));

  RunSpec spec;
  spec.oci_version = host_os == "freebsd" ? freebsd_oci_version : default_oci_version;
  spec.hostname = detail::docker_hostname(o);
  std::string home;
  spec.process.user = resolve_user(image, rootfs, o, home);
  spec.process.args = detail::docker_args(image.config, o);
  spec.process.env = detail::docker_env(image.config.env, o.env, {spec.hostname.value_or(""), o.terminal, home});
  check_exec_strings(spec.process.args, "argument", o);
  check_exec_strings(spec.process.env, "environment", o);
  spec.process.cwd = detail::docker_workdir(image.config, o);
  spec.process.terminal = o.terminal;
  spec.process.no_new_privileges = o.no_new_privileges;
  spec.process.rlimits = o.rlimits;
  spec.root = RunRoot{rootfs.string(), o.read_only};

  auto mine = user_mounts(o, host_os);
  if (host_os == "linux") {
    const auto caps = to_strings(docker_default_capabilities);
    spec.process.capabilities = Capabilities{caps, caps, {}, caps, {}};
    spec.mounts = linux_mounts(std::move(mine));
    spec.linux_config = linux_config(o, limits);
  } else {
    spec.mounts = std::move(mine);
    spec.freebsd_config = freebsd_config(o, spec.hostname.has_value());
  }
  spec.annotations = knast_annotations(image, host_os, limits, o);
  if (spec.freebsd_config) {
    // An address list implies the jail's own addresses (jail(8): ip4.addr implies ip4=new).
    // A vnet jail cannot have address restrictions (jail(2)), so addresses mean the host's
    // stack, and a family without addresses is disabled.
    auto& jail = *spec.freebsd_config->jail;
    const bool has_ip4 = spec.annotations.contains(std::string(annotation::ip4_addresses));
    const bool has_ip6 = spec.annotations.contains(std::string(annotation::ip6_addresses));
    if ((has_ip4 || has_ip6) && !o.host_network) {
      jail.vnet.reset();
      jail.ip4 = has_ip4 ? SharingMode::new_ : SharingMode::disable;
      jail.ip6 = has_ip6 ? SharingMode::new_ : SharingMode::disable;
    } else if (o.host_network) {
      if (has_ip4) jail.ip4 = SharingMode::new_;
      if (has_ip6) jail.ip6 = SharingMode::new_;
    }
  }
  return spec;
}

}  // namespace v0
}  // namespace knast
