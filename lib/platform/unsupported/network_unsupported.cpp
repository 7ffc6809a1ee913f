// Other systems: no network executor; every entry point says so.
#include "platform/network.hpp"

#include <knast/error.hpp>

namespace knast::platform {
namespace {

[[noreturn]] void refuse(const std::string& what) {
  throw Error(ErrorCode::unsupported, what + ": knast has no network executor for this OS");
}

}  // namespace

void ensure_bridge(const NetworkConfig& network) { refuse("network " + network.name); }
void remove_bridge(const NetworkConfig&) {}
void connect_endpoint(const NetworkConfig& network, const Endpoint&, const NetworkTarget&) {
  refuse("network " + network.name);
}
void disconnect_endpoint(const NetworkConfig&, const Endpoint&, bool) {}
void apply_firewall(const std::string& anchor, const std::string& rules) {
  if (!rules.empty()) refuse("firewall anchor " + anchor);
}
std::string default_route_interface() { return {}; }

}  // namespace knast::platform
