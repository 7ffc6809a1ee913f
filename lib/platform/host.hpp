// Facts about the host that differ per OS, answered by lib/platform/<os>/host_<os>.cpp.
#pragma once

#include <string_view>

namespace knast::platform {

/// Where knast keeps its state when the caller names no root (DESIGN.md, "On-disk layout").
std::string_view default_state_root() noexcept;

/// Whether this build has executors for its OS (false for the unsupported fallback).
bool has_executors() noexcept;

}  // namespace knast::platform
