#include "jail/supervisor_client.hpp"

#include "core/unique_fd.hpp"

#include <knast/error.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

extern char** environ;

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

// posix_spawn's file actions, freed whatever happens.
class FileActions {
 public:
  FileActions() { ::posix_spawn_file_actions_init(&actions_); }
  ~FileActions() { ::posix_spawn_file_actions_destroy(&actions_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  void dup_to(int from, int to) { check(::posix_spawn_file_actions_adddup2(&actions_, from, to)); }
  void null_to(int to) { check(::posix_spawn_file_actions_addopen(&actions_, to, "/dev/null", O_RDWR, 0)); }
  const posix_spawn_file_actions_t* get() const noexcept { return &actions_; }

 private:
  static void check(int rc) {
    if (rc != 0) throw Error(rc, "start the container supervisor: prepare its descriptors");
  }
  posix_spawn_file_actions_t actions_{};
};

}  // namespace

pid_t spawn_supervisor(const std::filesystem::path& program, const std::vector<std::string>& args,
                       const std::array<int, 3>& stdio, int channel) {
  // The channel moves above the stdio numbers first, so no dup2 below overwrites it.
  const UniqueFd high_channel(::fcntl(channel, F_DUPFD_CLOEXEC, 10));
  if (!high_channel) throw Error(errno, "start the container supervisor: dup");
  FileActions actions;
  for (int n = 0; n < 3; ++n) {
    const int fd = stdio[static_cast<std::size_t>(n)];
    if (fd < 0) actions.null_to(n);
    else if (fd != n) actions.dup_to(fd, n);
  }
  actions.dup_to(high_channel.get(), 3);
  std::vector<std::string> argv_strings{program.string()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, program.c_str(), actions.get(), nullptr, argv.data(), environ);
  if (rc != 0) throw Error(rc, "start the container supervisor " + program.string());
  return pid;
}

std::string read_answer(int fd) {
  std::string line;
  char c = 0;
  for (;;) {
    const ssize_t got = ::read(fd, &c, 1);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return line;
    line += c;
    if (c == '\n' || line.size() > 64 * 1024) return line;
  }
}

int wait_for_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw Error(errno, "wait for the container supervisor");
  }
  return status;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
