/// @file run_spec.hpp
/// @brief RunSpec: the OCI runtime configuration (`config.json` of a bundle) as a value,
///        made from an image config with docker's rules, and OCI bundles read and written.
///
/// A RunSpec says everything about one container that is not the root filesystem itself:
/// the process (argv, environment, working directory, user, terminal, rlimits,
/// capabilities), the hostname, the root, the mounts, the Linux part (namespaces, limits)
/// or the FreeBSD part (jail parameters, devices) and annotations. It is plain data: the
/// Linux and FreeBSD executors of the Jail component carry it out, and `crun run` runs a
/// bundle knast writes. See @ref run_spec_guide for the rules in full.
///
/// JSON: RunSpec::parse() is strict about what it models (types, ranges, required
/// fields; errors name the field: "runtime config: process.user.uid: must be a
/// non-negative integer, got -1") and ignores properties it does not model, as the
/// runtime spec requires of runtimes; the overload with `ignored_fields` lists them so a
/// caller can warn that, say, `linux.seccomp` will not be applied. to_json() writes
/// indented JSON with sorted keys and only the fields that are set.
#pragma once

#include <knast/export.hpp>
#include <knast/oci.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {

/// The `ociVersion` knast writes for a Linux host: the newest runtime-spec version that
/// Debian 12's crun 1.8.1 accepts (it refuses 1.2.0 and later with "unknown version
/// specified"; checked by the interop test).
inline constexpr std::string_view default_oci_version = "1.1.0";
/// The `ociVersion` knast writes for a FreeBSD host: the runtime-spec release that
/// defines the `freebsd` section.
inline constexpr std::string_view freebsd_oci_version = "1.3.0";
/// Largest config.json RunSpec::parse() and read_bundle() accept.
inline constexpr std::size_t max_run_spec_bytes = 4 * 1024 * 1024;

/// The PATH docker puts into every Linux container whose image sets none.
inline constexpr std::string_view docker_default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The capabilities docker keeps for a container by default (moby `caps.DefaultCapabilities`):
/// the bounding, permitted and effective sets of every process make_run_spec() plans for Linux.
inline constexpr std::array<std::string_view, 14> docker_default_capabilities = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE"};

/// The paths docker hides inside a Linux container (`linux.maskedPaths`).
inline constexpr std::array<std::string_view, 10> docker_masked_paths = {
    "/proc/asound",     "/proc/acpi",        "/proc/kcore",       "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"};

/// The paths docker makes read-only inside a Linux container (`linux.readonlyPaths`).
inline constexpr std::array<std::string_view, 5> docker_readonly_paths = {"/proc/bus", "/proc/fs", "/proc/irq",
                                                                          "/proc/sys", "/proc/sysrq-trigger"};

/// Annotations knast defines for what the runtime spec leaves out. All start with
/// `org.knast.`; the FreeBSD executor reads them, other runtimes ignore them.
namespace annotation {
/// "true" when a Linux image runs on a FreeBSD host through the Linuxulator: the jail
/// gets `linux=new` and the Linux mounts (linprocfs, linsysfs, ...). Absent or "false":
/// a native image.
inline constexpr std::string_view linux_emulation = "org.knast.freebsd.linux";
/// The Linux kernel release the jail reports (jail parameter `linux.osrelease`, e.g.
/// "5.15.0"): digits separated by dots, at most 64 characters.
inline constexpr std::string_view linux_osrelease = "org.knast.freebsd.linux.osrelease";
/// rctl(8) rules for the jail, without their subject, separated by commas:
/// "memoryuse:deny=536870912,maxproc:deny=100,pcpu:deny=150". The executor adds them as
/// `jail:<name>:<rule>` and removes them at teardown.
inline constexpr std::string_view rctl = "org.knast.freebsd.rctl";
/// The jail's IPv4 addresses (jail parameter `ip4.addr`), comma-separated, the first
/// being the primary one. Only with `freebsd.jail.ip4` = new (or absent).
inline constexpr std::string_view ip4_addresses = "org.knast.freebsd.ip4.addr";
/// The jail's IPv6 addresses (jail parameter `ip6.addr`), as for ip4_addresses.
inline constexpr std::string_view ip6_addresses = "org.knast.freebsd.ip6.addr";
/// The image's platform, "os/architecture[/variant]" ("linux/amd64"): make_run_spec()
/// writes it for a FreeBSD host, and the FreeBSD executor picks the Linux ABI module
/// (linux64 or linux) from it. Absent: plan_freebsd_jail() assumes amd64.
inline constexpr std::string_view image_platform = "org.knast.image.platform";
}  // namespace annotation

