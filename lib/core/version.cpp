#include <knast/version.hpp>

namespace knast {
inline namespace v0 {
const char* version() noexcept { return KNAST_VERSION_STRING; }
}  // namespace v0
}  // namespace knast
