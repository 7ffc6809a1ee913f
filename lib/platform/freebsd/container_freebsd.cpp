// The FreeBSD container executor: carries out knast::plan_freebsd_jail() step by step
// (lib/platform/container.hpp is the interface; jail_freebsd.hpp has the kernel objects).
//
// create: reaper status for the supervisor (procctl PROC_REAP_ACQUIRE, so every orphan of
// the container comes back to it), kernel modules (the Linuxulator preflight), racct,
// devfs ruleset, mount points and files, the mounts, jail_set(JAIL_CREATE), rctl rules,
// lo0 of a vnet jail, then the first process: attached, with its credentials, waiting
// for start. Each kernel object has one owner inside FreeBsdContainer, so a failure at
// any step unwinds what the earlier steps made. teardown: jail_remove, wait for the jail's
// processes to go, rctl rules removed, unmount in reverse.
//
// signal_container walks the jail's processes with the kern.proc sysctl instead of forking
// a child into the jail to kill(-1): it may be called from any process, including a
// multi-threaded one that must not fork.
#include "platform/container.hpp"

#include "core/unique_fd.hpp"
#include "jail/jail_plan.hpp"
#include "platform/freebsd/jail_freebsd.hpp"

#include <knast/error.hpp>
#include <knast/jail.hpp>
#include <knast/linuxulator.hpp>

#include <sys/types.h>
#include <sys/procctl.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

namespace knast::platform {
namespace {

using detail::UniqueFd;
namespace bsd = freebsd;

// Processes of a removed jail die asynchronously; their file systems stay busy until then.
constexpr auto jail_drain_timeout = std::chrono::seconds(5);

JailPlan plan_for(const std::string& id, const RunSpec& spec) {
  JailPlanOptions options;
  options.container_id = id;
  options.root_path = spec.root.path;
  return plan_freebsd_jail(spec, options);
}

bool has_vnet(const JailPlan& plan) {
  return std::any_of(plan.params.begin(), plan.params.end(), [](const auto& p) {
    return p.first == "vnet" && p.second == JailParamValue{knast::detail::jail_sys_new};
  });
}

void acquire_reaper() {
  if (::procctl(P_PID, ::getpid(), PROC_REAP_ACQUIRE, nullptr) != 0 && errno != EBUSY)
    throw Error(errno, "procctl(PROC_REAP_ACQUIRE): the supervisor cannot collect the container's orphans");
}

// Kernel modules through the Linuxulator preflight: present (kldfind/modfind) or loaded.
void load_modules(const JailPlan& plan) {
  if (plan.kernel_modules.empty()) return;
  LinuxEmulationPlan modules;
  modules.kernel_modules = plan.kernel_modules;
  PreflightOptions options;
  options.load_modules = true;
  options.prepare_root = false;
  preflight(modules, plan.path, options);
}

// Waits for the processes of the removed jail @p jid to go; "" or what went wrong. Never
// throws, so that teardown always goes on to the rctl rules and the mounts.
std::string drain(int jid, const std::string& name) {
  try {
    if (bsd::wait_jail_empty(jid, jail_drain_timeout)) return {};
    return fmt::format("jail {} still has processes after {}s; unmounting by force", name, jail_drain_timeout.count());
  } catch (const Error& e) {
    return fmt::format("jail {}: {}", name, e.what());
  }
}

void wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
}

class FreeBsdContainer final : public Container {
 public:
  explicit FreeBsdContainer(JailPlan plan) : plan_(std::move(plan)), rctl_(plan_.name) {}

  ~FreeBsdContainer() override {
    if (torn_down_) return;
    if (process_.pid > 0) {
      int status = 0;
      const pid_t state = ::waitpid(process_.pid, &status, WNOHANG);
      if (state == 0) {  // still running: ours to end
        ::kill(process_.pid, SIGKILL);
        wait_for(process_.pid);
      }
    }
    try {
      teardown();
    } catch (...) {
      // Best effort on the failure path; destroy_container() finds what is left by name.
    }
  }

  pid_t pid() const override { return process_.pid; }

  void start() override {
    if (!start_fd_) throw Error(ErrorCode::invalid_argument, "container " + plan_.name + " was started already");
    const char go = 1;
    const bool sent = ::write(start_fd_.get(), &go, 1) == 1;
    start_fd_.reset();
    if (!sent) throw Error(errno, "container " + plan_.name + ": start");
    if (const auto report = bsd::read_report(report_fd_.get()))
      throw bsd::report_error(*report, "container " + plan_.name, plan_.process);
    report_fd_.reset();
  }

