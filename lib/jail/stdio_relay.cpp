#include "jail/stdio_relay.hpp"

#include "image_store/posix_io.hpp"
#include "jail/container_log.hpp"

#include <knast/error.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

constexpr std::size_t chunk_bytes = 64 * 1024;

UniqueFd checked(int fd, const char* what) {
  if (fd < 0) throw Error(errno, std::string("container stdio: ") + what);
  return UniqueFd(fd);
}

UniqueFd dup_cloexec(int fd) { return checked(::fcntl(fd, F_DUPFD_CLOEXEC, 3), "dup"); }

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// A pipe whose both ends are close-on-exec (the container gets its end through dup2).
std::array<UniqueFd, 2> make_pipe() {
  int ends[2] = {-1, -1};
  if (::pipe(ends) != 0) throw Error(errno, "container stdio: pipe");
  std::array<UniqueFd, 2> out{UniqueFd(ends[0]), UniqueFd(ends[1])};
  for (const auto& end : out) ::fcntl(end.get(), F_SETFD, FD_CLOEXEC);
  return out;
}

}  // namespace

StdioRelay::StdioRelay(int log_fd, bool terminal) : log_fd_(log_fd) {
  if (terminal) {
    master_ = checked(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), "posix_openpt");
    if (::grantpt(master_.get()) != 0 || ::unlockpt(master_.get()) != 0)
      throw Error(errno, "container stdio: unlock the pseudo-terminal");
    const char* name = ::ptsname(master_.get());
    if (name == nullptr) throw Error(errno, "container stdio: ptsname");
    child_owned_[0] = checked(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC), "open the terminal");
    child_ = {child_owned_[0].get(), child_owned_[0].get(), child_owned_[0].get()};
    Route out{dup_cloexec(master_.get()), log_fd_ >= 0 ? -1 : 1, 1, -1};
    set_nonblocking(out.from.get());
    routes_.push_back(std::move(out));
    if (log_fd_ < 0) routes_.push_back(Route{dup_cloexec(0), master_.get(), 0, -1});
    return;
  }
  if (log_fd_ < 0) return;  // the container gets the supervisor's own 0, 1, 2
  child_owned_[0] = checked(::open("/dev/null", O_RDONLY | O_CLOEXEC), "open /dev/null");
  child_[0] = child_owned_[0].get();
  for (std::size_t stream = 1; stream <= 2; ++stream) {
    auto ends = make_pipe();
    set_nonblocking(ends[0].get());
    child_owned_[stream] = std::move(ends[1]);
    child_[stream] = child_owned_[stream].get();
    routes_.push_back(Route{std::move(ends[0]), -1, static_cast<int>(stream), -1});
  }
}

StdioRelay::~StdioRelay() {
  if (raw_) {
    termios saved{};
    std::memcpy(&saved, saved_termios_.data(), sizeof saved);
    ::tcsetattr(0, TCSANOW, &saved);
  }
}

void StdioRelay::close_container_side() noexcept {
  for (auto& fd : child_owned_) fd.reset();
}

void StdioRelay::attach_terminal() {
  if (!master_ || log_fd_ >= 0 || ::isatty(0) == 0) return;
  termios mode{};
  if (::tcgetattr(0, &mode) != 0) return;
  saved_termios_.assign(reinterpret_cast<unsigned char*>(&mode), reinterpret_cast<unsigned char*>(&mode) + sizeof mode);
  ::cfmakeraw(&mode);
  raw_ = ::tcsetattr(0, TCSANOW, &mode) == 0;
  resize();
}

void StdioRelay::resize() noexcept {
  if (!master_ || ::isatty(0) == 0) return;
  winsize size{};
  if (::ioctl(0, TIOCGWINSZ, &size) == 0) ::ioctl(master_.get(), TIOCSWINSZ, &size);
}

void StdioRelay::add_to(std::vector<pollfd>& fds) {
  for (auto& route : routes_) {
    route.poll_index = -1;
    if (!route.from) continue;
    route.poll_index = static_cast<int>(fds.size());
    fds.push_back(pollfd{route.from.get(), POLLIN, 0});
  }
}

void StdioRelay::pump(const std::vector<pollfd>& fds) {
  for (auto& route : routes_) {
    if (route.poll_index < 0 || fds[static_cast<std::size_t>(route.poll_index)].revents == 0) continue;
    copy(route);  // resets the route itself at end of file
  }
}

void StdioRelay::drain() {
  for (auto& route : routes_)
    if (route.stream != 0)
      while (route.from && copy(route)) {
      }
}

bool StdioRelay::copy(Route& route) {
  char buffer[chunk_bytes];
  const ssize_t got = ::read(route.from.get(), buffer, sizeof buffer);
  if (got < 0 && errno == EINTR) return true;
  if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
  if (got <= 0) {  // end of file; EIO is how a terminal master says the last slave closed
    route.from.reset();
    return false;
  }
  write_out(route, buffer, static_cast<std::size_t>(got));
  return true;
}

void StdioRelay::write_out(const Route& route, const char* data, std::size_t size) {
  // A reader that went away (a closed pipe, a full disk for the log) loses the output,
  // not the container: errors are dropped here on purpose.
  const std::string frame = route.to < 0 ? log_frame(route.stream, std::string_view(data, size)) : std::string();
  const char* at = route.to < 0 ? frame.data() : data;
  std::size_t left = route.to < 0 ? frame.size() : size;
  const int fd = route.to < 0 ? log_fd_ : route.to;
  while (left > 0) {
    const ssize_t put = ::write(fd, at, left);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return;
    at += put;
    left -= static_cast<std::size_t>(put);
  }
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
