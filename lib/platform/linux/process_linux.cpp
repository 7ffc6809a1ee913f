// Linux executor: what a container process becomes between fork and execve — its
// limits, stdio, user, groups and capabilities, working directory — and the execve of
// the program found in the PATH of its own environment inside the container root.
#include "platform/linux/executor_linux.hpp"

#include "core/text.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

namespace knast::platform::executor {
namespace {

using knast::detail::quote_untrusted;

constexpr std::pair<std::string_view, int> rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},       {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},       {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},   {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},   {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK}};

int rlimit_resource(const std::string& name) {
  for (const auto& [known, resource] : rlimit_names)
    if (known == name) return resource;
  throw Error(ErrorCode::invalid_argument, "process.rlimits: unknown limit " + quote_untrusted(name));
}

// The highest capability this kernel knows: the last one PR_CAPBSET_READ accepts.
int kernel_last_capability() {
  int last = 0;
  while (last < 63 && ::prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0) ++last;
  return last;
}

void drop_bounding(std::uint64_t keep, int last) {
  for (int cap = 0; cap <= last; ++cap) {
    if ((keep >> cap & 1) != 0 || ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
      throw Error(errno, "drop " + std::string(knast::detail::capability_name(cap)) + " from the bounding set");
  }
}

void set_capabilities(const knast::detail::CapabilityMasks& masks) {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  __user_cap_data_struct data[2]{};
  for (int i = 0; i < 2; ++i) {
    data[i].effective = static_cast<std::uint32_t>(masks.effective >> (32 * i));
    data[i].permitted = static_cast<std::uint32_t>(masks.permitted >> (32 * i));
    data[i].inheritable = static_cast<std::uint32_t>(masks.inheritable >> (32 * i));
  }
  if (::syscall(SYS_capset, &header, data) != 0)
    throw Error(errno, "set the capabilities (capset): effective must be within permitted");
}

// The kernel raises an ambient capability only when it is permitted and inheritable.
// Specs often list ambient ones without the inheritable set (`crun spec` does): those are
// skipped, as crun and runc skip them, rather than refusing a bundle they run.
void raise_ambient(std::uint64_t ambient, int last) {
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    throw Error(errno, "clear the ambient capabilities");
  for (int cap = 0; cap <= last; ++cap)
    if ((ambient >> cap & 1) != 0 && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0 && errno != EPERM)
      throw Error(errno, "raise the ambient capability " + std::string(knast::detail::capability_name(cap)));
}

void switch_user(const RunUser& user) {
  const std::vector<gid_t> groups(user.additional_gids.begin(), user.additional_gids.end());
  if (::setgroups(groups.size(), groups.data()) != 0) throw Error(errno, "set the supplementary groups");
  if (::setresgid(user.gid, user.gid, user.gid) != 0) throw Error(errno, "set the group id " + std::to_string(user.gid));
  if (::setresuid(user.uid, user.uid, user.uid) != 0) throw Error(errno, "set the user id " + std::to_string(user.uid));
}

std::string env_value(const std::vector<std::string>& env, std::string_view name) {
  for (const auto& entry : env)
    if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 && entry[name.size()] == '=')
      return entry.substr(name.size() + 1);
  return {};
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// dup() of @p fd numbered above stderr, close-on-exec.
UniqueFd dup_above_stdio(int fd) {
  UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
  if (!copy) throw Error(errno, "duplicate stdio descriptor " + std::to_string(fd));
  return copy;
}

}  // namespace

void apply_rlimits(const std::vector<PosixRlimit>& rlimits) {
  for (const auto& limit : rlimits) {
    const rlimit value{static_cast<rlim_t>(limit.soft), static_cast<rlim_t>(limit.hard)};
    if (::setrlimit(static_cast<__rlimit_resource>(rlimit_resource(limit.type)), &value) != 0)
      throw Error(errno, "set " + limit.type + " to soft " + std::to_string(limit.soft) + ", hard " +
                             std::to_string(limit.hard));
  }
}

void attach_stdio(const int (&stdio)[3], bool terminal) {
  // Copies first: stdio[1] may be 0, or stdio[0] may be 1.
  UniqueFd copies[3] = {dup_above_stdio(stdio[0]), dup_above_stdio(stdio[1]), dup_above_stdio(stdio[2])};
  for (int i = 0; i < 3; ++i)
    if (::dup2(copies[i].get(), i) != i) throw Error(errno, "attach stdio descriptor " + std::to_string(i));
  if (!terminal) return;
  if (::setsid() < 0) throw Error(errno, "start a session for the terminal");
  if (::ioctl(0, TIOCSCTTY, 0) != 0) throw Error(errno, "make stdin the controlling terminal");
}

void become_process_user(const RunProcess& process) {
  const auto masks = process.capabilities ? knast::detail::capability_masks(*process.capabilities)
                                          : knast::detail::docker_default_capability_masks();
  const int last = kernel_last_capability();
  const std::uint64_t known = last >= 63 ? ~std::uint64_t{0} : (std::uint64_t{1} << (last + 1)) - 1;
  // Keep the permitted set across setuid(); the bounding set needs CAP_SETPCAP, so first.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) throw Error(errno, "keep capabilities across setuid");
  drop_bounding(masks.bounding, last);
  switch_user(process.user);
  set_capabilities({masks.bounding & known, masks.effective & known, masks.permitted & known,
                    masks.inheritable & known, masks.ambient & known});
  raise_ambient(masks.ambient & known, last);
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) throw Error(errno, "reset keep-capabilities");
  if (process.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    throw Error(errno, "set no_new_privs");
  ::umask(static_cast<mode_t>(process.user.umask.value_or(022)));
  if (::chdir(process.cwd.c_str()) != 0)
    throw Error(errno, "change to the working directory " + quote_untrusted(process.cwd));
}

std::string find_executable(const RunProcess& process) {
  const auto& command = process.args.at(0);
  if (command.find('/') != std::string::npos) {
    if (is_executable_file(command)) return command;
    throw Error(ErrorCode::not_found, "exec " + quote_untrusted(command) + ": no such executable file in the container");
  }
  auto path = env_value(process.env, "PATH");
  if (path.empty()) path = docker_default_path;
  for (std::size_t start = 0; start <= path.size();) {
    const auto end = std::min(path.find(':', start), path.size());
    const auto dir = end > start ? path.substr(start, end - start) : std::string(".");
    if (auto candidate = dir + "/" + command; is_executable_file(candidate)) return candidate;
    start = end + 1;
  }
  throw Error(ErrorCode::not_found, "exec " + quote_untrusted(command) + ": executable file not found in $PATH (" +
                                        quote_untrusted(path) + ") in the container");
}

void exec_program(const std::string& path, const RunProcess& process) noexcept {
  std::vector<char*> argv;
  std::vector<char*> envp;
  for (const auto& arg : process.args) argv.push_back(const_cast<char*>(arg.c_str()));
  for (const auto& entry : process.env) envp.push_back(const_cast<char*>(entry.c_str()));
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  // Nothing of the supervisor's descriptors reaches the program, whatever it leaked.
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  // Nor its signal set-up: execve keeps the blocked mask and ignored signals (a
  // supervisor blocking SIGCHLD for a signalfd would break every shell in the container).
  for (int signal = 1; signal < NSIG; ++signal)
    if (signal != SIGKILL && signal != SIGSTOP) (void)::signal(signal, SIG_DFL);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(path.c_str(), argv.data(), envp.data());
}

}  // namespace knast::platform::executor
