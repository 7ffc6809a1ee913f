// Container commands: run, create, start, ps, stop, kill, rm, exec, logs, wait, and
// containers in `inspect`. The path of `run`: image in the store (pulled when missing) →
// chain in the cache → a container root (Rootfs::create, same id) → branding where the
// Linuxulator needs it → RunSpec with docker's rules → Jail::create / start / wait.
#include "cli.hpp"

#include <knast/error.hpp>
#include <knast/jail.hpp>
#include <knast/layout.hpp>
#include <knast/linuxulator.hpp>
#include <knast/network.hpp>
#include <knast/registry.hpp>
#include <knast/rootfs.hpp>
#include <knast/run_spec.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>

namespace knast::cli {
namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

// ---- Signals by name ------------------------------------------------------------------

struct SignalName {
  const char* name;
  int number;
};
constexpr SignalName signal_names[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
                                       {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"CONT", SIGCONT},
                                       {"STOP", SIGSTOP}, {"WINCH", SIGWINCH}};

/// "KILL", "SIGKILL" or "9".
int parse_signal(std::string text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const int number = std::stoi(text);
    if (number > 0 && number < NSIG) return number;
  }
  if (text.rfind("SIG", 0) == 0) text.erase(0, 3);
  for (const auto& known : signal_names)
    if (text == known.name) return known.number;
  throw Error(ErrorCode::invalid_argument, "unknown signal \"" + text + "\": use a name such as TERM or a number");
}

// ---- run / create ---------------------------------------------------------------------

struct RunFlags {
  bool interactive = false;
  bool tty = false;
  bool detach = false;
  bool remove = false;
  bool dry_run = false;
  bool read_only = false;
  std::string name;
  Strings env;
  Strings env_files;
  Strings volumes;
  Strings tmpfs;
  std::string workdir;
  std::string user;
  std::string hostname;
  std::optional<std::string> entrypoint;
  std::string memory;
  std::optional<std::int64_t> pids_limit;
  std::string cpus;
  std::string network;  // "": the default bridge network
  Strings publish;
  bool publish_all = false;
  Strings dns;
  std::string pull = "missing";
  UnpackFlags unpack;
  std::string image;
  Strings command;
};

// Repeatable options take one value per occurrence (allow_extra_args(false)): otherwise
// `-e A=b IMAGE CMD` would take the image and command as more values of -e.
void add_run_flags(CLI::App* cmd, RunFlags& f, bool run) {
  cmd->add_flag("-i,--interactive", f.interactive, "Keep stdin connected");
  cmd->add_flag("-t,--tty", f.tty, "Give the container a pseudo-terminal");
  if (run) {
    cmd->add_flag("-d,--detach", f.detach, "Run in the background; output goes to the container's log");
    cmd->add_flag("--dry-run", f.dry_run, "Print what would be done on a FreeBSD host (jail parameters, mounts, rctl, jail.conf) and stop");
  }
  cmd->add_flag("--rm", f.remove, "Remove the container when it exits");
  cmd->add_option("--name", f.name, "Name the container");
  cmd->add_option("-e,--env", f.env, "Set (NAME=value) or unset (NAME) an environment variable")
      ->allow_extra_args(false);
  cmd->add_option("--env-file", f.env_files, "Read NAME=value lines from a file")
      ->allow_extra_args(false);
  cmd->add_option("-v,--volume", f.volumes, "Bind mount SRC:DST[:ro|rw]")
      ->allow_extra_args(false);
  cmd->add_option("--tmpfs", f.tmpfs, "Mount a tmpfs DST[:options]")
      ->allow_extra_args(false);
  cmd->add_option("-w,--workdir", f.workdir, "Working directory inside the container");
  cmd->add_option("-u,--user", f.user, "User: name, uid, name:group or uid:gid");
  cmd->add_option("--hostname", f.hostname, "Container hostname");
  cmd->add_option("--entrypoint", f.entrypoint, "Replace the image's entrypoint (\"\" for none)");
  cmd->add_option("--memory", f.memory, "Memory limit (e.g. 512m)");
  cmd->add_option("--pids-limit", f.pids_limit, "Most processes at once");
  cmd->add_option("--cpus", f.cpus, "CPUs (e.g. 1.5)");
  cmd->add_flag("--read-only", f.read_only, "Mount the root read-only");
  cmd->add_option("--network", f.network,
                  "Network: a network's name (default: the bridge network \"knast\"), none (loopback only) or host");
  cmd->add_option("-p,--publish", f.publish,
                  "Publish a port: [[HOSTIP:]HOSTPORT:]CONTAINERPORT[/tcp|udp] (no HOSTPORT: any free one)")
      ->allow_extra_args(false);
  cmd->add_flag("-P,--publish-all", f.publish_all, "Publish every port the image exposes on any free host port");
  cmd->add_option("--dns", f.dns, "Name server for the container's /etc/resolv.conf (default: the host's)")
      ->allow_extra_args(false);
  cmd->add_option("--pull", f.pull, "Pull the image: missing (default), always or never")
      ->check(CLI::IsMember({"missing", "always", "never"}));
  cmd->add_option("--platform", f.unpack.platform, "Platform to pick from a multi-platform image");
  cmd->add_option("--insecure-registry", f.unpack.insecure, "Registry that may be reached over plain HTTP")
      ->allow_extra_args(false);
  f.unpack.driver.driver = "overlay";
  f.unpack.progress = &std::cerr;  // stdout is the container's
  add_driver_flags(cmd, f.unpack.driver);
  // IMAGE [COMMAND [ARG...]]: everything from the image on belongs to the container, so
  // parsing stops there (prefix_command); take_image_and_command() splits it.
  cmd->prefix_command();
  cmd->footer("IMAGE [COMMAND [ARG...]]: the image, then the command replacing its Cmd");
}

