#include "jail/run_spec_checks.hpp"

#include "core/text.hpp"

#include <knast/error.hpp>
#include <knast/platform.hpp>
#include <knast/run_spec.hpp>

#include <fmt/format.h>

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto comma = text.find(',');
    out.push_back(text.substr(0, comma));
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

[[noreturn]] void bad(std::string_view name, std::string_view value, std::string_view expected) {
  throw Error(ErrorCode::invalid_argument, fmt::format("{} = {}: expected {}", name, quote_untrusted(value), expected));
}

bool is_lower_word(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

// rctl(8) without the subject: resource:action=amount[/per], amount digits with an
// optional k/m/g/t suffix (rctl takes these through expand_number(3)).
bool is_rctl_rule(std::string_view rule) {
  const auto colon = rule.find(':');
  const auto equals = rule.find('=');
  if (colon == std::string_view::npos || equals == std::string_view::npos || equals < colon) return false;
  const auto resource = rule.substr(0, colon);
  const auto action = rule.substr(colon + 1, equals - colon - 1);
  auto amount = rule.substr(equals + 1);
  if (const auto slash = amount.find('/'); slash != std::string_view::npos) {
    if (!is_lower_word(amount.substr(slash + 1))) return false;
    amount = amount.substr(0, slash);
  }
  if (!amount.empty() && std::string_view("kKmMgGtT").find(amount.back()) != std::string_view::npos)
    amount.remove_suffix(1);
  return is_lower_word(resource) && is_lower_word(action) && !amount.empty() &&
         std::all_of(amount.begin(), amount.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_address_list(std::string_view list, int family) {
  for (const auto address : split_commas(list)) {
    unsigned char buffer[sizeof(in6_addr)] = {};
    if (address.empty() || address.size() >= INET6_ADDRSTRLEN) return false;
    if (::inet_pton(family, std::string(address).c_str(), buffer) != 1) return false;
  }
  return true;
}

bool is_release(std::string_view text) {
  return !text.empty() && text.size() <= 64 && text.front() != '.' && text.back() != '.' &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

// "os/architecture[/variant]": both named, so the value never depends on the reading host.
bool is_platform(std::string_view text) {
  if (text.find('/') == std::string_view::npos) return false;
  try {
    const Platform platform = Platform::parse(text);
    return !platform.os.empty() && !platform.architecture.empty();
  } catch (const Error&) {
    return false;
  }
}

}  // namespace

void check_knast_annotations(const std::map<std::string, std::string>& annotations) {
  for (const auto& [name, value] : annotations) {
    if (name == annotation::linux_emulation) {
      if (value != "true" && value != "false") bad(name, value, "\"true\" or \"false\"");
    } else if (name == annotation::linux_osrelease) {
      if (!is_release(value)) bad(name, value, "a kernel release of digits and dots (\"5.15.0\")");
    } else if (name == annotation::rctl) {
      const auto rules = split_commas(value);
      if (!std::all_of(rules.begin(), rules.end(), is_rctl_rule))
        bad(name, value, "comma-separated rctl rules resource:action=amount (\"memoryuse:deny=536870912\")");
    } else if (name == annotation::ip4_addresses) {
      if (!is_address_list(value, AF_INET)) bad(name, value, "comma-separated IPv4 addresses");
    } else if (name == annotation::ip6_addresses) {
      if (!is_address_list(value, AF_INET6)) bad(name, value, "comma-separated IPv6 addresses");
    } else if (name == annotation::image_platform) {
      if (!is_platform(value)) bad(name, value, "a platform os/architecture[/variant] (\"linux/amd64\")");
    }
  }
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
