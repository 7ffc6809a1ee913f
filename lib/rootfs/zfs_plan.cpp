#include "rootfs/zfs_plan.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

bool dataset_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || c == ':';
}

std::string mountpoint_option(const std::filesystem::path& mountpoint) { return "mountpoint=" + mountpoint.string(); }

}  // namespace

std::string ZfsCommand::string() const {
  std::string out = "zfs";
  for (const auto& arg : args) out += " " + arg;
  return out;
}

void check_zfs_dataset(std::string_view dataset) {
  const auto fail = [&](std::string_view why) {
    throw Error(ErrorCode::invalid_argument, fmt::format("zfs dataset \"{}\": {}", dataset, why));
  };
  if (dataset.empty()) fail("the zfs driver needs a dataset to work under (e.g. zroot/knast)");
  if (dataset.size() > 200) fail("longer than 200 characters, which leaves no room for chain IDs");
  bool component_start = true;
  for (const char c : dataset) {
    if (c == '/') {
      if (component_start) fail("empty component (leading, trailing or doubled '/')");
      component_start = true;
      continue;
    }
    if (!dataset_char(c)) fail("only letters, digits, '_', '-', '.', ':' and '/' are allowed");
    if (component_start && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
      fail("each component must start with a letter or digit");
    component_start = false;
  }
  if (component_start) fail("empty component (leading, trailing or doubled '/')");
}

std::string zfs_build_dataset(std::string_view dataset, std::string_view build_name) {
  return fmt::format("{}/tmp/{}", dataset, build_name);
}
std::string zfs_chain_dataset(std::string_view dataset, std::string_view chain_hex) {
  return fmt::format("{}/chains/{}", dataset, chain_hex);
}
std::string zfs_container_dataset(std::string_view dataset, std::string_view id) {
  return fmt::format("{}/containers/{}", dataset, id);
}

ZfsPlan zfs_plan_build_chain(std::string_view dataset, std::string_view build_name, const std::filesystem::path& mountpoint) {
  return {{{"create", "-p", "-o", mountpoint_option(mountpoint), zfs_build_dataset(dataset, build_name)}}};
}

ZfsPlan zfs_plan_publish_chain(std::string_view dataset, std::string_view build_name, std::string_view chain_hex,
                               const std::filesystem::path& mountpoint) {
  const std::string build = zfs_build_dataset(dataset, build_name);
  const std::string chain = zfs_chain_dataset(dataset, chain_hex);
  return {
      {{"snapshot", build + "@base"}},
      {{"rename", "-p", build, chain}},
      {{"set", mountpoint_option(mountpoint), chain}},
      {{"set", "readonly=on", chain}},
  };
}

ZfsPlan zfs_plan_discard_build(std::string_view dataset, std::string_view build_name) {
  return {{{"destroy", "-r", zfs_build_dataset(dataset, build_name)}}};
}

ZfsPlan zfs_plan_destroy_chain(std::string_view dataset, std::string_view chain_hex) {
  return {{{"destroy", "-r", zfs_chain_dataset(dataset, chain_hex)}}};
}

ZfsPlan zfs_plan_create_container(std::string_view dataset, std::string_view chain_hex, std::string_view id,
                                  const std::filesystem::path& mountpoint) {
  return {{{"clone", "-p", "-o", mountpoint_option(mountpoint), zfs_chain_dataset(dataset, chain_hex) + "@base",
            zfs_container_dataset(dataset, id)}}};
}

ZfsPlan zfs_plan_destroy_container(std::string_view dataset, std::string_view id) {
  return {{{"destroy", "-r", zfs_container_dataset(dataset, id)}}};
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