/// The image and the command of `run`/`create`, from what prefix_command() left.
void take_image_and_command(CLI::App* cmd, RunFlags& f) {
  auto rest = cmd->remaining();
  if (rest.empty()) throw CLI::RequiredError("IMAGE");
  f.image = rest.front();
  f.command.assign(rest.begin() + 1, rest.end());
}

Strings read_env_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorCode::not_found, "--env-file " + path + ": cannot read it");
  Strings out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    out.push_back(line.substr(start));
  }
  return out;
}

RunOverrides overrides_of(const RunFlags& f, const std::string& id, const std::string& host_os) {
  RunOverrides o;
  o.container_id = id;
  o.image_ref = f.image;
  o.host_os = host_os;
  if (!f.command.empty()) o.args = f.command;
  if (f.entrypoint) o.entrypoint = f.entrypoint->empty() ? Strings{""} : Strings{*f.entrypoint};
  for (const auto& file : f.env_files)
    for (auto& entry : read_env_file(file)) o.env.push_back(std::move(entry));
  o.env.insert(o.env.end(), f.env.begin(), f.env.end());
  if (!f.workdir.empty()) o.workdir = f.workdir;
  if (!f.user.empty()) o.user = f.user;
  if (!f.hostname.empty()) o.hostname = f.hostname;
  o.terminal = f.tty;
  o.read_only = f.read_only;
  o.host_network = f.network == "host";
  o.volumes = f.volumes;
  o.tmpfs = f.tmpfs;
  if (!f.memory.empty()) o.memory = f.memory;
  o.pids_limit = f.pids_limit;
  if (!f.cpus.empty()) o.cpus = f.cpus;
  return o;
}

/// The image, in the store and unpacked (pulling as --pull says).
UnpackResult bring_image(const Globals& globals, Rootfs& rootfs, RunFlags& f) {
  bool present = true;
  try {
    (void)globals.open_store().resolve(f.image);
  } catch (const Error& e) {
    if (e.kind() != ErrorCode::not_found) throw;
    present = false;
  }
  f.unpack.pull = f.pull == "always" || (!present && f.pull == "missing");
  if (!present && f.pull == "never") throw Error(ErrorCode::not_found, "image " + f.image + " is not in the store (--pull never)");
  return unpack_image(globals, rootfs, f.image, f.unpack);
}

/// The network part of `--dry-run`: none, host, or joining a network (nothing recorded).
NetworkPlan network_dry_run(const Globals& globals, const RunFlags& f, const ImageConfig& image, const std::string& id) {
  NetworkPlanRequest request;
  request.host_os = "freebsd";
  request.endpoint.container_id = id;  // names the jail
  if (f.network == "none" || f.network == "host") {
    request.mode = f.network == "none" ? NetworkMode::none : NetworkMode::host;
    return plan_network(request);
  }
  const std::string name = f.network.empty() || f.network == "bridge" ? "knast" : f.network;
  return preview_join(globals.state_root(), name, id, ports_to_publish(f.publish, f.publish_all, image), "freebsd");
}

/// `--dry-run`: the plan for a FreeBSD host, made from the cached chain (nothing is created).
void print_dry_run(const Globals& globals, const RunFlags& f, const ResolvedImage& image, const ChainInfo& chain) {
  const std::string id = "dry-run";
  const RunSpec spec = make_run_spec(image.config, chain.path, overrides_of(f, id, "freebsd"));
  JailPlanOptions options;
  options.container_id = id;
  options.image = image.config.platform();
  std::cout << to_text(plan_freebsd_jail(spec, options));
  std::cout << "\n# network\n" << to_text(network_dry_run(globals, f, image.config, id));
}

