// A process started inside a jail (FREEBSD.md §1, "Running a process inside"): fork; in
// the child stdio, a controlling terminal, jail_attach(2) (which chroots to the jail's
// root), rlimits, setgroups/setgid/setuid, umask, no_new_privs, chdir, the program looked
// up in PATH inside the jail, an optional wait for start, execve. Every failure goes back
// to the parent as {step, errno} over a close-on-exec pipe, whose end of file means
// execve succeeded. Everything that allocates is prepared before fork.
#include "platform/freebsd/jail_freebsd.hpp"

#include "core/unique_fd.hpp"

#include <knast/error.hpp>
#include <knast/run_spec.hpp>

#include <sys/param.h>
#include <sys/jail.h>
#include <sys/ioctl.h>
#include <sys/procctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <fcntl.h>
#include <grp.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace knast::platform::freebsd {
namespace {

using detail::UniqueFd;

struct Limit {
  int resource = 0;
  rlimit value{};
};

int rlimit_resource(const std::string& type) {
  static const std::pair<const char*, int> names[] = {
      {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_STACK", RLIMIT_STACK},     {"RLIMIT_CORE", RLIMIT_CORE},       {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_SBSIZE", RLIMIT_SBSIZE},   {"RLIMIT_NPTS", RLIMIT_NPTS},
      {"RLIMIT_SWAP", RLIMIT_SWAP},       {"RLIMIT_KQUEUES", RLIMIT_KQUEUES},
  };
  for (const auto& [name, resource] : names)
    if (type == name) return resource;
  throw Error(ErrorCode::unsupported, "rlimit " + type + " does not exist on FreeBSD");
}

rlim_t rlim_value(std::uint64_t v) { return v == UINT64_MAX ? RLIM_INFINITY : static_cast<rlim_t>(v); }

std::string env_value(const std::vector<std::string>& env, std::string_view name) {
  for (const auto& e : env)
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=')
      return e.substr(name.size() + 1);
  return {};
}

// Where execve looks: args[0] itself when it holds a slash, else each directory of the
// process's PATH (docker's default when it sets none), as execvp(3) does.
std::vector<std::string> program_candidates(const RunProcess& process) {
  const std::string& name = process.args.front();
  if (name.find('/') != std::string::npos) return {name};
  std::string path = env_value(process.env, "PATH");
  if (path.empty()) path = std::string(docker_default_path);
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= path.size()) {
    const auto colon = std::min(path.find(':', at), path.size());
    const std::string dir = path.substr(at, colon - at);
    out.push_back((dir.empty() ? std::string(".") : dir) + "/" + name);
    at = colon + 1;
  }
  return out;
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

[[noreturn]] void fail(int report_fd, int step) {
  const ChildReport report{step, errno};
  (void)!::write(report_fd, &report, sizeof report);
  ::_exit(126);
}

// Moves the three descriptors out of the way (above 2, close-on-exec) and then onto
// 0, 1 and 2 without close-on-exec, so any order of the originals works.
void set_stdio(const int stdio[3], int report_fd) {
  int moved[3];
  for (int i = 0; i < 3; ++i)
    if ((moved[i] = ::fcntl(stdio[i], F_DUPFD_CLOEXEC, 3)) < 0) fail(report_fd, step_stdio);
  for (int i = 0; i < 3; ++i)
    if (::dup2(moved[i], i) < 0) fail(report_fd, step_stdio);
  for (int i = 0; i < 3; ++i) ::close(moved[i]);
}

// Everything the child needs, made before fork.
struct Prepared {
  std::vector<Limit> limits;
  std::vector<gid_t> groups;
  std::vector<std::string> candidates;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

[[noreturn]] void run_child(int jid, const RunProcess& process, const int stdio[3], const Prepared& p, int start_fd,
                            int report_fd) {
  set_stdio(stdio, report_fd);
  if (process.terminal && (::setsid() < 0 || ::ioctl(0, TIOCSCTTY, 0) != 0)) fail(report_fd, step_terminal);
  if (::jail_attach(jid) != 0) fail(report_fd, step_attach);
  for (const auto& l : p.limits)
    if (::setrlimit(l.resource, &l.value) != 0) fail(report_fd, step_rlimit);
  // setgroups(2) takes the effective gid from the first entry (FREEBSD.md §1): primary first.
  if (::setgroups(static_cast<int>(p.groups.size()), p.groups.data()) != 0) fail(report_fd, step_groups);
  if (::setgid(process.user.gid) != 0) fail(report_fd, step_gid);
  if (::setuid(process.user.uid) != 0) fail(report_fd, step_uid);
  if (process.user.umask) ::umask(static_cast<mode_t>(*process.user.umask & 0777));
  if (process.no_new_privileges) {
    int enable = PROC_NO_NEW_PRIVS_ENABLE;
    if (::procctl(P_PID, ::getpid(), PROC_NO_NEW_PRIVS_CTL, &enable) != 0) fail(report_fd, step_no_new_privs);
  }
  if (::chdir(process.cwd.c_str()) != 0) fail(report_fd, step_chdir);
  const char* program = nullptr;
  errno = ENOENT;
  for (const auto& candidate : p.candidates) {
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
      program = candidate.c_str();
      break;
    }
  }
  if (program == nullptr) fail(report_fd, step_lookup);
  if (start_fd >= 0) {
    const ChildReport ready{step_ready, 0};
    if (::write(report_fd, &ready, sizeof ready) != sizeof ready) ::_exit(126);
    char go = 0;
    ssize_t got;
    while ((got = ::read(start_fd, &go, 1)) < 0 && errno == EINTR) {}
    if (got != 1) ::_exit(126);  // the supervisor gave up on this container
    ::close(start_fd);
  }
  ::execve(program, p.argv.data(), p.envp.data());
  fail(report_fd, step_exec);
}

std::string_view step_name(int step) {
  switch (step) {
    case step_stdio: return "setting up stdio";
    case step_terminal: return "making the terminal its controlling terminal";
    case step_attach: return "jail_attach";
    case step_rlimit: return "setrlimit";
    case step_groups: return "setgroups";
    case step_gid: return "setgid";
    case step_uid: return "setuid";
    case step_umask: return "umask";
    case step_no_new_privs: return "procctl(PROC_NO_NEW_PRIVS_CTL)";
    case step_chdir: return "chdir to the working directory";
    case step_lookup: return "looking the program up in PATH";
    case step_exec: return "execve";
    default: return "starting";
  }
}

}  // namespace

