/// @file subprocess.hpp
/// @brief Private: runs a short-lived helper program (docker credential helpers) with
///        input on stdin, collecting its output, with a deadline. POSIX only
///        (posix_spawnp, poll), so it is the same on FreeBSD and Linux.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace registry_detail {

/// How a helper run ended.
struct ProcessResult {
  int exit_code = -1;   ///< Exit status, or -1 if it was killed by a signal.
  std::string out;      ///< Its stdout (at most 1 MiB).
  std::string err;      ///< Its stderr (at most 64 KiB).
};

/// Runs @p argv (argv[0] looked up in PATH) with @p input on its stdin, and waits for it
/// to exit. A program still running after @p timeout is killed.
/// @throws Error not_found if the program does not exist; io if it does not finish in
///         time (it is killed and reaped first); limit_exceeded if it writes too much;
///         an errno Error if it cannot be started.
ProcessResult run_process(const std::vector<std::string>& argv, std::string_view input,
                          std::chrono::milliseconds timeout);

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
