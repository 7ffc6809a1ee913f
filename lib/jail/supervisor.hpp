// The supervisor program (knast-shim): its main() is one call to supervisor_main().
//
// `create`: forks once so it is nobody's child (the caller reaps the intermediate at once
// and never has a zombie to collect), makes the container through the platform executor,
// answers "ok PID", then waits for the start byte, relays stdio (terminal, log), forwards
// SIGINT/SIGTERM/SIGHUP/SIGQUIT to the container's first process, reaps it (and, on
// FreeBSD, orphans handed to it as reaper), tears the container down, records the exit
// status in state.json and in its lock file, and exits with the container's exit code.
// `exec`: runs one further process in a running container the same way, as the caller's
// child, and exits with that process's exit code.
#pragma once

namespace knast {
inline namespace v0 {
namespace detail {

/// Runs the supervisor with its command line; returns the process exit code.
int supervisor_main(int argc, char** argv) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace knast