JailProcess spawn_in_jail(int jid, const RunProcess& process, const int stdio[3], bool wait_for_start) {
  if (process.args.empty()) throw Error(ErrorCode::invalid_argument, "process.args is empty");
  Prepared p;
  for (const auto& r : process.rlimits)
    p.limits.push_back({rlimit_resource(r.type), rlimit{rlim_value(r.soft), rlim_value(r.hard)}});
  p.groups.push_back(process.user.gid);
  for (const auto gid : process.user.additional_gids)
    if (gid != process.user.gid) p.groups.push_back(gid);
  p.candidates = program_candidates(process);
  p.argv = c_strings(process.args);
  p.envp = c_strings(process.env);

  int report[2] = {-1, -1};
  if (::pipe2(report, O_CLOEXEC) != 0) throw Error(errno, "pipe (child report)");
  UniqueFd report_read(report[0]), report_write(report[1]);
  int start[2] = {-1, -1};
  if (wait_for_start && ::pipe2(start, O_CLOEXEC) != 0) throw Error(errno, "pipe (start)");
  UniqueFd start_read(start[0]), start_write(start[1]);

  const pid_t pid = ::fork();
  if (pid < 0) throw Error(errno, "fork");
  if (pid == 0) {
    ::close(report[0]);
    if (wait_for_start) ::close(start[1]);
    run_child(jid, process, stdio, p, wait_for_start ? start[0] : -1, report[1]);
  }
  JailProcess out;
  out.pid = pid;
  out.report_fd = report_read.release();
  out.start_fd = wait_for_start ? start_write.release() : -1;
  return out;
}

std::optional<ChildReport> read_report(int fd) {
  ChildReport report{};
  ssize_t got;
  while ((got = ::read(fd, &report, sizeof report)) < 0 && errno == EINTR) {}
  if (got == 0) return std::nullopt;
  if (got != sizeof report) throw Error(ErrorCode::io, "a short report from a container process");
  return report;
}

Error report_error(const ChildReport& report, const std::string& what, const RunProcess& process) {
  const std::string program = process.args.empty() ? std::string() : process.args.front();
  if (report.step == step_lookup || (report.step == step_exec && report.error == ENOENT))
    return Error(ErrorCode::not_found, fmt::format("{}: executable {} not found in the container's PATH", what, program));
  return Error(report.error, fmt::format("{}: {} failed for {}: {}", what, step_name(report.step), program,
                                         std::strerror(report.error)));
}

}  // namespace knast::platform::freebsd
