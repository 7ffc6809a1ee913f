/// @file linuxulator.hpp
/// @brief Linuxulator: which images run where, ELF branding of Linux trees, and the
///        Linux-emulation plan (kernel modules, mounts, jail parameters, files) a Linux
///        image needs in a FreeBSD jail. docs/linuxulator.md is the guide.
///
/// Everything here except brand_tree(), prepare_linux_root(), preflight() and the
/// `current()` facts is pure: it computes values from values, so it behaves the same on
/// every OS and is tested with golden files.
#pragma once

#include <knast/export.hpp>
#include <knast/platform.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace knast {
inline namespace v0 {

// ---- Which images run where -----------------------------------------------------------

/// What the kernel says about recognising ELF files, read on a FreeBSD host from
/// `kern.elf64.fallback_brand` and `kern.elf32.fallback_brand` (elf(5), linux(4)).
/// The brand the kernel gives an ELF file it recognises no other way; 3 (ELFOSABI_LINUX)
/// makes every unrecognised binary Linux, so branding is not needed.
struct KNAST_API KernelFacts {
  std::optional<int> elf64_fallback_brand;  ///< Unset: not a FreeBSD host, or unreadable.
  std::optional<int> elf32_fallback_brand;  ///< Unset: not a FreeBSD host, or unreadable.

  /// The facts of the running kernel (both unset off FreeBSD).
  static KernelFacts current();
  /// Whether the kernel already treats every unrecognised 64-bit (and, when @p also_32bit,
  /// 32-bit) ELF file as Linux.
  bool linux_fallback(bool also_32bit = false) const noexcept;
  /// Facts compare by every field.
  friend bool operator==(const KernelFacts&, const KernelFacts&) = default;
};

/// A host: its platform and its kernel facts.
struct KNAST_API HostFacts {
  Platform platform;   ///< os/architecture of the host (normalised).
  KernelFacts kernel;  ///< Only meaningful on FreeBSD.

  /// The running host.
  static HostFacts current();
  /// A FreeBSD host of @p architecture with the kernel defaults (fallback_brand -1), to
  /// answer "what would happen on FreeBSD" from any machine.
  static HostFacts freebsd(std::string_view architecture = "amd64");
};

/// How an image runs on a host.
enum class RunMethod {
  freebsd_jail,      ///< A FreeBSD image in a jail, natively.
  linuxulator_jail,  ///< A Linux image in a jail through the Linux ABI (linux64 or linux).
  linux_namespaces,  ///< A Linux image on a Linux host, in namespaces.
};

/// "freebsd-jail", "linuxulator-jail" or "linux-namespaces".
KNAST_API std::string_view to_string(RunMethod method) noexcept;

/// What decide_run() found.
struct KNAST_API RunDecision {
  RunMethod method = RunMethod::freebsd_jail;  ///< How the image runs.
  Platform image;                              ///< The image's platform (normalised).
  Platform host;                               ///< The host's platform (normalised).
  /// The Linux ABI module the image's binaries need ("linux64", or "linux" for 386);
  /// empty unless method is linuxulator_jail.
  std::string abi_module;
  /// Whether ELF branding in BrandMode::automatic has work to do: a Linuxulator jail on
  /// a kernel whose fallback brand is not Linux.
  bool branding_needed = false;
  /// One sentence saying why, e.g. "linux/amd64 image on freebsd/amd64 host: jail through
  /// the Linuxulator (linux64)".
  std::string explanation;
};

/// Decides how an image of platform @p image runs on @p host — a pure function of the
/// two platforms and the host's kernel facts:
/// - FreeBSD image on FreeBSD: a native jail when the architectures match (an amd64 host
///   also runs 386, with containerd's matching rules);
/// - Linux image on FreeBSD: a Linuxulator jail for amd64 (linux64) and 386 (linux) on an
///   amd64 host, arm64 (linux64) on an arm64 host;
/// - Linux image on Linux: namespaces when the architectures match;
/// - anything else (a FreeBSD image on Linux, another os or architecture, an unknown
///   host): refused.
/// @throws Error unsupported with a message naming the image's and the host's platform
///         and what would run there; invalid_argument when the image has no os or
///         architecture.
KNAST_API RunDecision decide_run(const Platform& image, const HostFacts& host);

/// Chooses, from the platforms an image offers, the one @p host should run: a native one
/// (same os, matching architecture) first, then on FreeBSD a Linux one the Linuxulator
/// runs (amd64 before 386). Nothing when none can run there.
KNAST_API std::optional<Platform> choose_image_platform(const std::vector<Platform>& available,
                                                        const HostFacts& host);

// ---- ELF branding ---------------------------------------------------------------------

/// Which ELF files brand_tree() brands.
enum class BrandMode {
  /// Only the executables the FreeBSD kernel would not recognise as Linux (no interpreter
  /// it knows and no Linux ABI note: static binaries such as busybox-static and most Go
  /// programs), and nothing at all when the kernel's fallback brand is already Linux.
  automatic,
  /// Every ELF file, as `brandelf -t Linux` over the whole tree does.
  all,
  /// Nothing (the walk still counts).
  none,
};

/// "auto", "all" or "none".
KNAST_API std::string_view to_string(BrandMode mode) noexcept;
/// The mode named @p name ("auto", "all", "none"). @throws Error invalid_argument.
KNAST_API BrandMode parse_brand_mode(std::string_view name);

/// What brand_tree() does.
enum class BrandOperation {
  brand,  ///< Write EI_OSABI = 3 where the mode asks for it, recording the old byte.
  scan,   ///< Decide and count as brand would, but never write.
  undo,   ///< Put back the bytes the record holds, then remove the record.
};

/// How brand_tree() works.
struct KNAST_API BrandOptions {
  BrandMode mode = BrandMode::automatic;          ///< Which files (brand and scan).
  BrandOperation operation = BrandOperation::brand;  ///< Brand, scan or undo.
  /// The kernel facts automatic mode consults; unset: KernelFacts::current().
  std::optional<KernelFacts> kernel;
  /// The record of original bytes; empty: default_brand_record(root).
  std::filesystem::path record;
  /// Walking threads; 0: the number of CPUs, at least 2 and at most 8.
  unsigned threads = 0;
  /// An ELF index of the tree (ApplyOptions::elf_index, ChainInfo::elf_index); empty:
  /// none. Files it shows unchanged since they were unpacked and not ELF are counted as
  /// scanned without being opened. An index of another tree only saves nothing.
  std::filesystem::path elf_index;
};

/// One file brand_tree() left alone for a reason worth reporting.
struct KNAST_API BrandSkip {
  std::string path;    ///< Relative to the root.
  std::string reason;  ///< "truncated ELF header", "read-only file system", ...
};

/// What brand_tree() found and did.
struct KNAST_API BrandReport {
  std::uint64_t scanned = 0;          ///< Regular files looked at.
  std::uint64_t elf = 0;              ///< Of them, valid ELF files.
  std::uint64_t elf32 = 0;            ///< Of those, 32-bit ones (they need the `linux` module).
  std::uint64_t needs_brand = 0;      ///< ELF files the mode selects whose byte is not 3 yet.
  std::uint64_t branded = 0;          ///< Files written (0 in a scan).
  std::uint64_t already_branded = 0;  ///< Selected files whose EI_OSABI was 3 already.
  std::uint64_t restored = 0;         ///< Files put back by undo.
  std::uint64_t skipped = 0;          ///< Files not handled; the first 100 are in @ref skips.
  /// Scanned files the ELF index showed unchanged and not ELF, so not opened.
  std::uint64_t known_not_elf = 0;
  std::vector<BrandSkip> skips;       ///< Why, per file (sorted by path).
  /// Automatic mode found the kernel's fallback brand already Linux and wrote nothing.
  bool kernel_fallback = false;
  std::filesystem::path record;       ///< The record used (written, read or removed).
};

/// Where brand_tree() keeps the original bytes of @p root by default: the file
/// `<root>.knast-brand.json` beside the tree (in its parent folder), never inside it, so
/// the tree's content is exactly the image's plus the changed bytes.
KNAST_API std::filesystem::path default_brand_record(const std::filesystem::path& root);

/// Brands (or scans, or un-brands) the ELF files of the tree @p root in place: sets byte
/// 7 of the ELF header (EI_OSABI) to 3 (ELFOSABI_LINUX), as `brandelf -t Linux` does.
///
/// Only the ELF header, the program headers and, for files without a known interpreter,
/// their PT_NOTE and PT_INTERP contents are read (pread); the one byte is written with
/// pwrite, only where it changes; the file's mode and its access and modification times
/// are kept. Symlinks are never followed (the walk uses fstatat with
/// AT_SYMLINK_NOFOLLOW and opens with O_NOFOLLOW), nothing outside @p root is touched and
/// the walk does not cross into other file systems mounted below it. Directories are
/// read by a small thread pool.
///
/// Before the first write, every file about to change and its old byte are written to
/// the record (see BrandOptions::record), merged with an earlier record of the same tree,
/// so a second run is a no-op and undo always restores the first original. Undo restores
/// only files whose byte is still 3, then removes the record.
///
/// With an ELF index (BrandOptions::elf_index) the walk stats every file first and opens
/// only those the index does not show unchanged and not ELF: on a tree knast unpacked,
/// most files are never opened, and in mode `all` the ELF files are opened only to be
/// written (the index holds their headers).
///
/// Files that cannot be read or written (permission, read-only file system, immutable
/// flags) and malformed ELF files are skipped and reported, not fatal.
/// @throws Error not_found (no @p root, no ELF index at a given path or, for undo, no
///         record), invalid_argument (root not a directory, a record of another tree, a
///         file that is not an ELF index), io.
KNAST_API BrandReport brand_tree(const std::filesystem::path& root, const BrandOptions& options = {});

/// A report as JSON: {"scanned", "elf", "elf32", "needs_brand", "branded",
/// "already_branded", "restored", "skipped", "known_not_elf", "skips": [{"path",
/// "reason"}], "kernel_fallback", "record"}.
KNAST_API std::string to_json(const BrandReport& report);

// ---- The Linux-emulation plan ---------------------------------------------------------

/// Flags of a mount, independent of the OS (each executor spells them its own way:
/// nmount(2) options on FreeBSD, MS_* on Linux).
enum class MountFlags : std::uint32_t {
  none = 0,              ///< No flag.
  read_only = 1u << 0,   ///< ro
  nosuid = 1u << 1,      ///< nosuid
  noexec = 1u << 2,      ///< noexec
};
/// Both sets of flags.
constexpr MountFlags operator|(MountFlags a, MountFlags b) noexcept {
  return static_cast<MountFlags>(static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b));
}
/// The flags in both.
constexpr MountFlags operator&(MountFlags a, MountFlags b) noexcept {
  return static_cast<MountFlags>(static_cast<std::uint32_t>(a) & static_cast<std::uint32_t>(b));
}
/// Whether @p flags holds @p flag.
constexpr bool has_flag(MountFlags flags, MountFlags flag) noexcept { return (flags & flag) == flag; }
/// The flags by name, comma-separated ("nosuid,noexec"), "" for none.
KNAST_API std::string to_string(MountFlags flags);

