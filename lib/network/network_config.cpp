// Network names, IPv4 subnet arithmetic and the JSON of network.json / endpoints.json.
#include "network/network_config.hpp"

#include "core/text.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <memory>
#include <charconv>
#include <set>

namespace knast {
inline namespace v0 {
namespace {

// Fixed key order: the files read in the order a person looks for things.
using Json = nlohmann::ordered_json;

Json port_json(const PortMapping& p) {
  return {{"host_ip", p.host_ip}, {"host_port", p.host_port}, {"container_port", p.container_port},
          {"protocol", p.protocol}};
}

Json config_json(const NetworkConfig& c) {
  return {{"name", c.name},     {"id", c.id},
          {"driver", std::string(to_string(c.driver))},
          {"subnet", c.subnet}, {"gateway", c.gateway},
          {"bridge", c.bridge}, {"parent_interface", c.parent_interface},
          {"nat", c.nat},       {"created_at", c.created_at}};
}

Json endpoint_json(const Endpoint& e) {
  Json ports = Json::array();
  for (const auto& p : e.ports) ports.push_back(port_json(p));
  return {{"container_id", e.container_id},
          {"container_name", e.container_name},
          {"hostname", e.hostname},
          {"network", e.network},
          {"address", e.address},
          {"prefix_length", e.prefix_length},
          {"gateway", e.gateway},
          {"host_interface", e.host_interface},
          {"container_interface", e.container_interface},
          {"ports", ports}};
}

}  // namespace

std::string to_json(const PortMapping& mapping) { return port_json(mapping).dump(2) + "\n"; }
std::string to_json(const NetworkConfig& config) { return config_json(config).dump(2) + "\n"; }
std::string to_json(const Endpoint& endpoint) { return endpoint_json(endpoint).dump(2) + "\n"; }

namespace detail {
namespace {

// Reads the fields of one JSON object, each with the type it must have, and at the end
// refuses any field nobody asked for: knast wrote the file, so anything else means it
// was edited or torn, and guessing would hand out addresses twice.
class StrictObject {
 public:
  StrictObject(const Json& object, std::string where) : object_(object), where_(std::move(where)) {
    if (!object_.is_object()) fail("", "is not a JSON object");
  }
  std::string string(const char* key) { return field(key, &Json::is_string, "a string").get<std::string>(); }
  bool boolean(const char* key) { return field(key, &Json::is_boolean, "true or false").get<bool>(); }
  std::int64_t integer(const char* key) {
    return field(key, &Json::is_number_integer, "an integer").get<std::int64_t>();
  }
  const Json& array(const char* key) { return field(key, &Json::is_array, "an array"); }
  void finish() const {
    for (const auto& item : object_.items())
      if (!seen_.count(item.key())) fail(item.key(), "is not a field knast writes");
  }
  [[noreturn]] void fail(std::string_view key, std::string_view problem) const {
    throw Error(ErrorCode::io, fmt::format("{}{}{} {}", where_, key.empty() ? "" : ": field ",
                                           key.empty() ? "" : quote_untrusted(key), problem));
  }

 private:
  const Json& field(const char* key, bool (Json::*is_type)() const noexcept, std::string_view type) {
    const auto it = object_.find(key);
    if (it == object_.end()) fail(key, "is missing");
    if (!((*it).*is_type)()) fail(key, fmt::format("must be {}", type));
    seen_.insert(key);
    return *it;
  }
  const Json& object_;
  std::string where_;
  std::set<std::string> seen_;
};

// Runs @p check (which throws invalid_argument) and reports its message as a field problem.
template <typename Check>
void check_field(const StrictObject& object, std::string_view key, Check&& check) {
  try {
    check();
  } catch (const Error& e) {
    object.fail(key, fmt::format("is invalid: {}", e.what()));
  }
}

std::uint16_t port_field(StrictObject& object, const char* key) {
  const auto value = object.integer(key);
  if (value < 1 || value > 65535) object.fail(key, "is outside 1-65535");
  return static_cast<std::uint16_t>(value);
}

PortMapping port_from(const Json& in, const std::string& where) {
  StrictObject object(in, where);
  PortMapping p;
  p.host_ip = object.string("host_ip");
  p.host_port = port_field(object, "host_port");
  p.container_port = port_field(object, "container_port");
  p.protocol = object.string("protocol");
  object.finish();
  if (!p.host_ip.empty() && !parse_ipv4(p.host_ip)) object.fail("host_ip", "is not an IPv4 address");
  if (p.protocol != "tcp" && p.protocol != "udp") object.fail("protocol", "is neither tcp nor udp");
  return p;
}

Endpoint endpoint_from(const Json& in, const std::string& where) {
  StrictObject object(in, where);
  Endpoint e;
  e.container_id = object.string("container_id");
  e.container_name = object.string("container_name");
  e.hostname = object.string("hostname");
  e.network = object.string("network");
  e.address = object.string("address");
  const auto prefix = object.integer("prefix_length");
  e.gateway = object.string("gateway");
  e.host_interface = object.string("host_interface");
  e.container_interface = object.string("container_interface");
  const Json& ports = object.array("ports");
  object.finish();
  if (e.container_id.empty()) object.fail("container_id", "is empty");
  if (!parse_ipv4(e.address)) object.fail("address", "is not an IPv4 address");
  if (prefix < 0 || prefix > 32) object.fail("prefix_length", "is outside 0-32");
  e.prefix_length = static_cast<int>(prefix);
  if (!e.gateway.empty() && !parse_ipv4(e.gateway)) object.fail("gateway", "is not an IPv4 address");
  for (std::size_t i = 0; i < ports.size(); ++i)
    e.ports.push_back(port_from(ports[i], fmt::format("{}: ports[{}]", where, i)));
  return e;
}

bool is_lower_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

NetworkMode driver_from(const StrictObject& object, const std::string& text) {
  if (text == "bridge") return NetworkMode::bridge;
  if (text == "shared") return NetworkMode::shared;
  object.fail("driver", fmt::format("is {}, not bridge or shared", quote_untrusted(text)));
}

Json parse_json(std::string_view text, std::string_view what) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    throw Error(ErrorCode::io, fmt::format("{}: not valid JSON ({})", what, e.what()));
  }
}

}  // namespace

void check_network_name(std::string_view name) {
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  };
  const bool good = !name.empty() && name.size() <= 64 && allowed(name.front()) && name.front() != '_' &&
                    name.front() != '.' && name.front() != '-' && std::all_of(name.begin(), name.end(), allowed);
  if (!good)
    throw Error(ErrorCode::invalid_argument, "network name " + quote_untrusted(name) +
                                                 ": use [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 64 characters");
  // network/<name>/ sits beside the lock file network/network.lock.
  if (name == "network.lock")
    throw Error(ErrorCode::invalid_argument, "network name \"network.lock\" is reserved: choose another");
}

