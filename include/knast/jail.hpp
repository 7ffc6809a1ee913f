/// @file jail.hpp
/// @brief Jail: an OCI bundle (a RunSpec and its root) into a running, isolated
///        container — FreeBSD jails, Linux namespaces — with the OCI runtime's
///        lifecycle, supervision from outside, logs and teardown; and the FreeBSD jail
///        plan behind `--dry-run`. docs/jail.md is the guide.
///
/// A container lives in `<state root>/containers/<id>/` (DESIGN.md, "On-disk layout"):
/// `config.json` (the RunSpec it runs, root path made absolute), `state.json` (its
/// ContainerState), `container.log` (stdout and stderr of a container created with
/// StdioMode::log) and a lock held by its supervisor for as long as the container exists.
///
/// The supervisor is a small program (`knast-shim`, installed beside the library) that
/// Jail::create() starts: it makes the container and is the parent of its first process,
/// so it reaps it and records the exit status whether or not the caller is still there.
/// That is what makes `run -d`, `ps`, `stop`, `wait` and `rm` work across separate
/// processes, and it keeps every fork and namespace change out of the caller, which may be
/// a multi-threaded daemon or Python.
#pragma once

#include <knast/export.hpp>
#include <knast/linuxulator.hpp>
#include <knast/network.hpp>
#include <knast/plan.hpp>
#include <knast/platform.hpp>
#include <knast/run_spec.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace knast {
inline namespace v0 {

// ---- The FreeBSD jail plan (pure; what --dry-run prints) -------------------------------

/// What plan_freebsd_jail() needs beyond the RunSpec.
struct KNAST_API JailPlanOptions {
  /// The container's id; the jail is named jail_name() of it.
  std::string container_id;
  /// The root on the host (absolute); empty: the RunSpec's root.path.
  std::string root_path;
  /// The image's platform: for a Linux image it picks the Linux ABI module (linux64 or
  /// linux). Empty (no os): the spec's annotation::image_platform, else amd64 of the kind
  /// annotation::linux_emulation says (linux/amd64 when "true", freebsd/amd64 otherwise).
  Platform image;
  /// The tree holds 32-bit binaries (LinuxEmulationOptions::include_32bit).
  bool include_32bit = false;
};

/// One step of the jail plan (the same shape as the network plan's steps).
using JailPlanStep = PlanStep;

/// Everything that running one RunSpec on a FreeBSD host does, as plain data: what the
/// FreeBSD executor carries out and `--dry-run` prints.
struct KNAST_API JailPlan {
  std::string name;  ///< The jail's name, jail_name() of the container id.
  std::string path;  ///< The root on the host.
  /// jail_set(2) parameters in the order they are passed (JAIL_CREATE); `name`, `path`
  /// and `persist` included. Values as jail_set(2) takes them (jailsys parameters such as
  /// `ip4` or `vnet` as integers: 0 disable, 1 new, 2 inherit), except `ip4.addr` and
  /// `ip6.addr`: a comma-separated address list the executor packs into in_addr/in6_addr
  /// arrays.
  std::vector<std::pair<std::string, JailParamValue>> params;
  std::vector<KernelModule> kernel_modules;   ///< Host modules needed (Linux images), load order.
  std::optional<DevfsRuleset> devfs_ruleset;  ///< A ruleset knast defines before mounting /dev.
  /// Mounts in order, targets inside the root; unmounted in reverse at teardown.
  std::vector<MountStep> mounts;
  std::vector<RootFile> files;          ///< Files written into the root first.
  std::vector<std::string> rctl_rules;  ///< Full rctl(8) rules: "jail:knast-…:memoryuse:deny=536870912".
  RunProcess process;                   ///< What runs after jail_attach(2).
  std::vector<JailPlanStep> steps;      ///< The whole sequence, setup then teardown.
  /// Plans compare by every field.
  friend bool operator==(const JailPlan&, const JailPlan&) = default;
};

/// The jail name of a container: "knast-" and the first 12 characters of @p container_id
/// (jail names may not hold dots; ids are hex or docker-like names).
/// @throws Error invalid_argument for an id a jail cannot be named after.
KNAST_API std::string jail_name(std::string_view container_id);

/// The plan for running @p spec on a FreeBSD host: jail parameters (persist, name, path,
/// host.hostname, ip4/ip6/vnet from the spec and its address annotations, enforce_statfs,
/// devfs_ruleset, children.max=0, allow.* from the spec, linux.* for a Linux image),
/// the mounts (devfs, then the spec's mounts as nullfs/tmpfs, the Linux mounts from
/// make_linux_emulation_plan() for a Linux image), rctl rules from annotation::rctl,
/// and the process. Pure: the same everywhere, golden-tested.
/// @throws Error invalid_argument for what a FreeBSD host cannot do (a Linux-only mount
///         type, a bind mount of a UNIX socket is not detectable here and is refused at
///         run time), unsupported for an image platform the Linuxulator does not run, a
///         `freebsd.jail.parent` or a read-only root (not supported on FreeBSD yet).
KNAST_API JailPlan plan_freebsd_jail(const RunSpec& spec, const JailPlanOptions& options);

/// The plan as JSON (fixed key order; golden files hold this).
KNAST_API std::string to_json(const JailPlan& plan);
/// An equivalent jail.conf(5) stanza, `mount.devfs`/`mount.fstab`-free: every mount as a
/// `mount +=` line, exec.start the process, exec.prestart/poststop the rctl rules.
KNAST_API std::string to_jail_conf(const JailPlan& plan);
/// What `--dry-run` prints: the steps in order, the parameters, mounts and rctl rules,
/// then to_jail_conf().
KNAST_API std::string to_text(const JailPlan& plan);

// ---- Containers -----------------------------------------------------------------------

/// Where a container is in its life (OCI runtime states).
enum class ContainerStatus {
  creating,  ///< Being made; a container left like this by a crash can only be deleted.
  created,   ///< Made, its process waiting to run the program.
  running,   ///< The program runs.
  stopped,   ///< The first process exited; the exit status is known.
};

/// "creating", "created", "running" or "stopped".
KNAST_API std::string_view to_string(ContainerStatus status) noexcept;

/// What `state.json` records about a container.
struct KNAST_API ContainerState {
  std::string id;                      ///< The container's id.
  std::string name;                    ///< Its name, if given (docker `--name`).
  std::string image;                   ///< The image it was made from, for display.
  ContainerStatus status = ContainerStatus::creating;  ///< Where it is.
  std::int64_t pid = 0;                ///< Host pid of its first process (0 before created).
  std::int64_t supervisor_pid = 0;     ///< Host pid of its supervisor.
  /// The exit code: the program's, or 128 + N when signal N ended it. Set when stopped.
  std::optional<int> exit_code;
  std::optional<int> signal;           ///< The signal that ended it, if one did.
  std::string bundle;                  ///< The bundle directory it was made from.
  std::string created_at;              ///< RFC 3339 UTC times; empty until they happen.
  std::string started_at;              ///< When start() let the program run.
  std::string finished_at;             ///< When the first process exited.
  std::string error;                   ///< Why it stopped abnormally (teardown trouble, a lost supervisor).
  /// States compare by every field.
  friend bool operator==(const ContainerState&, const ContainerState&) = default;
};

/// The state as the JSON of `state.json` and `inspect` (the OCI state's fields
/// ociVersion, id, status, pid, bundle, annotations-free, plus knast's).
KNAST_API std::string to_json(const ContainerState& state);

/// Where the container's standard input, output and error go.
enum class StdioMode {
  inherit,  ///< The caller's own descriptors 0, 1 and 2.
  fds,      ///< The descriptors given in ContainerIo::fds (pipes, files, sockets, ...).
  null,     ///< /dev/null for all three.
  /// stdin /dev/null; stdout and stderr into `container.log`, read with read_logs().
  /// With a terminal, the terminal's output goes into the log as stdout.
  log,
};

/// How the container's stdio is connected.
struct KNAST_API ContainerIo {
  StdioMode mode = StdioMode::inherit;  ///< Where stdio goes.
  /// For StdioMode::fds: the descriptors for 0, 1 and 2 (the caller keeps its own; the
  /// container gets duplicates). -1 gives /dev/null.
  int fds[3] = {-1, -1, -1};
  /// With RunProcess::terminal the container gets a new pseudo-terminal whose other end
  /// the supervisor connects to the stdio above (raw mode on the caller's terminal while
  /// it runs, window size forwarded).
};

/// How Jail::create() connects a container (docs/network.md).
struct KNAST_API ContainerNetwork {
  /// Empty: as the RunSpec says (a stack of its own with only loopback, or the host's
  /// with RunOverrides::host_network). Otherwise the name or id of a network of the state
  /// root to join (Network::default_network() is "knast"); the spec must then give the
  /// container a network stack of its own. Its address is released when it stops.
  std::string network;
  std::vector<PortMapping> ports;  ///< Published ports (`-p`); bridge networks only.
  /// Name servers for its /etc/resolv.conf (bridge and shared networks); empty: those of
  /// the host's /etc/resolv.conf that are not loopback addresses (unreachable from a
  /// container). Where that leaves none, the file names none: unlike docker, knast never
  /// falls back to a public resolver nobody chose.
  std::vector<std::string> dns;
};

/// How Jail::create() makes a container.
struct KNAST_API JailOptions {
  /// The state root (containers/ lives under it); must exist or be creatable.
  std::filesystem::path state_root;
  /// The id; empty: a new random 64-hex-digit id. Letters, digits, '_', '-' and '.'.
  std::string id;
  /// A name that must be unique among the state root's containers (docker `--name`); empty: none.
  std::string name;
  /// For display in list()/inspect.
  std::string image;
  /// The bundle: a directory with `config.json`; its root.path is taken relative to it.
  std::filesystem::path bundle;
  /// stdio.
  ContainerIo io;
  /// Its network (none, host, or a named network with published ports).
  ContainerNetwork network;
  /// Delete the container as soon as its first process exits (docker `--rm`).
  bool remove_on_exit = false;
  /// The supervisor program; empty: find_supervisor().
  std::filesystem::path supervisor;
};

/// A new random container id: 64 hex digits, as docker makes them. Callers that make the
/// container's root first (Rootfs::create() under the same id) take one from here.
KNAST_API std::string new_container_id();

/// The supervisor program Jail::create() runs: $KNAST_SHIM if set, else `knast-shim` in
/// the library's own directory (build tree), else in the installed libexec directory.
/// @throws Error not_found naming the places looked at.
KNAST_API std::filesystem::path find_supervisor();

/// Options of Jail::exec().
struct KNAST_API ExecOptions {
  ContainerIo io;  ///< stdio of the new process (StdioMode::log is not allowed).
};

/// One container: a handle on `containers/<id>/` of a state root. Handles are cheap and
/// may be made by any process (Jail::open()); the container itself belongs to its
/// supervisor, so dropping a handle changes nothing. Every method re-reads the state. A
/// handle (with its copies) holds one read-only descriptor, close-on-exec, of the
/// supervisor's lock file, so that wait() still finds the exit code of a remove-on-exit
/// container whose directory is gone.
class KNAST_API Jail {
 public:
  /// Makes the container of @p options: validates the bundle, records it, starts the
  /// supervisor, which makes the jail or namespaces, the mounts, the limits and the first
  /// process, stopped before it runs the program (whose executable is looked up then, so
  /// a missing command fails here). Returns with the container `created`.
  /// @throws Error invalid_argument (bad bundle, id or name), already_exists (id or name
  ///         taken), not_found (no root, no executable, a bad mount source), unsupported
  ///         (a limit this host cannot apply, with the reason) — and nothing is left behind.
  static Jail create(const JailOptions& options);
  /// The container @p id_or_name (a full id, a unique id prefix, or a name) of @p state_root.
  /// @throws Error not_found.
  static Jail open(const std::filesystem::path& state_root, std::string_view id_or_name);
  /// Every container of @p state_root, oldest first.
  static std::vector<ContainerState> list(const std::filesystem::path& state_root);

  /// The container's id.
  const std::string& id() const noexcept { return id_; }
  /// Its directory, `<state root>/containers/<id>`.
  std::filesystem::path directory() const;
  /// The current state (a container whose supervisor died is reported stopped, with
  /// ContainerState::error saying so).
  ContainerState state() const;
  /// The RunSpec it runs.
  RunSpec spec() const;

  /// Lets the program of a created container run. @throws Error invalid_argument unless created.
  void start();
  /// Waits until the first process has exited and returns its exit code (128 + N for
  /// signal N); nothing when @p timeout passes first. Works from any process.
  std::optional<int> wait(std::optional<std::chrono::milliseconds> timeout = std::nullopt) const;
  /// Sends @p signal to the first process or, with @p all, to every process of the
  /// container (never through a `kill` program inside it). Not an error once stopped.
  void kill(int signal, bool all = false);
  /// SIGTERM to the first process, then SIGKILL to every process after @p grace; returns
  /// the exit code.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  /// Runs a further process in the running container (its namespaces or jail, its user
  /// and capabilities as @p process says) and waits for it; returns its exit code.
  /// @throws Error invalid_argument unless running; not_found for a missing executable.
  int exec(const RunProcess& process, const ExecOptions& options = {});
  /// Deletes the container: with @p force a running one is killed first; otherwise it
  /// must be created or stopped. Tears down every mount, jail, cgroup and rctl rule and
  /// removes `containers/<id>/`. The root filesystem itself belongs to its maker (Rootfs).
  void remove(bool force = false);

  /// The log of a StdioMode::log container: calls @p sink(stream, bytes) for each chunk
  /// in order (stream 1 = stdout, 2 = stderr). With @p follow it keeps reading until the
  /// container has stopped and its supervisor is gone.
  void read_logs(const std::function<void(int stream, std::string_view bytes)>& sink, bool follow = false) const;

 private:
  Jail(std::filesystem::path state_root, std::string id);
  std::filesystem::path state_root_;
  std::string id_;
  /// The supervisor's lock file, kept open (one descriptor, shared by copies): it holds
  /// the exit record, which wait() can still read after a remove-on-exit container ended
  /// and its directory went.
  std::shared_ptr<const int> exit_record_;
};

}  // namespace v0
}  // namespace knast
