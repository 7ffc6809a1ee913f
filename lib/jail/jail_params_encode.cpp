// Jail parameters as the bytes jail_set(2) takes (FREEBSD.md §1, jail(2)). Portable on
// purpose: the encoding is unit-tested on any host, the FreeBSD executor only wraps it in
// iovecs.
#include "jail/jail_plan.hpp"

#include "core/text.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <climits>
#include <cstring>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

// A boolean's false form: "no" after the last dot: nopersist, allow.noraw_sockets.
std::string no_form(const std::string& name) {
  const auto dot = name.rfind('.');
  return dot == std::string::npos ? "no" + name : name.substr(0, dot + 1) + "no" + name.substr(dot + 1);
}

std::vector<char> bytes_of(const void* data, std::size_t size) {
  const char* begin = static_cast<const char*>(data);
  return std::vector<char>(begin, begin + size);
}

std::vector<char> c_string(const std::string& text) { return std::vector<char>(text.c_str(), text.c_str() + text.size() + 1); }

template <typename Address>
std::vector<char> packed_addresses(const std::string& name, const std::string& list, int family) {
  std::vector<char> out;
  std::size_t at = 0;
  while (at <= list.size()) {
    const auto comma = std::min(list.find(',', at), list.size());
    const std::string text = list.substr(at, comma - at);
    Address address{};
    if (::inet_pton(family, text.c_str(), &address) != 1)
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("jail parameter {}: {} is not an address", name, quote_untrusted(text)));
    const auto bytes = bytes_of(&address, sizeof address);
    out.insert(out.end(), bytes.begin(), bytes.end());
    at = comma + 1;
  }
  return out;
}

}  // namespace

std::vector<EncodedJailParam> encode_jail_params(const std::vector<std::pair<std::string, JailParamValue>>& params) {
  std::vector<EncodedJailParam> out;
  for (const auto& [name, value] : params) {
    if (const auto* flag = std::get_if<bool>(&value)) {
      out.push_back({*flag ? name : no_form(name), std::nullopt});
    } else if (const auto* number = std::get_if<std::int64_t>(&value)) {
      if (*number < INT_MIN || *number > INT_MAX)
        throw Error(ErrorCode::invalid_argument, fmt::format("jail parameter {} = {}: beyond an int", name, *number));
      const int as_int = static_cast<int>(*number);  // exactly sizeof(int), or EINVAL
      out.push_back({name, bytes_of(&as_int, sizeof as_int)});
    } else if (name == "ip4.addr") {
      out.push_back({name, packed_addresses<in_addr>(name, std::get<std::string>(value), AF_INET)});
    } else if (name == "ip6.addr") {
      out.push_back({name, packed_addresses<in6_addr>(name, std::get<std::string>(value), AF_INET6)});
    } else {
      out.push_back({name, c_string(std::get<std::string>(value))});
    }
  }
  return out;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
