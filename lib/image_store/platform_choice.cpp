#include "image_store/platform_choice.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

std::string list_platforms(const std::vector<Platform>& available) {
  std::vector<std::string> names;
  for (const auto& platform : available)
    if (!is_attestation(platform)) names.push_back(platform.string());
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

bool is_attestation(const Platform& platform) noexcept {
  return platform.os == "unknown" && platform.architecture == "unknown";
}

std::size_t choose_platform(const std::vector<Platform>& available, const Platform& wanted, std::string_view what) {
  const PlatformMatcher matcher(wanted);
  if (const auto best = matcher.best(available)) return *best;
  throw Error(ErrorCode::not_found, fmt::format("{} has no image for platform {}; available: {}", what,
                                                matcher.wanted().string(), list_platforms(available)));
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
