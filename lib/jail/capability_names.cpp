#include "jail/capability_names.hpp"

#include "core/text.hpp"

#include <knast/error.hpp>

#include <array>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

// Index = capability number (linux/capability.h).
constexpr std::array<std::string_view, last_known_capability + 1> capability_names = {
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",          "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",       "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",           "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE"};

}  // namespace

std::optional<int> capability_number(std::string_view name) noexcept {
  for (std::size_t i = 0; i < capability_names.size(); ++i)
    if (capability_names[i] == name) return static_cast<int>(i);
  return std::nullopt;
}

std::string_view capability_name(int number) noexcept {
  if (number < 0 || number > last_known_capability) return {};
  return capability_names[static_cast<std::size_t>(number)];
}

std::uint64_t capability_mask(const std::vector<std::string>& names, std::string_view set_name) {
  std::uint64_t mask = 0;
  for (const auto& name : names) {
    const auto number = capability_number(name);
    if (!number)
      throw Error(ErrorCode::invalid_argument, "process.capabilities." + std::string(set_name) +
                                                   ": unknown capability " + quote_untrusted(name) +
                                                   " (expected a name such as CAP_CHOWN)");
    mask |= std::uint64_t{1} << *number;
  }
  return mask;
}

CapabilityMasks capability_masks(const Capabilities& caps) {
  return CapabilityMasks{capability_mask(caps.bounding, "bounding"), capability_mask(caps.effective, "effective"),
                         capability_mask(caps.permitted, "permitted"),
                         capability_mask(caps.inheritable, "inheritable"), capability_mask(caps.ambient, "ambient")};
}

CapabilityMasks docker_default_capability_masks() {
  const std::vector<std::string> names(docker_default_capabilities.begin(), docker_default_capabilities.end());
  const auto mask = capability_mask(names, "default");
  return CapabilityMasks{mask, mask, mask, 0, 0};
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
