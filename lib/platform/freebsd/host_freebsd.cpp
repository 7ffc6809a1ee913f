#include "platform/host.hpp"

namespace knast::platform {

// hier(7) puts daemons' persistent state under /var/db.
std::string_view default_state_root() noexcept { return "/var/db/knast"; }
bool has_executors() noexcept { return true; }

}  // namespace knast::platform
