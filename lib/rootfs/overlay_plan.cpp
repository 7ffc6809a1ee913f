// The overlay driver's pure plan (see overlay_driver.hpp).
#include "rootfs/overlay_driver.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

namespace knast {
inline namespace v0 {
namespace detail {

std::string escape_overlay_path(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (const char c : path) {
    if (c == '\\' || c == ',' || c == ':') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

platform::MountStep overlay_mount_plan(const std::filesystem::path& lower, const std::filesystem::path& upper,
                                       const std::filesystem::path& work, const std::filesystem::path& target) {
  platform::MountStep step;
  step.fstype = "overlay";
  step.source = "overlay";
  step.target = target;
  step.options = fmt::format("lowerdir={},upperdir={},workdir={},redirect_dir=off,metacopy=off",
                             escape_overlay_path(lower.string()), escape_overlay_path(upper.string()),
                             escape_overlay_path(work.string()));
  if (step.options.size() > max_mount_options_bytes)
    throw Error(ErrorCode::limit_exceeded,
                fmt::format("overlay mount on {}: the options are {} bytes, more than the {} mount(2) takes: "
                            "use a shorter state root",
                            target.string(), step.options.size(), max_mount_options_bytes));
  return step;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
