/// @file retry.hpp
/// @brief Private: when to retry a registry request and how long to wait. Pure.
#pragma once

#include <chrono>
#include <optional>

namespace knast {
inline namespace v0 {
namespace registry_detail {

/// Bounds of the retries of one request.
struct RetryPolicy {
  unsigned retries = 3;                               ///< Retries after the first attempt.
  std::chrono::milliseconds base_delay{500};          ///< Wait before the first retry.
  std::chrono::milliseconds max_delay{30'000};        ///< Cap on any wait.
};

/// Whether an HTTP status says "try again later": 408, 429, and 5xx except 501 (not
/// implemented) and 505 (version not supported), which do not get better.
bool is_retryable_status(long status) noexcept;

/// Whether a status is a redirect knast follows (301, 302, 303, 307, 308).
bool is_redirect_status(long status) noexcept;

/// The wait before retry number @p retry (0 for the first): base_delay doubled @p retry
/// times, or the server's @p retry_after when longer, never more than max_delay.
std::chrono::milliseconds retry_delay(const RetryPolicy& policy, unsigned retry,
                                      std::optional<std::chrono::seconds> retry_after = std::nullopt) noexcept;

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
