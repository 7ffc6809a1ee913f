// The image's own user database (/etc/passwd, /etc/group) and docker's rules for turning
// a `USER` / `-u` value into uid, gid and supplementary groups (moby/sys/user
// GetExecUser, with the primary gid first in the additional gids as moby does since the
// supplementary-group fix). Pure: the files are passed in as text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// One line of /etc/passwd: name:password:uid:gid:gecos:home:shell.
struct PasswdEntry {
  std::string name;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::string home;
};

/// One line of /etc/group: name:password:gid:member,member,...
struct GroupEntry {
  std::string name;
  std::uint32_t gid = 0;
  std::vector<std::string> members;
};

/// The entries of a passwd file, in order. Blank lines, lines starting with '#' and
/// lines whose ids are not numbers in range are skipped (moby would read a bad id as 0;
/// knast does not turn a malformed line into root).
std::vector<PasswdEntry> parse_passwd(std::string_view text);
/// The entries of a group file, in order, with the same skipping rules.
std::vector<GroupEntry> parse_group(std::string_view text);

/// The largest uid or gid docker accepts (2^31 - 1).
inline constexpr std::uint32_t max_user_id = 0x7fffffff;

/// The outcome of resolving a user spec.
struct ResolvedUser {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::vector<std::uint32_t> additional_gids;  ///< The primary gid first, then the supplementary ones.
  std::string home = "/";                      ///< The passwd entry's home, "/" without one (as runc).
  std::optional<std::string> name;             ///< The passwd name, if an entry matched.
};

/// Resolves @p spec (`name`, `uid`, `name:group`, `uid:gid`, `uid:group`, `name:gid`;
/// empty = root) with docker's rules against @p passwd and @p group (nothing = the file
/// is absent). A numeric uid or gid without an entry is allowed; with an entry, the
/// entry's primary gid and (without an explicit group) the groups that list the user
/// as a member apply. @p image_ref names the image in messages.
/// @throws Error not_found for an unknown user or group name; invalid_argument for a
///         malformed spec or an id out of range.
ResolvedUser resolve_user(std::string_view spec, const std::optional<std::string>& passwd,
                          const std::optional<std::string>& group, std::string_view image_ref);

}  // namespace detail
}  // namespace v0
}  // namespace knast
