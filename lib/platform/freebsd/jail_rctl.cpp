// rctl rules of a jail (FREEBSD.md §6): rctl_add_rule(2) with full rules
// "jail:<name>:resource:action=amount" (amounts in digits, as the plan writes them) and
// rctl_remove_rule(2) with the filter "jail:<name>:", which removes every rule of that
// jail name, so a later jail of the same name starts unlimited.
#include "platform/freebsd/jail_freebsd.hpp"

#include <knast/error.hpp>

#include <sys/types.h>
#include <sys/rctl.h>
#include <sys/sysctl.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace knast::platform::freebsd {

void check_racct() {
  int enabled = 0;  // a bool in current kernels, a u_int in older ones: read into a zeroed int
  size_t size = sizeof enabled;
  if (::sysctlbyname("kern.racct.enable", &enabled, &size, nullptr, 0) != 0) {
    if (errno == ENOENT)
      throw Error(ErrorCode::unsupported,
                  "memory, pids and cpu limits need RACCT, which this kernel was built without (options RACCT, RCTL)");
    throw Error(errno, "sysctl kern.racct.enable");
  }
  if (enabled == 0)
    throw Error(ErrorCode::unsupported,
                "memory, pids and cpu limits need resource accounting: add kern.racct.enable=1 to /boot/loader.conf "
                "and reboot (it cannot be changed at run time)");
}

void RctlRules::add(const std::string& rule) {
  if (::rctl_add_rule(rule.c_str(), rule.size() + 1, nullptr, 0) != 0) {
    const int err = errno;
    if (err == ENOSYS)
      throw Error(ErrorCode::unsupported, "rctl " + rule + ": resource accounting is off (kern.racct.enable=0)");
    throw Error(err, fmt::format("rctl -a {}: {}", rule, std::strerror(err)));
  }
  added_ = true;
}

std::string RctlRules::remove_all() noexcept {
  if (!added_) return {};
  added_ = false;
  return remove_rctl_rules(jail_name_);
}

std::string remove_rctl_rules(const std::string& jail_name) noexcept {
  try {
    const std::string filter = "jail:" + jail_name + ":";
    if (::rctl_remove_rule(filter.c_str(), filter.size() + 1, nullptr, 0) == 0) return {};
    if (errno == ESRCH || errno == ENOSYS) return {};  // no such rule; accounting off: none can exist
    return fmt::format("rctl -r {}: {}", filter, std::strerror(errno));
  } catch (...) {
    return "rctl -r jail:" + jail_name + ": out of memory";
  }
}

}  // namespace knast::platform::freebsd
