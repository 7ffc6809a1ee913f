// What the library (class Jail) and the supervisor program (knast-shim) say to each other.
//
// The library starts `knast-shim create --root R --id ID [--log] [--rm]` or
// `knast-shim exec --root R --id ID` with descriptor 3 open on a pipe (create) or a socket
// (exec). The supervisor answers one line on it: "ok PID" once the container (or the exec'd
// process) exists, or "error CODE MESSAGE" with an ErrorCode number, after which it has
// left nothing behind. For exec the library first writes the RunSpec whose process is to
// run (the container's spec with the new process) and shuts its side down for writing.
// `start` is a byte written into the container's start fifo; `wait` is the supervisor's
// lock (see ContainerDir).
#pragma once

#include <knast/error.hpp>

#include <sys/types.h>

#include <string>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace detail {

/// The descriptor the supervisor answers on.
inline constexpr int supervisor_status_fd = 3;
/// The byte that starts a created container.
inline constexpr char start_request = 's';

/// "ok PID\n".
std::string status_ok(pid_t pid);
/// "error CODE MESSAGE\n" (the message on one line).
std::string status_error(const Error& error);
/// The pid of an "ok" line. @throws the Error an "error" line carries; Error internal
/// naming @p what for anything else (an empty line: the supervisor died before answering).
pid_t parse_status(std::string_view line, std::string_view what);

}  // namespace detail
}  // namespace v0
}  // namespace knast
