#include "platform/host.hpp"

namespace knast::platform {

std::string_view default_state_root() noexcept { return "/var/lib/knast"; }
bool has_executors() noexcept { return true; }

}  // namespace knast::platform
