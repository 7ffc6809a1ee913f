// Linux executor: the report pipe between a child being set up and the supervisor. The
// child sends "ready" (one byte) or one error record (tag, errno, ErrorCode, message);
// the write end is close-on-exec, so a successful execve ends the pipe with no record.
#include "platform/linux/executor_linux.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace knast::platform::executor {
namespace {

constexpr char ready_tag = 'R';
constexpr char error_tag = 'E';
// One write below PIPE_BUF is atomic: the record arrives whole or not at all.
constexpr std::size_t max_message = 3500;

struct ErrorHeader {
  char tag;
  std::int32_t sys_errno;
  std::int32_t kind;
  std::uint32_t length;
};

UniqueFd above_stdio(int fd) {
  UniqueFd moved(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
  const int saved = errno;
  ::close(fd);
  if (!moved) throw Error(saved, "make a pipe for the container setup");
  return moved;
}

std::string read_to_end(int fd) {
  std::string data;
  char buffer[1024];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) data.append(buffer, static_cast<std::size_t>(n));
    else if (n == 0 || errno != EINTR) return data;
  }
}

}  // namespace

Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw Error(errno, "make a pipe for the container setup");
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  if (read_end.get() <= 2) read_end = above_stdio(read_end.release());
  if (write_end.get() <= 2) write_end = above_stdio(write_end.release());
  return Pipe{std::move(read_end), std::move(write_end)};
}

void report_ready(int fd) noexcept { (void)!::write(fd, &ready_tag, 1); }

void report_error(int fd, const Error& error) noexcept {
  const std::string_view message(error.what());
  const auto length = std::min(message.size(), max_message);
  char record[sizeof(ErrorHeader) + max_message];
  const ErrorHeader header{error_tag, error.sys_errno(), static_cast<std::int32_t>(error.kind()),
                           static_cast<std::uint32_t>(length)};
  std::memcpy(record, &header, sizeof header);
  std::memcpy(record + sizeof header, message.data(), length);
  (void)!::write(fd, record, sizeof header + length);
}

bool await_report(int fd) {
  char tag = 0;
  ssize_t n;
  do n = ::read(fd, &tag, 1);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  if (tag == ready_tag) return true;
  const auto rest = read_to_end(fd);
  ErrorHeader header{};
  if (tag != error_tag || rest.size() + 1 < sizeof header)
    throw Error(ErrorCode::internal, "container setup: the child sent a malformed report");
  std::memcpy(reinterpret_cast<char*>(&header) + 1, rest.data(), sizeof header - 1);
  std::string message = rest.substr(sizeof header - 1, header.length);
  if (header.sys_errno != 0) throw Error(header.sys_errno, std::move(message));
  throw Error(static_cast<ErrorCode>(header.kind), std::move(message));
}

}  // namespace knast::platform::executor