/// One POSIX resource limit of the process (`process.rlimits[]`).
struct KNAST_API PosixRlimit {
  std::string type;        ///< `type`: "RLIMIT_NOFILE", "RLIMIT_NPROC", ...
  std::uint64_t hard = 0;  ///< `hard`: the ceiling (2^64-1 is unlimited).
  std::uint64_t soft = 0;  ///< `soft`: the value in force, at most `hard`.
  /// Limits compare field by field.
  friend bool operator==(const PosixRlimit&, const PosixRlimit&) = default;
};

/// Who the process runs as (`process.user`).
struct KNAST_API RunUser {
  std::uint32_t uid = 0;                       ///< `uid`.
  std::uint32_t gid = 0;                       ///< `gid`: the primary group.
  std::vector<std::uint32_t> additional_gids;  ///< `additionalGids`: supplementary groups.
  std::optional<std::uint32_t> umask;          ///< `umask`, if set.
  /// `username`: the name the user was given by, for messages only (the runtime spec
  /// defines it for Windows; Linux runtimes ignore it).
  std::optional<std::string> username;
  /// Users compare field by field.
  friend bool operator==(const RunUser&, const RunUser&) = default;
};

/// The Linux capability sets of the process (`process.capabilities`).
struct KNAST_API Capabilities {
  std::vector<std::string> bounding;     ///< `bounding`.
  std::vector<std::string> effective;    ///< `effective`.
  std::vector<std::string> inheritable;  ///< `inheritable`.
  std::vector<std::string> permitted;    ///< `permitted`.
  std::vector<std::string> ambient;      ///< `ambient`.
  /// Sets compare field by field.
  friend bool operator==(const Capabilities&, const Capabilities&) = default;
};

/// The container's process (`process`).
struct KNAST_API RunProcess {
  bool terminal = false;                     ///< `terminal`: give it a pseudo-terminal.
  RunUser user;                              ///< `user`.
  std::vector<std::string> args;             ///< `args`: argv, never empty; args[0] is looked up in PATH.
  std::vector<std::string> env;              ///< `env`: "NAME=value" entries.
  std::string cwd = "/";                     ///< `cwd`: absolute working directory.
  std::optional<Capabilities> capabilities;  ///< `capabilities` (Linux only).
  std::vector<PosixRlimit> rlimits;          ///< `rlimits`.
  bool no_new_privileges = false;            ///< `noNewPrivileges`.
  /// Processes compare field by field.
  friend bool operator==(const RunProcess&, const RunProcess&) = default;
};

/// The container's root filesystem (`root`).
struct KNAST_API RunRoot {
  std::string path;       ///< `path`: absolute, or relative to the bundle directory.
  bool readonly = false;  ///< `readonly`.
  /// Roots compare field by field.
  friend bool operator==(const RunRoot&, const RunRoot&) = default;
};

/// One mount made inside the container (`mounts[]`), in order.
struct KNAST_API RunMount {
  std::string destination;           ///< `destination`: absolute path inside the container.
  std::string type;                  ///< `type`: "proc", "tmpfs", "bind", "nullfs", ... (may be empty).
  std::string source;                ///< `source`: a host path or a file system's name (may be empty).
  std::vector<std::string> options;  ///< `options`: mount(8)-style options, in order.
  /// Mounts compare field by field.
  friend bool operator==(const RunMount&, const RunMount&) = default;
};

/// One Linux namespace of the container (`linux.namespaces[]`).
struct KNAST_API LinuxNamespace {
  std::string type;                 ///< `type`: pid, network, mount, ipc, uts, user or cgroup.
  std::optional<std::string> path;  ///< `path`: join this existing namespace instead of making one.
  /// Namespaces compare field by field.
  friend bool operator==(const LinuxNamespace&, const LinuxNamespace&) = default;
};