  void teardown() override {
    if (torn_down_) return;
    torn_down_ = true;
    start_fd_.reset();
    report_fd_.reset();
    std::string failure;
    if (const int jid = jail_.jid(); jid >= 0) {
      jail_.remove();
      failure = drain(jid, plan_.name);
    }
    if (auto r = rctl_.remove_all(); failure.empty()) failure = std::move(r);
    if (auto m = mounts_.unmount_all(); failure.empty()) failure = std::move(m);
    if (!failure.empty()) throw Error(ErrorCode::io, "teardown of " + plan_.name + ": " + failure);
  }

  // The steps of create_container(), each owner filled as its object comes to exist.
  void make(const ContainerLaunch& launch) {
    load_modules(plan_);
    if (!plan_.rctl_rules.empty()) bsd::check_racct();
    bsd::apply_devfs_ruleset(plan_);
    bsd::prepare_root(plan_);
    for (const auto& m : plan_.mounts) mounts_.mount(m, plan_.path);
    jail_ = bsd::create_jail(plan_);
    for (const auto& rule : plan_.rctl_rules) rctl_.add(rule);
    if (has_vnet(plan_)) bsd::bring_up_loopback(jail_.jid());
    process_ = bsd::spawn_in_jail(jail_.jid(), plan_.process, launch.stdio, true);
    start_fd_.reset(process_.start_fd);
    report_fd_.reset(process_.report_fd);
    const auto report = bsd::read_report(report_fd_.get());
    if (!report)
      throw Error(ErrorCode::io, "container " + plan_.name + ": its first process ended before it was ready");
    if (report->step != bsd::step_ready) {
      wait_for(process_.pid);
      process_.pid = -1;
      throw bsd::report_error(*report, "container " + plan_.name, plan_.process);
    }
  }

 private:
  // Declared in the order of creation; teardown() releases them in reverse.
  JailPlan plan_;
  bsd::MountStack mounts_;
  bsd::RctlRules rctl_;
  bsd::JailHandle jail_;
  bsd::JailProcess process_;
  UniqueFd start_fd_;
  UniqueFd report_fd_;
  bool torn_down_ = false;
};

}  // namespace

std::unique_ptr<Container> create_container(const ContainerLaunch& launch) {
  try {
    auto container = std::make_unique<FreeBsdContainer>(plan_for(launch.id, launch.spec));
    acquire_reaper();
    container->make(launch);
    return container;
  } catch (const Error& e) {
    throw e.with_context("create container " + launch.id);
  }
}

pid_t exec_in_container(const ExecLaunch& launch) {
  const std::string name = jail_name(launch.id);
  const auto jid = bsd::find_jail(name);
  if (!jid) throw Error(ErrorCode::invalid_argument, "exec in container " + launch.id + ": it is not running (no jail " + name + ")");
  bsd::JailProcess child = bsd::spawn_in_jail(*jid, launch.process, launch.stdio, false);
  UniqueFd report_fd(child.report_fd);
  if (const auto report = bsd::read_report(report_fd.get())) {
    wait_for(child.pid);
    throw bsd::report_error(*report, "exec in container " + launch.id, launch.process);
  }
  return child.pid;
}

void signal_container(const std::string& id, pid_t, int signal) {
  if (const auto jid = bsd::find_jail(jail_name(id))) bsd::signal_jail(*jid, signal);
}

void destroy_container(const std::string& id, pid_t, const RunSpec& spec) {
  const std::string name = jail_name(id);
  std::string failure;
  if (const auto jid = bsd::find_jail(name)) {
    try {
      bsd::signal_jail(*jid, SIGKILL);
    } catch (const Error& e) {
      failure = e.what();  // jail_remove below kills them anyway
    }
    bsd::JailHandle(*jid).remove();
    if (auto d = drain(*jid, name); failure.empty()) failure = std::move(d);
  }
  if (auto r = bsd::remove_rctl_rules(name); failure.empty()) failure = std::move(r);
  if (auto m = bsd::unmount_planned(plan_for(id, spec)); failure.empty()) failure = std::move(m);
  if (!failure.empty()) throw Error(ErrorCode::io, "destroy container " + id + ": " + failure);
}

}  // namespace knast::platform
