#include "rootfs/apply_names.hpp"

#include <limits>
#include <type_traits>

namespace knast {
inline namespace v0 {
namespace detail {

WhiteoutName parse_whiteout(std::string_view base) noexcept {
  if (!base.starts_with(whiteout_prefix)) return {};
  if (base == opaque_marker) return {WhiteoutName::Kind::opaque, {}};
  if (base.starts_with(aufs_meta_prefix)) return {WhiteoutName::Kind::aufs_meta, {}};
  const auto target = base.substr(whiteout_prefix.size());
  if (target.empty() || target == "." || target == "..") return {WhiteoutName::Kind::invalid, {}};
  return {WhiteoutName::Kind::remove, target};
}

bool has_whiteout_parent(std::string_view clean_path) noexcept {
  for (auto slash = clean_path.find('/'); slash != std::string_view::npos; slash = clean_path.find('/')) {
    if (clean_path.substr(0, slash).starts_with(whiteout_prefix)) return true;
    clean_path.remove_prefix(slash + 1);
  }
  return false;
}

std::optional<std::uint32_t> owner_id(std::int64_t id) noexcept {
  static_assert(std::is_unsigned_v<uid_t> && sizeof(uid_t) == sizeof(std::uint32_t));
  static_assert(std::is_unsigned_v<gid_t> && sizeof(gid_t) == sizeof(std::uint32_t));
  // The largest value is (uid_t)-1: chown(2) takes it as "no change", so it is no owner.
  constexpr std::int64_t largest = std::int64_t{std::numeric_limits<std::uint32_t>::max()} - 1;
  if (id < 0 || id > largest) return std::nullopt;
  return static_cast<std::uint32_t>(id);
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
