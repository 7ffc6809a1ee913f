/// @file plan.hpp
/// @brief PlanStep: one step of a plan (DESIGN.md, "Plans"), shared by the jail plan and
///        the network plan.
#pragma once

#include <knast/export.hpp>

#include <string>

namespace knast {
inline namespace v0 {

/// One step of a plan, in the order the executor takes it, with the call it makes.
struct KNAST_API PlanStep {
  std::string action;  ///< "kldload", "mount", "jail_set", "create-veth", "load-firewall", ...
  std::string detail;  ///< What exactly, as an administrator would type or read it.
  /// Steps compare by every field.
  friend bool operator==(const PlanStep&, const PlanStep&) = default;
};

}  // namespace v0
}  // namespace knast