std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
  const std::string copy(text);
  in_addr address{};
  if (::inet_pton(AF_INET, copy.c_str(), &address) != 1) return std::nullopt;
  return ntohl(address.s_addr);
}

std::string format_ipv4(std::uint32_t address) {
  return fmt::format("{}.{}.{}.{}", address >> 24, (address >> 16) & 0xff, (address >> 8) & 0xff, address & 0xff);
}

std::uint32_t Ipv4Subnet::mask() const noexcept {
  return prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
}
std::uint32_t Ipv4Subnet::broadcast() const noexcept { return network | ~mask(); }
bool Ipv4Subnet::contains(std::uint32_t address) const noexcept { return (address & mask()) == network; }
bool Ipv4Subnet::overlaps(const Ipv4Subnet& other) const noexcept {
  // Two prefixes overlap exactly when the shorter one contains the other's network.
  return prefix <= other.prefix ? contains(other.network) : other.contains(network);
}
std::string Ipv4Subnet::to_string() const { return fmt::format("{}/{}", format_ipv4(network), prefix); }

Ipv4Subnet parse_subnet(std::string_view text) {
  const auto refuse = [&](std::string_view why) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("subnet {}: {} (use an IPv4 CIDR such as 10.89.0.0/24)", quote_untrusted(text), why));
  };
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) refuse("the prefix length (/N) is missing");
  const auto address = parse_ipv4(text.substr(0, slash));
  if (!address) refuse("not an IPv4 address before the '/' (IPv6 is not supported yet)");
  const std::string_view length = text.substr(slash + 1);
  int prefix = -1;
  const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), prefix);
  if (length.empty() || ec != std::errc{} || end != length.data() + length.size() || prefix < 0 || prefix > 32)
    refuse("the prefix length must be 0-32");
  Ipv4Subnet subnet{*address, prefix};
  subnet.network = *address & subnet.mask();
  if (subnet.network != *address)
    refuse(fmt::format("host bits are set; the network is {}", subnet.to_string()));
  return subnet;
}

