// Jails: jail_set(2) with the plan's parameters (encoded by encode_jail_params(), FREEBSD.md §1),
// jail_get(2) by name, jail_remove(2), the jail's processes from the kern.proc sysctl,
// and lo0 of a vnet jail brought up from a child attached to it (FREEBSD.md §7).
#include "platform/freebsd/jail_freebsd.hpp"
#include "platform/freebsd/network_kernel_freebsd.hpp"

#include "jail/jail_plan.hpp"

#include <knast/error.hpp>

#include <sys/param.h>
#include <sys/jail.h>
#include <sys/socket.h>
#include <sys/sysctl.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <signal.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <unistd.h>

namespace knast::platform::freebsd {

// ---- IovecList ------------------------------------------------------------------------

iovec& IovecList::store(std::vector<char> bytes) {
  buffers_.push_back(std::move(bytes));
  iovec v{};
  v.iov_base = buffers_.back().empty() ? nullptr : buffers_.back().data();
  v.iov_len = buffers_.back().size();
  iov_.push_back(v);
  return iov_.back();
}

void IovecList::add_string(const std::string& name, const std::string& value) {
  store(std::vector<char>(name.c_str(), name.c_str() + name.size() + 1));
  store(std::vector<char>(value.c_str(), value.c_str() + value.size() + 1));
}

void IovecList::add_bytes(const std::string& name, const void* data, std::size_t size) {
  store(std::vector<char>(name.c_str(), name.c_str() + name.size() + 1));
  const char* bytes = static_cast<const char*>(data);
  store(std::vector<char>(bytes, bytes + size));
}

void IovecList::add_flag(const std::string& name) {
  store(std::vector<char>(name.c_str(), name.c_str() + name.size() + 1));
  store({});
}

void IovecList::add_errmsg() {
  static const std::string name = "errmsg";
  store(std::vector<char>(name.c_str(), name.c_str() + name.size() + 1));
  store(std::vector<char>(256, '\0'));
  errmsg_ = &buffers_.back();
}

std::string IovecList::errmsg() const {
  if (errmsg_ == nullptr) return {};
  return std::string(errmsg_->data(), ::strnlen(errmsg_->data(), errmsg_->size()));
}

// ---- jail_set -------------------------------------------------------------------------

namespace {

std::string jail_failure_advice(int err) {
  switch (err) {
    case EEXIST: return " (a jail of this name exists: remove it, or the container of that id)";
    case ENOENT:
    case EINVAL: return " (a parameter this kernel does not know: is its module loaded, VIMAGE built in?)";
    case EPERM: return " (jails need root on the host)";
    default: return "";
  }
}

}  // namespace

JailHandle& JailHandle::operator=(JailHandle&& other) noexcept {
  if (this != &other) {
    remove();
    jid_ = other.jid_;
    other.jid_ = -1;
  }
  return *this;
}

void JailHandle::remove() noexcept {
  if (jid_ < 0) return;
  ::jail_remove(jid_);  // EINVAL: already gone, which is what we want
  jid_ = -1;
}

JailHandle create_jail(const JailPlan& plan) {
  IovecList iov;
  for (const auto& param : knast::detail::encode_jail_params(plan.params)) {
    if (param.value) iov.add_bytes(param.name, param.value->data(), param.value->size());
    else iov.add_flag(param.name);
  }
  iov.add_errmsg();
  const int jid = ::jail_set(iov.data(), iov.size(), JAIL_CREATE);
  if (jid < 0) {
    const int err = errno;
    const std::string message = iov.errmsg();
    throw Error(err == EEXIST ? std::error_code(ErrorCode::already_exists) : std::error_code(err, std::generic_category()),
                fmt::format("jail_set {}: {}{}", plan.name, message.empty() ? std::strerror(err) : message,
                            jail_failure_advice(err)));
  }
  return JailHandle(jid);
}

std::optional<int> find_jail(const std::string& name) {
  IovecList iov;
  iov.add_string("name", name);
  const int jid = ::jail_get(iov.data(), iov.size(), 0);
  if (jid >= 0) return jid;
  if (errno == ENOENT) return std::nullopt;
  throw Error(errno, "jail_get " + name);
}

std::vector<pid_t> jail_pids(int jid) {
  int mib[3] = {CTL_KERN, KERN_PROC, KERN_PROC_PROC};
  std::vector<kinfo_proc> procs;
  for (int attempt = 0; attempt < 8; ++attempt) {
    size_t size = 0;
    if (::sysctl(mib, 3, nullptr, &size, nullptr, 0) != 0) throw Error(errno, "sysctl kern.proc.proc");
    size += size / 4 + sizeof(kinfo_proc) * 16;  // room for processes started meanwhile
    procs.assign(size / sizeof(kinfo_proc), kinfo_proc{});
    if (::sysctl(mib, 3, procs.data(), &size, nullptr, 0) == 0) {
      procs.resize(size / sizeof(kinfo_proc));
      std::vector<pid_t> out;
      for (const auto& p : procs)
        if (p.ki_jid == jid) out.push_back(p.ki_pid);
      return out;
    }
    if (errno != ENOMEM) throw Error(errno, "sysctl kern.proc.proc");
  }
  throw Error(ErrorCode::io, "sysctl kern.proc.proc: the process table keeps growing");
}

void signal_jail(int jid, int signal) {
  for (const pid_t pid : jail_pids(jid))
    if (::kill(pid, signal) != 0 && errno != ESRCH) throw Error(errno, fmt::format("kill {} (jail {})", pid, jid));
}

bool wait_jail_empty(int jid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto pids = jail_pids(jid);
    if (pids.empty()) return true;
    for (const pid_t pid : pids) {
      int status = 0;
      ::waitpid(pid, &status, WNOHANG);  // ECHILD for those that are not ours: fine
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// ---- lo0 in a vnet jail ------------------------------------------------------------------

namespace {

// In the child, attached to the jail: 127.0.0.1/8 on lo0 and IFF_UP. Returns 0 or errno.
int configure_loopback_here() {
  const int s = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0) return errno;
  return configure_loopback(s);
}

}  // namespace

void bring_up_loopback(int jid) {
  const pid_t pid = ::fork();
  if (pid < 0) throw Error(errno, "fork (loopback of a vnet jail)");
  if (pid == 0) {
    if (::jail_attach(jid) != 0) ::_exit(errno & 0xff);
    ::_exit(configure_loopback_here() & 0xff);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw Error(errno, "waitpid (loopback of a vnet jail)");
  if (!WIFEXITED(status)) throw Error(ErrorCode::io, fmt::format("configuring lo0 in jail {}: the helper died", jid));
  if (const int err = WEXITSTATUS(status); err != 0)
    throw Error(err, fmt::format("configuring lo0 (127.0.0.1/8, up) in vnet jail {}", jid));
}

}  // namespace knast::platform::freebsd
