// The part of wiring a container that happens inside its vnet jail (FREEBSD.md §7): an
// ioctl or a routing message acts on the network stack of the socket's creator, so a child
// forked from here jail_attach()es and renames the moved epair end, gives it its address,
// brings it and lo0 up and adds the default route. The child runs only async-signal-safe
// calls on data prepared before fork (the caller may be multi-threaded) and reports the
// step that failed and its errno over a close-on-exec pipe; end of file means success.
#include "platform/freebsd/jail_freebsd.hpp"
#include "platform/freebsd/network_kernel_freebsd.hpp"

#include "core/unique_fd.hpp"

#include <knast/error.hpp>

#include <sys/param.h>
#include <sys/jail.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace knast::platform::freebsd {
namespace {

using detail::UniqueFd;

[[noreturn]] void fail(int err, const std::string& what) { throw Error(err, what + ": " + std::strerror(err)); }

enum JailSideStep : int { side_attach = 1, side_socket, side_rename, side_address, side_up, side_loopback, side_route };

const char* side_step_name(int step) {
  switch (step) {
    case side_attach: return "jail_attach";
    case side_socket: return "socket(AF_INET)";
    case side_rename: return "renaming the interface (SIOCSIFNAME)";
    case side_address: return "adding its address (SIOCAIFADDR)";
    case side_up: return "bringing it up (SIOCSIFFLAGS)";
    case side_loopback: return "configuring lo0 (127.0.0.1/8, up)";
    case side_route: return "adding the default route (RTM_ADD)";
    default: return "an unknown step";
  }
}

[[noreturn]] void report_and_exit(int fd, int step, int err) noexcept {
  const ChildReport report{step, err};
  [[maybe_unused]] const ssize_t written = ::write(fd, &report, sizeof report);
  ::_exit(1);
}

// The child: async-signal-safe calls only. Exits 0 (pipe closes unwritten) on success.
[[noreturn]] void set_up_inside_jail(const JailSide& side, int report_fd) noexcept {
  if (::jail_attach(side.jid) != 0) report_and_exit(report_fd, side_attach, errno);
  const int s = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0) report_and_exit(report_fd, side_socket, errno);
  if (std::strncmp(side.moved.text, side.name.text, IFNAMSIZ) != 0)
    if (const int err = rename_interface(s, side.moved, side.name)) report_and_exit(report_fd, side_rename, err);
  if (const int err = add_ipv4_address(s, side.name, side.address, side.prefix_length))
    report_and_exit(report_fd, side_address, err);
  if (const int err = set_interface_up(s, side.name)) report_and_exit(report_fd, side_up, err);
  if (const int err = configure_loopback(s)) report_and_exit(report_fd, side_loopback, err);
  if (side.has_gateway)
    if (const int err = add_default_route(side.gateway)) report_and_exit(report_fd, side_route, err);
  ::_exit(0);
}

// Waits for a child on every path out of the caller.
class ChildProcess {
 public:
  explicit ChildProcess(pid_t pid) noexcept : pid_(pid) {}
  ~ChildProcess() {
    if (pid_ > 0) wait();
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  /// The wait status; -1 if waitpid failed.
  int wait() noexcept {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0) {
      if (errno != EINTR) {
        status = -1;
        break;
      }
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_;
};

}  // namespace

void configure_jail_side(const JailSide& side, const std::string& what) {
  int fds[2] = {-1, -1};
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    const int err = errno;
    fail(err, what + ": pipe2");
  }
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    fail(err, what + ": fork");
  }
  if (pid == 0) set_up_inside_jail(side, write_end.get());
  ChildProcess child(pid);
  write_end.reset();
  const auto report = read_report(read_end.get());
  const int status = child.wait();
  if (report)
    throw Error(report->error, fmt::format("{}: {} failed: {}", what, side_step_name(report->step),
                                           std::strerror(report->error)));
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error(ErrorCode::io, what + ": the helper process attached to the jail died without a report");
}

}  // namespace knast::platform::freebsd
