// Choosing one manifest of a multi-platform index. Pure, so the rules and the error
// message (which names what is available) are unit-tested.
#pragma once

#include <knast/platform.hpp>

#include <cstddef>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// Whether @p platform is BuildKit's unknown/unknown of attestation manifests: listed in
/// indexes, but not an image anyone can pick.
bool is_attestation(const Platform& platform) noexcept;

/// The index of the best of @p available for @p wanted (PlatformMatcher's rules).
/// @throws Error not_found naming @p what, the wanted platform and every available one.
std::size_t choose_platform(const std::vector<Platform>& available, const Platform& wanted, std::string_view what);

}  // namespace detail
}  // namespace v0
}  // namespace knast