/// One mount into a container root: what a Jail executor turns into nmount(2) or
/// mount(2). A plain value, shared by every component that plans mounts.
struct KNAST_API MountStep {
  std::string fstype;  ///< "devfs", "fdescfs", "linprocfs", "tmpfs", "nullfs", ...
  std::string source;  ///< What is mounted ("devfs", a host path for nullfs, ...).
  std::string target;  ///< Absolute path inside the root ("/dev/fd"), never through a symlink.
  /// File-system options in order, as key/value pairs; a flag-like option has an empty
  /// value ("linrdlnk" → {"linrdlnk", ""}).
  std::vector<std::pair<std::string, std::string>> options;
  MountFlags flags = MountFlags::none;  ///< Generic flags.
  /// Steps compare by every field.
  friend bool operator==(const MountStep&, const MountStep&) = default;
};

/// A jail parameter's value exactly as jail_set(2) takes it: a boolean (set by name, or
/// its "no" form), an integer, or a string.
using JailParamValue = std::variant<bool, std::int64_t, std::string>;

/// A FreeBSD kernel module the host must have: the file kldload(2) loads and the module
/// name modfind(2) finds when it is compiled into the kernel instead.
struct KNAST_API KernelModule {
  std::string file;    ///< "linux64", "linprocfs", ...
  std::string module;  ///< "linux64elf", "linprocfs", ...
  std::string reason;  ///< Why the plan needs it.
  /// Modules compare by every field.
  friend bool operator==(const KernelModule&, const KernelModule&) = default;
};

