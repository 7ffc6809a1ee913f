// The supervisor's side of a container's stdio: a pseudo-terminal (-t), the log pipes of
// a detached container, or nothing at all when the container simply gets the
// supervisor's own descriptors. Only POSIX calls (posix_openpt, termios, poll), so the
// same code serves Linux and FreeBSD.
#pragma once

#include "core/unique_fd.hpp"

#include <poll.h>

#include <array>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// Moves bytes between the container's stdio and its destination, from the supervisor's
/// poll loop.
class StdioRelay {
 public:
  /// @p log_fd: the open container.log to append frames to, or -1 to use the
  /// supervisor's own descriptors 0, 1, 2. @p terminal: give the container a new
  /// pseudo-terminal. @throws Error when a terminal or pipe cannot be made.
  StdioRelay(int log_fd, bool terminal);
  ~StdioRelay();
  StdioRelay(const StdioRelay&) = delete;
  StdioRelay& operator=(const StdioRelay&) = delete;

  /// The descriptors the container gets as 0, 1 and 2.
  std::array<int, 3> container_stdio() const noexcept { return child_; }
  /// Closes the supervisor's copies of the container's ends (once the container has them),
  /// so the relay sees end-of-file when the container's processes are gone.
  void close_container_side() noexcept;
  /// Puts the caller's terminal in raw mode and copies its size (terminal + no log).
  void attach_terminal();
  /// The caller's terminal size changed (SIGWINCH): pass it on.
  void resize() noexcept;

  /// Adds the descriptors to watch to @p fds; remembers where.
  void add_to(std::vector<pollfd>& fds);
  /// Copies what is ready, after poll() filled in @p fds.
  void pump(const std::vector<pollfd>& fds);
  /// Copies whatever the container side still has buffered, without waiting.
  void drain();

 private:
  struct Route {
    UniqueFd from;  // owned read end (pipe or terminal master dup)
    int to = -1;    // destination descriptor (not owned) or -1 for the log
    int stream = 1;
    int poll_index = -1;
  };
  bool copy(Route& route);  // false at end of file
  void write_out(const Route& route, const char* data, std::size_t size);

  int log_fd_;
  UniqueFd master_;
  std::array<UniqueFd, 3> child_owned_;
  std::array<int, 3> child_{0, 1, 2};
  std::vector<Route> routes_;
  bool raw_ = false;
  std::vector<unsigned char> saved_termios_;
};

}  // namespace detail
}  // namespace v0
}  // namespace knast
