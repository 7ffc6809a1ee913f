// Names shared by the FreeBSD jail plan (jail_plan.cpp), its renderings
// (jail_plan_render.cpp) and the FreeBSD executor (lib/platform/freebsd/).
#pragma once

#include <cstdint>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace detail {

/// Values of a "jailsys" jail parameter (host, vnet, ip4, ip6, sysvmsg, sysvsem,
/// sysvshm, linux): integers in jail_set(2), JAIL_SYS_DISABLE/NEW/INHERIT in <sys/jail.h>.
inline constexpr std::int64_t jail_sys_disable = 0;
inline constexpr std::int64_t jail_sys_new = 1;
inline constexpr std::int64_t jail_sys_inherit = 2;

/// Whether the jail parameter @p name is a jailsys one, written as "disable", "new" or
/// "inherit" in jail.conf(5).
bool is_jailsys_param(std::string_view name) noexcept;

/// "disable", "new" or "inherit" for a jailsys value; "" for another number.
std::string_view jailsys_word(std::int64_t value) noexcept;

/// The jail parameters whose plan value is a comma-separated address list (ip4.addr,
/// ip6.addr): the executor packs them into arrays of in_addr / in6_addr for jail_set(2).
bool is_address_param(std::string_view name) noexcept;

/// The devfs ruleset jail(8) mounts a jail's /dev with (devfsrules_jail in
/// /etc/defaults/devfs.rules): used for native FreeBSD images.
inline constexpr std::uint32_t devfsrules_jail = 4;

}  // namespace detail
}  // namespace v0
}  // namespace knast
