#include <knast/layout.hpp>

#include "platform/host.hpp"

namespace knast {
inline namespace v0 {

StateLayout StateLayout::system_default() { return StateLayout(std::filesystem::path(platform::default_state_root())); }

}  // namespace v0
}  // namespace knast