/// Makes the container of @p f: root, branding, bundle, Jail::create. Returns it.
Jail make_container(const Globals& globals, RunFlags& f) {
  Rootfs rootfs = open_rootfs(globals, f.unpack.driver);
  const UnpackResult unpacked = bring_image(globals, rootfs, f);
  const ResolvedImage image = globals.open_store().resolve(
      f.image, f.unpack.platform.empty() ? std::nullopt : std::optional<Platform>(Platform::parse(f.unpack.platform)));
  const RunDecision decision = decide_run(image.config.platform(), HostFacts::current());
  const std::string id = new_container_id();
  const ContainerRootfs root = rootfs.create(unpacked.chain.chain_id, id);
  try {
    if (decision.branding_needed) {
      BrandOptions brand;
      brand.elf_index = root.elf_index;  // the chain's, or the one its copy was given
      (void)brand_tree(root.path, brand);
    }
    const RunSpec spec = make_run_spec(image.config, root.path, overrides_of(f, id, decision.host.os));
    const fs::path dir = StateLayout(globals.state_root()).containers() / id;
    write_bundle(dir, spec);
    JailOptions options;
    options.state_root = globals.state_root();
    options.id = id;
    options.name = f.name;
    options.image = f.image;
    options.bundle = dir;
    options.network =
        container_network(globals, f.network, ports_to_publish(f.publish, f.publish_all, image.config), f.dns);
    if (f.detach) {
      options.io.mode = StdioMode::log;
    } else {
      options.io.mode = StdioMode::fds;
      options.io.fds[0] = f.interactive || f.tty ? 0 : -1;
      options.io.fds[1] = 1;
      options.io.fds[2] = 2;
    }
    options.remove_on_exit = f.remove && f.detach;
    return Jail::create(options);
  } catch (...) {
    rootfs.remove(id);
    throw;
  }
}

int run_container(const Globals& globals, RunFlags& f) {
  if (f.dry_run) {
    Rootfs rootfs = open_rootfs(globals, f.unpack.driver);
    const UnpackResult unpacked = bring_image(globals, rootfs, f);
    print_dry_run(globals, f, globals.open_store().resolve(f.image), unpacked.chain);
    return 0;
  }
  Jail jail = make_container(globals, f);
  try {
    jail.start();
  } catch (...) {
    jail.remove(true);
    throw;
  }
  if (f.detach) {
    std::cout << jail.id() << '\n';
    return 0;
  }
  // Ctrl-C reaches the supervisor too (same process group), which passes it on to the
  // container; this process only waits for the outcome.
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGQUIT, SIG_IGN);
  const int code = *jail.wait();
  if (f.remove) jail.remove(true);
  return code;
}

// ---- ps -------------------------------------------------------------------------------

std::string status_text(const ContainerState& s) {
  switch (s.status) {
    case ContainerStatus::creating: return "Creating";
    case ContainerStatus::created: return "Created";
    case ContainerStatus::running: return "Up since " + s.started_at;
    case ContainerStatus::stopped:
      return s.exit_code ? fmt::format("Exited ({}) {}", *s.exit_code, s.finished_at) : "Exited (?) " + s.error;
  }
  return "?";
}

void print_ps(const Globals& globals, bool all, bool quiet) {
  const auto states = Jail::list(globals.state_root());
  if (!quiet) std::cout << fmt::format("{:<12}  {:<24}  {:<30}  {:<20}  {}\n", "CONTAINER ID", "IMAGE", "STATUS", "CREATED", "NAMES");
  for (const auto& s : states) {
    const bool live = s.status == ContainerStatus::running || s.status == ContainerStatus::created;
    if (!all && !live) continue;
    if (quiet) {
      std::cout << s.id.substr(0, 12) << '\n';
      continue;
    }
    std::cout << fmt::format("{:<12}  {:<24}  {:<30}  {:<20}  {}\n", s.id.substr(0, 12), s.image, status_text(s),
                             s.created_at, s.name);
  }
}

// ---- exec -----------------------------------------------------------------------------

struct ExecFlags {
  bool interactive = false;
  bool tty = false;
  Strings env;
  std::string workdir;
  std::string user;
  std::string container;
  Strings command;
};