std::string default_gateway(const Ipv4Subnet& subnet) { return format_ipv4(subnet.network + 1); }

std::string allocate_address(const Ipv4Subnet& subnet, std::string_view gateway,
                             const std::vector<std::string>& used, std::string_view network_name) {
  std::set<std::uint32_t> taken;
  for (const auto& address : used)
    if (const auto value = parse_ipv4(address)) taken.insert(*value);
  if (const auto value = parse_ipv4(gateway)) taken.insert(*value);
  // The network and broadcast addresses are never handed out; a /31 or /32 has no other.
  if (subnet.prefix < 31)
    for (std::uint32_t a = subnet.network + 1; a < subnet.broadcast(); ++a)
      if (!taken.count(a)) return format_ipv4(a);
  throw Error(ErrorCode::limit_exceeded,
              fmt::format("network {}: no free address left in {} ({} in use): remove containers or use a larger "
                          "subnet",
                          quote_untrusted(network_name), subnet.to_string(), used.size()));
}

std::vector<HostSubnet> host_subnets() {
  ifaddrs* first = nullptr;
  if (::getifaddrs(&first) != 0) throw Error(errno, "list the host's interface addresses (getifaddrs)");
  const std::unique_ptr<ifaddrs, void (*)(ifaddrs*)> list(first, ::freeifaddrs);
  std::vector<HostSubnet> out;
  for (const ifaddrs* a = list.get(); a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_netmask == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    if ((a->ifa_flags & IFF_LOOPBACK) != 0) continue;
    sockaddr_in address{};
    sockaddr_in mask{};
    std::memcpy(&address, a->ifa_addr, sizeof address);
    std::memcpy(&mask, a->ifa_netmask, sizeof mask);
    const std::uint32_t netmask = ntohl(mask.sin_addr.s_addr);
    const int prefix = std::popcount(netmask);
    out.push_back({a->ifa_name, Ipv4Subnet{ntohl(address.sin_addr.s_addr) & netmask, prefix}});
  }
  return out;
}

Ipv4Subnet pick_free_subnet(const std::vector<Ipv4Subnet>& taken) {
  for (std::uint32_t n = 0; n < 256; ++n) {
    const Ipv4Subnet candidate{(10u << 24) | (89u << 16) | (n << 8), 24};
    if (std::none_of(taken.begin(), taken.end(), [&](const Ipv4Subnet& t) { return t.overlaps(candidate); }))
      return candidate;
  }
  throw Error(ErrorCode::limit_exceeded,
              "no free subnet left in 10.89.0.0/16 for a new network: give one with --subnet");
}

NetworkConfig network_config_from_json(std::string_view text, std::string_view what) {
  const Json in = parse_json(text, what);
  StrictObject object(in, std::string(what));
  NetworkConfig c;
  c.name = object.string("name");
  c.id = object.string("id");
  const std::string driver = object.string("driver");
  c.subnet = object.string("subnet");
  c.gateway = object.string("gateway");
  c.bridge = object.string("bridge");
  c.parent_interface = object.string("parent_interface");
  c.nat = object.boolean("nat");
  c.created_at = object.string("created_at");
  object.finish();
  c.driver = driver_from(object, driver);
  check_field(object, "name", [&] { check_network_name(c.name); });
  if (c.id.size() != 64 || !is_lower_hex(c.id)) object.fail("id", "is not 64 lowercase hex digits");
  Ipv4Subnet subnet;
  check_field(object, "subnet", [&] { subnet = parse_subnet(c.subnet); });
  if (!c.gateway.empty()) {
    const auto gateway = parse_ipv4(c.gateway);
    if (!gateway || !subnet.contains(*gateway)) object.fail("gateway", "is not an address of the subnet");
  }
  return c;
}

std::string endpoints_to_json(const std::vector<Endpoint>& endpoints) {
  Json out = Json::array();
  for (const auto& e : endpoints) out.push_back(endpoint_json(e));
  return out.dump(2) + "\n";
}

std::vector<Endpoint> endpoints_from_json(std::string_view text, std::string_view what) {
  const Json in = parse_json(text, what);
  if (!in.is_array()) throw Error(ErrorCode::io, fmt::format("{}: not a JSON array of endpoints", what));
  std::vector<Endpoint> endpoints;
  for (std::size_t i = 0; i < in.size(); ++i)
    endpoints.push_back(endpoint_from(in[i], fmt::format("{}: [{}]", what, i)));
  return endpoints;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
