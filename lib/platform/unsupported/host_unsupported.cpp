#include "platform/host.hpp"

namespace knast::platform {

// Other systems can still parse, pull and store images; running them needs an executor.
std::string_view default_state_root() noexcept { return "/var/lib/knast"; }
bool has_executors() noexcept { return false; }

}  // namespace knast::platform
