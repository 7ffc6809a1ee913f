// The library's side of the supervisor: starting knast-shim with the right descriptors
// and reading its one-line answer (see supervisor_protocol.hpp).
#pragma once

#include <sys/types.h>

#include <array>
#include <filesystem>
#include <string>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// Starts @p program with @p args (argv[1]...) through posix_spawn(3), its descriptors 0,
/// 1, 2 being @p stdio (-1: /dev/null) and 3 being @p channel; nothing else is inherited
/// that is close-on-exec. Safe in a multi-threaded caller. Returns the child's pid.
/// @throws Error with errno when the program cannot be started.
pid_t spawn_supervisor(const std::filesystem::path& program, const std::vector<std::string>& args,
                       const std::array<int, 3>& stdio, int channel);

/// Reads the supervisor's answer line from @p fd (up to '\n' or end of file).
std::string read_answer(int fd);

/// waitpid(2) for @p pid, retrying EINTR; returns the wait status.
int wait_for_child(pid_t pid);

}  // namespace detail
}  // namespace v0
}  // namespace knast