/// One devfs rule: a path pattern (fnmatch(3), relative to the devfs root) and "unhide"
/// or "hide".
struct KNAST_API DevfsRule {
  std::string pattern;  ///< "shm", "shm/*".
  std::string action;   ///< "unhide" or "hide".
  /// Rules compare by every field.
  friend bool operator==(const DevfsRule&, const DevfsRule&) = default;
};

/// A devfs ruleset the host must define before /dev is mounted with it (devfs.rules(5)).
struct KNAST_API DevfsRuleset {
  std::uint32_t number = 0;   ///< The ruleset's number (1-65535).
  std::uint32_t include = 0;  ///< A ruleset included first (4, devfsrules_jail), or 0.
  std::vector<DevfsRule> rules;  ///< Applied after the included ruleset, in order.
  /// Rulesets compare by every field.
  friend bool operator==(const DevfsRuleset&, const DevfsRuleset&) = default;
};

/// A file a Linux userland expects, written into the root before it starts.
struct KNAST_API RootFile {
  std::string path;        ///< Absolute inside the root ("/etc/hosts").
  std::string content;     ///< The whole content.
  std::uint32_t mode = 0644;  ///< Permission bits.
  /// Files compare by every field.
  friend bool operator==(const RootFile&, const RootFile&) = default;
};