/// The process of `exec`: the container's own, with the command, env, cwd and user changed.
RunProcess exec_process(const RunSpec& spec, const ExecFlags& f) {
  RunProcess process = spec.process;
  process.args = f.command;
  process.terminal = f.tty;
  for (const auto& entry : f.env) {
    const auto name = entry.substr(0, entry.find('='));
    std::erase_if(process.env, [&](const std::string& e) { return e.substr(0, e.find('=')) == name; });
    if (entry.find('=') != std::string::npos) process.env.push_back(entry);
  }
  if (!f.workdir.empty()) process.cwd = f.workdir;
  if (!f.user.empty()) {  // numeric only: names would need the image's user database again
    const auto colon = f.user.find(':');
    try {
      process.user.uid = static_cast<std::uint32_t>(std::stoul(f.user.substr(0, colon)));
      process.user.gid = colon == std::string::npos ? process.user.uid
                                                    : static_cast<std::uint32_t>(std::stoul(f.user.substr(colon + 1)));
      process.user.additional_gids.clear();
    } catch (const std::exception&) {
      throw Error(ErrorCode::invalid_argument, "exec -u " + f.user + ": give uid or uid:gid");
    }
  }
  return process;
}

// ---- registration ---------------------------------------------------------------------

template <typename Each>
void for_each_container(const Globals& globals, const Strings& names, Each&& each) {
  int failures = 0;
  for (const auto& name : names) {
    try {
      Jail jail = Jail::open(globals.state_root(), name);
      each(jail, name);
    } catch (const Error& e) {
      std::cerr << "knast: " << name << ": " << e.what() << '\n';
      ++failures;
    }
  }
  if (failures > 0) throw Error(ErrorCode::invalid_argument, fmt::format("{} of {} failed", failures, names.size()));
}

