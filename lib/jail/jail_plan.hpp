// Names shared by the FreeBSD jail plan (jail_plan.cpp), its renderings
// (jail_plan_render.cpp) and the FreeBSD executor (lib/platform/freebsd/).
#pragma once

#include <knast/linuxulator.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

/// One jail parameter as the bytes jail_set(2) takes (FREEBSD.md §1): the name with its
/// NUL; the value a NUL-terminated string, an int of sizeof(int) bytes, a packed array of
/// in_addr / in6_addr in network byte order, or nothing ({NULL, 0}) for a boolean, whose
/// false form is the name with "no" after the last dot (allow.noraw_sockets).
struct EncodedJailParam {
  std::string name;                        ///< "persist", "allow.noraw_sockets", ...
  std::optional<std::vector<char>> value;  ///< Nothing for a boolean.
};

/// The parameters of @p params encoded for jail_set(2), in order. Portable, so the
/// encoding is tested everywhere; the FreeBSD executor turns it into iovecs.
/// @throws Error invalid_argument for an integer beyond int or a malformed address.
std::vector<EncodedJailParam> encode_jail_params(const std::vector<std::pair<std::string, JailParamValue>>& params);

/// The devfs ruleset jail(8) mounts a jail's /dev with (devfsrules_jail in
/// /etc/defaults/devfs.rules): used for native FreeBSD images.
inline constexpr std::uint32_t devfsrules_jail = 4;

}  // namespace detail
}  // namespace v0
}  // namespace knast
