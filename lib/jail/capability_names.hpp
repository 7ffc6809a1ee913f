// The Linux capability names of the runtime spec ("CAP_CHOWN", ...) and their numbers,
// as plain portable code: the Linux executor turns process.capabilities into the bit
// masks prctl(2) and capset(2) take, and the table is unit-tested on every OS.
#pragma once

#include <knast/run_spec.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// The highest capability number the table knows (CAP_CHECKPOINT_RESTORE, Linux 5.9).
inline constexpr int last_known_capability = 40;

/// The number of the capability @p name ("CAP_SYS_ADMIN" → 21), exact upper case as the
/// runtime spec writes it; nothing for an unknown name.
std::optional<int> capability_number(std::string_view name) noexcept;

/// The name of capability @p number ("CAP_SYS_ADMIN"), or "" for a number the table lacks.
std::string_view capability_name(int number) noexcept;

/// The capability sets of a process as bit masks (bit N = capability N).
struct CapabilityMasks {
  std::uint64_t bounding = 0;     ///< Bits to keep in the bounding set.
  std::uint64_t effective = 0;    ///< The effective set.
  std::uint64_t permitted = 0;    ///< The permitted set.
  std::uint64_t inheritable = 0;  ///< The inheritable set.
  std::uint64_t ambient = 0;      ///< The ambient set.
  /// Masks compare field by field.
  friend bool operator==(const CapabilityMasks&, const CapabilityMasks&) = default;
};

/// The masks of @p names, one set. @throws Error invalid_argument naming @p set_name and
/// the unknown capability ("process.capabilities.bounding: unknown capability \"CAP_X\"").
std::uint64_t capability_mask(const std::vector<std::string>& names, std::string_view set_name);

/// The masks of @p caps (see capability_mask()); every set is checked.
CapabilityMasks capability_masks(const Capabilities& caps);

/// The masks of docker's default capabilities (knast::docker_default_capabilities) in
/// the bounding, effective and permitted sets: what a process without
/// `process.capabilities` gets.
CapabilityMasks docker_default_capability_masks();

}  // namespace detail
}  // namespace v0
}  // namespace knast