/// The limits knast applies on Linux (`linux.resources`; other resources are ignored).
struct KNAST_API LinuxResources {
  std::optional<std::int64_t> memory_limit;  ///< `memory.limit`, bytes.
  std::optional<std::int64_t> pids_limit;    ///< `pids.limit`, processes.
  std::optional<std::uint64_t> cpu_shares;   ///< `cpu.shares`, relative weight (docker: 1024 = one share).
  std::optional<std::int64_t> cpu_quota;     ///< `cpu.quota`, microseconds per period.
  std::optional<std::uint64_t> cpu_period;   ///< `cpu.period`, microseconds.
  /// Resources compare field by field.
  friend bool operator==(const LinuxResources&, const LinuxResources&) = default;
};

/// The Linux part of the configuration (`linux`).
struct KNAST_API LinuxConfig {
  std::vector<LinuxNamespace> namespaces;   ///< `namespaces`.
  LinuxResources resources;                 ///< `resources` (the part knast supports).
  std::vector<std::string> masked_paths;    ///< `maskedPaths`.
  std::vector<std::string> readonly_paths;  ///< `readonlyPaths`.
  /// Configs compare field by field.
  friend bool operator==(const LinuxConfig&, const LinuxConfig&) = default;
};

/// How a jail shares one kind of kernel state with its parent (the runtime spec's
/// `SharingMode`; `jailsys` parameters in jail(8)).
enum class SharingMode {
  disable,  ///< "disable": not available in the jail.
  new_,     ///< "new": the jail gets its own.
  inherit,  ///< "inherit": the jail uses its parent's.
};

/// The spelling of @p mode in the runtime spec ("disable", "new", "inherit").
KNAST_API std::string_view to_string(SharingMode mode) noexcept;

/// What a jail may do (`freebsd.jail.allow`); an absent value leaves the kernel's default.
struct KNAST_API JailAllow {
  std::optional<bool> set_hostname;    ///< `setHostname` (allow.set_hostname).
  std::optional<bool> raw_sockets;     ///< `rawSockets` (allow.raw_sockets).
  std::optional<bool> chflags;         ///< `chflags` (allow.chflags).
  std::vector<std::string> mount;      ///< `mount`: file system types it may mount (allow.mount.\<fs\>).
  std::optional<bool> quotas;          ///< `quotas` (allow.quotas).
  std::optional<bool> socket_af;       ///< `socketAf` (allow.socket_af).
  std::optional<bool> reserved_ports;  ///< `reservedPorts` (allow.reserved_ports).
  std::optional<bool> suser;           ///< `suser` (allow.suser).
  /// Allow sets compare field by field.
  friend bool operator==(const JailAllow&, const JailAllow&) = default;
};

/// The jail parameters of the runtime spec (`freebsd.jail`); absent ones keep jail(8)'s defaults.
struct KNAST_API FreeBsdJail {
  std::optional<std::string> parent;   ///< `parent`: name of the parent jail.
  std::optional<SharingMode> host;     ///< `host`: new or inherit (not disable).
  std::optional<SharingMode> ip4;      ///< `ip4`.
  std::optional<SharingMode> ip6;      ///< `ip6`.
  std::optional<SharingMode> vnet;     ///< `vnet`: new or inherit (not disable).
  std::optional<SharingMode> sysvmsg;  ///< `sysvmsg` (spec default: new).
  std::optional<SharingMode> sysvsem;  ///< `sysvsem` (spec default: new).
  std::optional<SharingMode> sysvshm;  ///< `sysvshm` (spec default: new).
  std::optional<int> enforce_statfs;   ///< `enforceStatfs`: 0, 1 or 2 (default 2).
  std::optional<JailAllow> allow;      ///< `allow`.
  /// Jails compare field by field.
  friend bool operator==(const FreeBsdJail&, const FreeBsdJail&) = default;
};

/// A device made visible in the jail's devfs (`freebsd.devices[]`).
struct KNAST_API FreeBsdDevice {
  std::string path;                   ///< `path`: relative to /dev ("pf").
  std::optional<std::uint32_t> mode;  ///< `mode`: file mode (JSON writes it in decimal: 448 = 0700).
  /// Devices compare field by field.
  friend bool operator==(const FreeBsdDevice&, const FreeBsdDevice&) = default;
};

