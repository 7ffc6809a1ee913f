// Private: the overlay driver's plan — pure, unit-tested with golden strings — and the
// driver itself (overlay_driver.cpp), which carries the plan out with
// platform::mount() (Linux only; the driver cannot be opened elsewhere).
#pragma once

#include "platform/mount.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace detail {

/// @p path escaped for an overlay option: `\`, `,` and `:` get a backslash before them
/// (the kernel splits options at commas and lowerdir at colons, honouring backslashes).
std::string escape_overlay_path(std::string_view path);

/// Longest options string mount(2) passes (one page, with its terminating NUL).
inline constexpr std::size_t max_mount_options_bytes = 4095;

/// The mount of a container root: @p lower (a chain's tree) read-only below, @p upper and
/// @p work (same file system, empty) for the container's writes, at @p target.
/// redirect_dir and metacopy are off, so every change is whole in @p upper (what the diff
/// reads). @throws Error limit_exceeded when the options do not fit in a page.
platform::MountStep overlay_mount_plan(const std::filesystem::path& lower, const std::filesystem::path& upper,
                                       const std::filesystem::path& work, const std::filesystem::path& target);

}  // namespace detail
}  // namespace v0
}  // namespace knast
