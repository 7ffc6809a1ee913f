// Published ports: docker's `-p` syntax parsed into PortMapping values, and the names of
// the network modes.
#include "core/text.hpp"
#include "core/unique_fd.hpp"
#include "network/network_state.hpp"

#include <knast/error.hpp>
#include <knast/network.hpp>

#include <fmt/format.h>

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <cstdint>

namespace knast {
inline namespace v0 {
namespace {

constexpr std::string_view port_form =
    "use [[hostip:]hostport:]containerport[/tcp|udp], e.g. 127.0.0.1:8080:80/tcp, or 80 for any free host port";

[[noreturn]] void refuse(std::string_view text, std::string_view why) {
  throw Error(ErrorCode::invalid_argument,
              fmt::format("port mapping {}: {} ({})", detail::quote_untrusted(text), why, port_form));
}

struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;
  std::size_t size() const { return static_cast<std::size_t>(last - first) + 1; }
};

// One port, 1–65535, digits only (no sign, no spaces).
std::uint16_t parse_port(std::string_view whole, std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
    refuse(whole, fmt::format("{} is not a port number", detail::quote_untrusted(text)));
  if (value == 0 || value > 65535) refuse(whole, fmt::format("port {} is outside 1-65535", value));
  return static_cast<std::uint16_t>(value);
}

// "80" or "80-81".
PortRange parse_range(std::string_view whole, std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    const auto port = parse_port(whole, text);
    return {port, port};
  }
  const PortRange range{parse_port(whole, text.substr(0, dash)), parse_port(whole, text.substr(dash + 1))};
  if (range.first > range.last) refuse(whole, "a port range must not run backwards");
  return range;
}

// An IPv4 address in dotted form; "0.0.0.0" (docker's "every address") becomes "".
std::string parse_host_ip(std::string_view whole, std::string_view text) {
  const std::string ip(text);
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, ip.c_str(), &v4) == 1) return ip == "0.0.0.0" ? std::string() : ip;
  if (!ip.empty() && (ip.front() == '[' || ::inet_pton(AF_INET6, ip.c_str(), &v6) == 1))
    refuse(whole, "IPv6 host addresses are not supported yet");
  refuse(whole, fmt::format("{} is not an IPv4 address", detail::quote_untrusted(text)));
}

std::vector<std::string_view> split_colons(std::string_view text) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const auto colon = text.find(':', start);
    parts.push_back(text.substr(start, colon - start));
    if (colon == std::string_view::npos) return parts;
    start = colon + 1;
  }
}

}  // namespace

std::vector<PortMapping> parse_port_mappings(std::string_view text) {
  std::string_view rest = text;
  std::string protocol = "tcp";
  if (const auto slash = rest.rfind('/'); slash != std::string_view::npos) {
    protocol = std::string(rest.substr(slash + 1));
    if (protocol != "tcp" && protocol != "udp")
      refuse(text, fmt::format("protocol {} is neither tcp nor udp", detail::quote_untrusted(protocol)));
    rest = rest.substr(0, slash);
  }
  if (rest.find('[') != std::string_view::npos) refuse(text, "IPv6 host addresses are not supported yet");
  const auto parts = split_colons(rest);
  if (parts.size() > 3) refuse(text, "IPv6 host addresses are not supported yet, or too many ':'");
  const std::string host_ip = parts.size() == 3 ? parse_host_ip(text, parts[0]) : std::string();
  const PortRange container = parse_range(text, parts.back());
  // No host port ("80", "127.0.0.1::80"): each container port gets a free host port when
  // the container joins its network (host_port 0 until then).
  const std::string_view host_text = parts.size() == 1 ? std::string_view() : parts[parts.size() - 2];
  const PortRange host = host_text.empty() ? PortRange{} : parse_range(text, host_text);
  if (!host_text.empty() && host.size() != container.size())
    refuse(text, fmt::format("the host range has {} ports and the container range {}: give ranges of equal length",
                             host.size(), container.size()));
  std::vector<PortMapping> mappings;
  for (std::size_t i = 0; i < container.size(); ++i)
    mappings.push_back({host_ip, static_cast<std::uint16_t>(host_text.empty() ? 0 : host.first + i),
                        static_cast<std::uint16_t>(container.first + i), protocol});
  return mappings;
}

namespace detail {

bool host_can_bind(const PortMapping& mapping) {
  const UniqueFd fd(::socket(AF_INET, (mapping.protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
  if (!fd) throw Error(errno, fmt::format("socket: {}", std::strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(mapping.host_port);
  if (mapping.host_ip.empty()) {
    address.sin_addr.s_addr = htonl(INADDR_ANY);
  } else if (::inet_pton(AF_INET, mapping.host_ip.c_str(), &address.sin_addr) != 1) {
    return false;
  }
  // Binding is the question; the socket closes without ever listening. An address the
  // host does not have (EADDRNOTAVAIL) has nothing listening on it either.
  return ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 || errno == EADDRNOTAVAIL;
}

}  // namespace detail

std::string to_string(const PortMapping& mapping) {
  return fmt::format("{}/{} -> {}:{}", mapping.container_port, mapping.protocol,
                     mapping.host_ip.empty() ? "0.0.0.0" : mapping.host_ip, mapping.host_port);
}

std::string_view to_string(NetworkMode mode) noexcept {
  switch (mode) {
    case NetworkMode::none: return "none";
    case NetworkMode::host: return "host";
    case NetworkMode::shared: return "shared";
    case NetworkMode::bridge: return "bridge";
  }
  return "unknown";
}

}  // namespace v0
}  // namespace knast