/// The FreeBSD part of the configuration (`freebsd`, runtime-spec 1.3).
struct KNAST_API FreeBsdConfig {
  std::vector<FreeBsdDevice> devices;  ///< `devices`.
  std::optional<FreeBsdJail> jail;     ///< `jail`.
  /// Configs compare field by field.
  friend bool operator==(const FreeBsdConfig&, const FreeBsdConfig&) = default;
};

/// The OCI runtime configuration of one container.
struct KNAST_API RunSpec {
  std::string oci_version{default_oci_version};    ///< `ociVersion`: 1.x.y.
  RunProcess process;                              ///< `process` (required by knast).
  RunRoot root;                                    ///< `root`.
  std::optional<std::string> hostname;             ///< `hostname`.
  std::vector<RunMount> mounts;                    ///< `mounts`, in the order they are made.
  std::optional<LinuxConfig> linux_config;         ///< `linux`: present for a Linux host.
  std::optional<FreeBsdConfig> freebsd_config;     ///< `freebsd`: present for a FreeBSD host.
  std::map<std::string, std::string> annotations;  ///< `annotations`, including knast's (see knast::annotation).

  /// Parses and validates a config.json of at most max_run_spec_bytes. Required:
  /// `ociVersion` (major version 1), `process` with a non-empty `args` and an absolute
  /// `cwd`, `root.path`. Unknown properties are ignored, as the runtime spec asks.
  /// @throws Error invalid_argument naming the field; unsupported for another major
  ///         version; limit_exceeded for an oversized or too deeply nested document.
  static RunSpec parse(std::string_view json);
  /// As parse(), and lists in @p ignored_fields the JSON path of every property knast
  /// does not model ("linux.seccomp", "process.apparmorProfile"), object by object with
  /// each object's keys sorted.
  static RunSpec parse(std::string_view json, std::vector<std::string>& ignored_fields);

  /// Specs compare field by field.
  friend bool operator==(const RunSpec&, const RunSpec&) = default;
};

/// @p spec as config.json text: indented, keys sorted, only set fields, ending in a newline.
KNAST_API std::string to_json(const RunSpec& spec);

/// Writes @p spec as `config.json` into the bundle directory @p dir (created if missing,
/// its parent must exist), atomically: a temporary file, fsync, rename. The root
/// filesystem is not touched. @throws Error with the errno on failure.
KNAST_API void write_bundle(const std::filesystem::path& dir, const RunSpec& spec);

/// Reads and parses `config.json` of the bundle directory @p dir.
/// @throws Error not_found without one; as RunSpec::parse() for bad content.
KNAST_API RunSpec read_bundle(const std::filesystem::path& dir);

/// What a caller adds to, or changes in, an image's config to run it: the options of
/// `docker run`. Every field is optional; a default RunOverrides runs the image as it is.
struct KNAST_API RunOverrides {
  /// The container's id: its first 12 characters are the default hostname (docker).
  std::string container_id;
  /// The image's name, for error messages only ("busybox:latest").
  std::string image_ref;
  /// The OS the container runs on, "linux" or "freebsd"; empty: this host's.
  std::string host_os;
  /// The command (docker's trailing arguments): replaces the image's Cmd. An empty list
  /// counts as not given, as in docker.
  std::optional<std::vector<std::string>> args;
  /// `--entrypoint`: replaces the image's Entrypoint, and then the image's Cmd is not
  /// used (only `args`). `{""}` is `--entrypoint ""`: no entrypoint, and still no image
  /// Cmd. `{}` (the API's empty list) clears the entrypoint but keeps the image's Cmd.
  std::optional<std::vector<std::string>> entrypoint;
  /// `-e`: "NAME=value" replaces or adds NAME; "NAME" alone removes it.
  std::vector<std::string> env;
  /// `-w`: absolute working directory.
  std::optional<std::string> workdir;
  /// `-u`: user as `name`, `uid`, `name:group`, `uid:gid`, `uid:group` or `name:gid`.
  std::optional<std::string> user;
  /// `--hostname`.
  std::optional<std::string> hostname;
  /// `-t`: a pseudo-terminal (also sets TERM=xterm, as docker does).
  bool terminal = false;
  /// `--read-only`: mount the root read-only.
  bool read_only = false;
  /// `--security-opt no-new-privileges`.
  bool no_new_privileges = false;
  /// Network: false gives the container its own, empty network stack (a Linux network
  /// namespace; on FreeBSD a vnet jail, loopback only); true shares the host's
  /// (`--network host`).
  bool host_network = false;
  /// `-v`: "SRC:DST[:ro|rw]" bind mounts of host directories or files (see parse_volume()).
  std::vector<std::string> volumes;
  /// `--tmpfs`: "DST[:options]", e.g. "/run:size=64m,mode=1777" (see parse_tmpfs()).
  std::vector<std::string> tmpfs;
  /// `--memory`: "512m", "1g", ... (see parse_byte_size()); at least 6 MiB.
  std::optional<std::string> memory;
  /// `--pids-limit`: at most this many processes; 0 or less is unlimited (docker).
  std::optional<std::int64_t> pids_limit;
  /// `--cpus`: "1.5" = one and a half CPUs (see parse_cpus()).
  std::optional<std::string> cpus;
  /// `--cpu-shares`: relative weight (Linux only; FreeBSD has no equivalent).
  std::optional<std::uint64_t> cpu_shares;
  /// `--ulimit`: resource limits of the process.
  std::vector<PosixRlimit> rlimits;
  /// The `linux.osrelease` a Linux image sees on FreeBSD (annotation::linux_osrelease).
  std::optional<std::string> linux_osrelease;
  /// Extra annotations (they replace knast's of the same name).
  std::map<std::string, std::string> annotations;
};

