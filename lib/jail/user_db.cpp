#include "jail/user_db.hpp"

#include "core/text.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

std::string_view trim(std::string_view s) {
  constexpr std::string_view space = " \t\r\n\v\f";
  const auto first = s.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto at = s.find(separator);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

// An id as docker takes it: decimal digits only, at most max_user_id.
std::optional<std::uint32_t> parse_id(std::string_view text) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value > max_user_id) return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

bool is_numeric(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The lines of a passwd or group file worth reading: trimmed, not blank, not comments.
template <typename Each>
void for_each_record(std::string_view text, Each&& each) {
  for (const auto raw : split(text, '\n')) {
    const auto line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    each(split(line, ':'));
  }
}

// A numeric id given by the caller with no entry: accepted, but only in docker's range.
std::uint32_t numeric_id(std::string_view text, std::string_view what, std::string_view spec) {
  const auto id = parse_id(text);
  if (!id)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("user {}: {} {} is out of range (0 to {})", quote_untrusted(spec), what,
                            quote_untrusted(text), max_user_id));
  return *id;
}

std::string image_name(std::string_view image_ref) {
  return image_ref.empty() ? std::string("the image") : fmt::format("image {}", quote_untrusted(image_ref));
}

}  // namespace

std::vector<PasswdEntry> parse_passwd(std::string_view text) {
  std::vector<PasswdEntry> out;
  for_each_record(text, [&](const std::vector<std::string_view>& f) {
    if (f.size() < 4) return;
    const auto uid = parse_id(f[2]);
    const auto gid = parse_id(f[3]);
    if (!uid || !gid) return;
    out.push_back(PasswdEntry{std::string(f[0]), *uid, *gid, f.size() > 5 ? std::string(f[5]) : std::string()});
  });
  return out;
}

std::vector<GroupEntry> parse_group(std::string_view text) {
  std::vector<GroupEntry> out;
  for_each_record(text, [&](const std::vector<std::string_view>& f) {
    if (f.size() < 3) return;
    const auto gid = parse_id(f[2]);
    if (!gid) return;
    GroupEntry entry{std::string(f[0]), *gid, {}};
    if (f.size() > 3)
      for (const auto member : split(f[3], ','))
        if (!trim(member).empty()) entry.members.emplace_back(trim(member));
    out.push_back(std::move(entry));
  });
  return out;
}

ResolvedUser resolve_user(std::string_view spec, const std::optional<std::string>& passwd,
                          const std::optional<std::string>& group, std::string_view image_ref) {
  const auto parts = split(spec, ':');
  if (parts.size() > 2)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("user {}: expected name, uid, name:group or uid:gid", quote_untrusted(spec)));
  const std::string_view user_arg = parts[0];
  const std::string_view group_arg = parts.size() > 1 ? parts[1] : std::string_view{};
  if (parts.size() > 1 && group_arg.empty())
    throw Error(ErrorCode::invalid_argument,
                fmt::format("user {}: the group after ':' is empty", quote_untrusted(spec)));

  ResolvedUser user;
  // The user: an empty spec means root (uid 0) as found in passwd; a number is always a
  // uid, never a name; the first matching line wins.
  const auto users = passwd ? parse_passwd(*passwd) : std::vector<PasswdEntry>{};
  const auto match = std::find_if(users.begin(), users.end(), [&](const PasswdEntry& e) {
    if (user_arg.empty()) return e.uid == 0;
    if (is_numeric(user_arg)) return parse_id(user_arg) == e.uid;
    return e.name == user_arg;
  });
  if (match != users.end()) {
    user.uid = match->uid;
    user.gid = match->gid;
    user.home = match->home.empty() ? "/" : match->home;
    user.name = match->name;
  } else if (!user_arg.empty()) {
    if (!is_numeric(user_arg))
      throw Error(ErrorCode::not_found,
                  fmt::format("user {}: no user named {} in /etc/passwd of {}: use a uid or a user the image defines",
                              quote_untrusted(spec), quote_untrusted(user_arg), image_name(image_ref)));
    user.uid = numeric_id(user_arg, "uid", spec);
  }

  // The group: explicit (name or number) replaces the primary gid and brings no
  // supplementary groups; implicit, the groups listing the matched user are added.
  std::vector<std::uint32_t> supplementary;
  if (!group_arg.empty() || user.name) {
    const auto groups = group ? parse_group(*group) : std::vector<GroupEntry>{};
    if (!group_arg.empty()) {
      const auto found = std::find_if(groups.begin(), groups.end(), [&](const GroupEntry& g) {
        return is_numeric(group_arg) ? parse_id(group_arg) == g.gid : g.name == group_arg;
      });
      if (found != groups.end()) {
        user.gid = found->gid;
      } else if (!is_numeric(group_arg)) {
        throw Error(
            ErrorCode::not_found,
            fmt::format("user {}: no group named {} in /etc/group of {}: use a gid or a group the image defines",
                        quote_untrusted(spec), quote_untrusted(group_arg), image_name(image_ref)));
      } else {
        user.gid = numeric_id(group_arg, "gid", spec);
      }
    } else {
      for (const auto& g : groups)
        if (std::find(g.members.begin(), g.members.end(), *user.name) != g.members.end())
          supplementary.push_back(g.gid);
    }
  }
  user.additional_gids.push_back(user.gid);
  user.additional_gids.insert(user.additional_gids.end(), supplementary.begin(), supplementary.end());
  return user;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