/// What a Linux root on FreeBSD is set up with.
struct KNAST_API LinuxEmulationOptions {
  /// `linux.osrelease`: the kernel release Linux programs see. glibc refuses to start
  /// ("FATAL: kernel too old") below the release it was built for, so this must be high
  /// enough for the image's glibc; a version "A.B.C".
  std::string osrelease = "5.15.0";
  /// `linux.osname`.
  std::string osname = "Linux";
  /// The container's hostname (/etc/hostname, /etc/hosts).
  std::string hostname = "knast";
  /// The content of /etc/resolv.conf; empty: the image's own file is left as it is.
  std::string resolv_conf;
  /// The devfs ruleset knast defines for Linux roots (ruleset 4 plus /dev/shm).
  std::uint32_t devfs_ruleset = 40;
  /// The tree holds 32-bit binaries (BrandReport::elf32 > 0): add the `linux` module to
  /// a 64-bit image's plan. A 386 image always has it.
  bool include_32bit = false;
};

/// Everything a Linux image needs in a FreeBSD jail, as plain data for the Jail
/// component: host kernel modules (a jail cannot load them), the devfs ruleset, the
/// mounts in order, the jail parameters and the files.
struct KNAST_API LinuxEmulationPlan {
  Platform image;                                     ///< The image's platform.
  std::vector<KernelModule> kernel_modules;           ///< In load order.
  DevfsRuleset devfs_ruleset;                         ///< Ruleset of the /dev mount.
  std::vector<MountStep> mounts;                      ///< In mount order (unmount in reverse).
  std::map<std::string, JailParamValue> jail_params;  ///< Name → value, for jail_set(2).
  std::vector<RootFile> files;                        ///< Written into the root.
  /// Plans compare by every field.
  friend bool operator==(const LinuxEmulationPlan&, const LinuxEmulationPlan&) = default;
};

/// The plan for a Linux image of platform @p image: modules linux64 (amd64, arm64) or
/// linux (386), linprocfs, linsysfs, fdescfs, tmpfs; mounts devfs /dev (ruleset
/// LinuxEmulationOptions::devfs_ruleset), fdescfs /dev/fd (linrdlnk), linprocfs
/// /proc, linsysfs /sys, tmpfs /dev/shm (mode 1777); jail parameters `linux.osname`,
/// `linux.osrelease`, `devfs_ruleset`; files /etc/hostname, /etc/hosts and (when given)
/// /etc/resolv.conf.
/// @throws Error invalid_argument (not a Linux image, a bad osrelease, hostname or
///         ruleset), unsupported (an architecture the Linuxulator does not run).
KNAST_API LinuxEmulationPlan make_linux_emulation_plan(const Platform& image,
                                                       const LinuxEmulationOptions& options = {});

/// The plan as JSON (keys in a fixed order; the golden files hold this).
KNAST_API std::string to_json(const LinuxEmulationPlan& plan);
/// The plan as text a FreeBSD administrator can read and reuse: the kldload lines, the
/// devfs.rules stanza, the mounts as mount(8) commands relative to the root `$root`, the
/// jail parameters as a jail.conf(5) fragment and the files.
KNAST_API std::string to_text(const LinuxEmulationPlan& plan);

// ---- Preparing a root and the host ----------------------------------------------------

/// What prepare_linux_root() and preflight() did.
struct KNAST_API PreflightReport {
  std::vector<std::string> modules_present;  ///< Modules already in the kernel.
  std::vector<std::string> modules_loaded;   ///< Modules this call loaded.
  std::vector<std::string> created;          ///< Mount points created in the root.
  std::vector<std::string> files_written;    ///< Files of the plan written into the root.
};

/// Makes @p root ready for @p plan on any OS: creates the mount points the host mounts on
/// (targets not below another mount of the plan: /dev, /proc, /sys) and writes the
/// plan's files (atomically; a symlink in their place is replaced, never followed).
/// Every path is resolved inside @p root component by component without following a
/// symlink: a mount point or parent folder that is a symlink is refused.
/// @throws Error invalid_argument (a symlink or non-directory in the way), not_found
///         (no root), io.
KNAST_API PreflightReport prepare_linux_root(const LinuxEmulationPlan& plan, const std::filesystem::path& root);

/// How preflight() treats missing kernel modules.
struct KNAST_API PreflightOptions {
  bool load_modules = false;  ///< kldload missing modules (root only) instead of failing.
  bool prepare_root = true;   ///< Also run prepare_linux_root().
};

/// Checks a FreeBSD host for @p plan: every kernel module is loaded (kldfind) or compiled
/// in (modfind), else loaded when allowed; then prepare_linux_root().
/// @throws Error unsupported off FreeBSD; not_found for a missing module, saying
///         exactly "kernel module linux64 is not loaded: run `kldload linux64` or set
///         linux_enable=YES in rc.conf" (with the module's own advice); as
///         prepare_linux_root().
KNAST_API PreflightReport preflight(const LinuxEmulationPlan& plan, const std::filesystem::path& root,
                                    const PreflightOptions& options = {});

}  // namespace v0
}  // namespace knast