/// Makes the RunSpec of a container of the image @p image whose root filesystem is
/// @p rootfs, with docker's rules (see @ref run_spec_guide): argv from Entrypoint + Cmd
/// and the overrides; env = PATH (docker's default unless set), HOSTNAME, TERM with -t,
/// then the overrides and the image's env; HOME from the user's passwd entry unless set;
/// cwd = WorkingDir or "/"; the user resolved against @p rootfs's own /etc/passwd and
/// /etc/group, read without following any symbolic link; the hostname; volumes, tmpfs
/// mounts and limits. For a Linux host it adds standard_linux_mounts(), the namespaces,
/// docker's capabilities and masked paths; for a FreeBSD host the `freebsd.jail`
/// section and knast's annotations (rctl rules, Linux emulation for a Linux image).
/// @throws Error invalid_argument for a bad override or no command at all; not_found
///         for a user or group name the image does not have; unsupported for an image
///         user database that is a symbolic link.
KNAST_API RunSpec make_run_spec(const ImageConfig& image, const std::filesystem::path& rootfs,
                                const RunOverrides& overrides);

/// The mounts docker's default Linux spec makes in every container, in order: /proc,
/// /dev (tmpfs), /dev/pts, /dev/shm (64 MiB), /dev/mqueue, /sys (read-only).
KNAST_API std::vector<RunMount> standard_linux_mounts();

/// Parses a size as docker does (go-units RAMInBytes): a decimal number, an optional
/// unit b, k, m, g, t or p (powers of 1024, any case), optionally followed by "b" or
/// "ib": "512m", "1g", "1.5GiB", "4096". @throws Error invalid_argument.
KNAST_API std::int64_t parse_byte_size(std::string_view text);

/// Parses `--cpus` ("1.5", "0.25") into billionths of a CPU, refusing more than nine
/// decimals, zero and negatives. @throws Error invalid_argument.
KNAST_API std::int64_t parse_cpus(std::string_view text);

/// Parses a `-v` volume "SRC:DST[:OPTS]" into a bind mount for @p host_os ("linux":
/// type "bind" with rbind; "freebsd": type "nullfs"). SRC and DST must be absolute, DST
/// not "/"; OPTS is "ro" or "rw" (default). Named volumes are refused as unsupported.
/// @throws Error invalid_argument or unsupported, quoting the volume.
KNAST_API RunMount parse_volume(std::string_view text, std::string_view host_os);

/// Parses a `--tmpfs` "DST[:OPTS]" into a tmpfs mount: docker's defaults noexec, nosuid,
/// nodev, then OPTS (comma-separated; a later flag overrides its opposite, a later
/// key=value its earlier value); `size=` is converted to bytes, `mode=` must be octal.
/// @throws Error invalid_argument, quoting the mount.
KNAST_API RunMount parse_tmpfs(std::string_view text);

}  // namespace v0
}  // namespace knast
