#include "core/text.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>

namespace knast {
inline namespace v0 {
namespace detail {

std::string quote_untrusted(std::string_view text, std::size_t max_chars) {
  std::string out = "\"";
  for (char c : text.substr(0, max_chars)) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte >= 0x7f) {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out += c;
    }
  }
  out += text.size() > max_chars ? "\"..." : "\"";
  return out;
}

std::string now_rfc3339() { return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr))); }

}  // namespace detail
}  // namespace v0
}  // namespace knast