void add_run(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("run", "Run a command in a new container");
  auto flags = std::make_shared<RunFlags>();
  add_run_flags(cmd, *flags, true);
  cmd->callback([&globals, flags, cmd] {
    take_image_and_command(cmd, *flags);
    const int code = run_container(globals, *flags);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

void add_create(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("create", "Create a container (start it with `knast start`)");
  auto flags = std::make_shared<RunFlags>();
  add_run_flags(cmd, *flags, false);
  cmd->callback([&globals, flags, cmd] {
    take_image_and_command(cmd, *flags);
    flags->detach = true;  // a created container's output goes to its log
    flags->remove = false;
    std::cout << make_container(globals, *flags).id() << '\n';
  });
}

void add_run_bundle(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("run-bundle", "Run an OCI bundle (config.json and its root), as `crun run -b DIR ID` does");
  auto dir = std::make_shared<std::string>();
  auto id = std::make_shared<std::string>();
  auto detach = std::make_shared<bool>(false);
  cmd->add_option("BUNDLE", *dir, "The bundle directory")->required();
  cmd->add_option("ID", *id, "Container id (default: a new one)");
  cmd->add_flag("-d,--detach", *detach, "Run in the background; output goes to the container's log");
  cmd->callback([&globals, dir, id, detach] {
    JailOptions options;
    options.state_root = globals.state_root();
    options.id = *id;
    options.bundle = *dir;
    options.io.mode = *detach ? StdioMode::log : StdioMode::inherit;
    Jail jail = Jail::create(options);
    try {
      jail.start();
    } catch (...) {
      jail.remove(true);
      throw;
    }
    if (*detach) {
      std::cout << jail.id() << '\n';
      return;
    }
    std::signal(SIGINT, SIG_IGN);
    const int code = *jail.wait();
    jail.remove();
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

void add_simple(CLI::App& app, const Globals& globals) {
  auto names = std::make_shared<Strings>();
  auto* start = app.add_subcommand("start", "Start created containers");
  start->add_option("CONTAINER", *names, "Id, id prefix or name")->required();
  start->callback([&globals, names] {
    for_each_container(globals, *names, [](Jail& jail, const std::string& name) {
      jail.start();
      std::cout << name << '\n';
    });
  });

  auto ps_all = std::make_shared<bool>(false);
  auto ps_quiet = std::make_shared<bool>(false);
  auto* ps = app.add_subcommand("ps", "List containers");
  ps->add_flag("-a,--all", *ps_all, "Also stopped and created ones");
  ps->add_flag("-q,--quiet", *ps_quiet, "Only ids");
  ps->callback([&globals, ps_all, ps_quiet] { print_ps(globals, *ps_all, *ps_quiet); });

  auto stop_names = std::make_shared<Strings>();
  auto grace = std::make_shared<int>(10);
  auto* stop = app.add_subcommand("stop", "Stop containers: SIGTERM, then SIGKILL to every process after a grace time");
  stop->add_option("-t,--time", *grace, "Seconds to wait before killing (default 10)");
  stop->add_option("CONTAINER", *stop_names, "Id, id prefix or name")->required();
  stop->callback([&globals, stop_names, grace] {
    for_each_container(globals, *stop_names, [&](Jail& jail, const std::string& name) {
      jail.stop(std::chrono::seconds(*grace));
      std::cout << name << '\n';
    });
  });

  auto kill_names = std::make_shared<Strings>();
  auto signal = std::make_shared<std::string>("KILL");
  auto all = std::make_shared<bool>(false);
  auto* kill = app.add_subcommand("kill", "Send a signal to containers");
  kill->add_option("-s,--signal", *signal, "Signal (default KILL)");
  kill->add_flag("--all", *all, "To every process of the container, not only the first");
  kill->add_option("CONTAINER", *kill_names, "Id, id prefix or name")->required();
  kill->callback([&globals, kill_names, signal, all] {
    const int number = parse_signal(*signal);
    for_each_container(globals, *kill_names, [&](Jail& jail, const std::string& name) {
      jail.kill(number, *all);
      std::cout << name << '\n';
    });
  });

  auto rm_names = std::make_shared<Strings>();
  auto force = std::make_shared<bool>(false);
  auto* rm = app.add_subcommand("rm", "Remove containers (and their roots)");
  rm->add_flag("-f,--force", *force, "Kill a running container first");
  rm->add_option("CONTAINER", *rm_names, "Id, id prefix or name")->required();
  rm->callback([&globals, rm_names, force] {
    for_each_container(globals, *rm_names, [&](Jail& jail, const std::string& name) {
      jail.remove(*force);
      std::cout << name << '\n';
    });
  });

  auto wait_names = std::make_shared<Strings>();
  auto* wait = app.add_subcommand("wait", "Wait for containers to stop and print their exit codes");
  wait->add_option("CONTAINER", *wait_names, "Id, id prefix or name")->required();
  wait->callback([&globals, wait_names] {
    for_each_container(globals, *wait_names, [](Jail& jail, const std::string&) { std::cout << *jail.wait() << '\n'; });
  });

  auto log_name = std::make_shared<std::string>();
  auto follow = std::make_shared<bool>(false);
  auto* logs = app.add_subcommand("logs", "Print the output of a detached container");
  logs->add_flag("-f,--follow", *follow, "Keep printing until the container stops");
  logs->add_option("CONTAINER", *log_name, "Id, id prefix or name")->required();
  logs->callback([&globals, log_name, follow] {
    Jail::open(globals.state_root(), *log_name).read_logs([](int stream, std::string_view bytes) {
      auto& out = stream == 2 ? std::cerr : std::cout;
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      out.flush();
    }, *follow);
  });
}

void add_exec(CLI::App& app, const Globals& globals) {
  auto f = std::make_shared<ExecFlags>();
  auto* cmd = app.add_subcommand("exec", "Run a further command in a running container");
  cmd->add_flag("-i,--interactive", f->interactive, "Keep stdin connected");
  cmd->add_flag("-t,--tty", f->tty, "Give the command a pseudo-terminal");
  cmd->add_option("-e,--env", f->env, "Set (NAME=value) or unset (NAME) an environment variable")
      ->allow_extra_args(false);
  cmd->add_option("-w,--workdir", f->workdir, "Working directory");
  cmd->add_option("-u,--user", f->user, "uid or uid:gid");
  cmd->prefix_command();  // CONTAINER COMMAND [ARG...]: the command's options are its own
  cmd->footer("CONTAINER COMMAND [ARG...]");
  cmd->callback([&globals, f, cmd] {
    const auto rest = cmd->remaining();
    if (rest.size() < 2) throw CLI::RequiredError("CONTAINER COMMAND");
    f->container = rest.front();
    f->command.assign(rest.begin() + 1, rest.end());
    Jail jail = Jail::open(globals.state_root(), f->container);
    ExecOptions options;
    options.io.mode = StdioMode::fds;
    options.io.fds[0] = f->interactive || f->tty ? 0 : -1;
    options.io.fds[1] = 1;
    options.io.fds[2] = 2;
    std::signal(SIGINT, SIG_IGN);
    const int code = jail.exec(exec_process(jail.spec(), *f), options);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace

void add_container_commands(CLI::App& app, const Globals& globals) {
  add_run(app, globals);
  add_create(app, globals);
  add_run_bundle(app, globals);
  add_simple(app, globals);
  add_exec(app, globals);
}

}  // namespace knast::cli
