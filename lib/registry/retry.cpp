#include "registry/retry.hpp"

#include <algorithm>

namespace knast {
inline namespace v0 {
namespace registry_detail {

bool is_retryable_status(long status) noexcept {
  return status == 408 || status == 429 || (status >= 500 && status <= 599 && status != 501 && status != 505);
}

bool is_redirect_status(long status) noexcept {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::chrono::milliseconds retry_delay(const RetryPolicy& policy, unsigned retry,
                                      std::optional<std::chrono::seconds> retry_after) noexcept {
  using std::chrono::milliseconds;
  // Doubling stops once past the cap, so no shift can overflow.
  milliseconds delay = policy.base_delay;
  for (unsigned i = 0; i < retry && delay < policy.max_delay; ++i) delay *= 2;
  if (retry_after) {
    const auto hinted = std::chrono::duration_cast<milliseconds>(std::min(*retry_after, std::chrono::seconds(86'400)));
    delay = std::max(delay, hinted);
  }
  return std::clamp(delay, milliseconds(0), policy.max_delay);
}

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
