#include "jail/supervisor_protocol.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <charconv>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

// Reads a decimal number at the front of @p text and drops it and one following space.
template <typename Number>
bool take_number(std::string_view& text, Number& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end == text.data()) return false;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  return true;
}

}  // namespace

std::string status_ok(pid_t pid) { return "ok " + std::to_string(pid) + "\n"; }

std::string status_error(const Error& error) {
  std::string message = error.what();
  std::replace(message.begin(), message.end(), '\n', ' ');
  return "error " + std::to_string(static_cast<int>(error.kind())) + " " + message + "\n";
}

pid_t parse_status(std::string_view line, std::string_view what) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (line.substr(0, 3) == "ok ") {
    line.remove_prefix(3);
    pid_t pid = 0;
    if (take_number(line, pid) && pid > 0 && line.empty()) return pid;
  } else if (line.substr(0, 6) == "error ") {
    line.remove_prefix(6);
    int code = 0;
    if (take_number(line, code) && code > 0 && code <= static_cast<int>(ErrorCode::internal))
      throw Error(static_cast<ErrorCode>(code), std::string(line));
  }
  throw Error(ErrorCode::internal, std::string(what) + ": the supervisor " +
                                       (line.empty() ? "exited without answering (see its stderr)"
                                                     : "answered " + quote_untrusted(line)));
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
