// Private: the zfs driver's plans — the zfs(8) commands it runs, as data. Pure and
// unit-tested with golden command lines; zfs_driver.cpp runs them (/sbin/zfs, argv only).
//
// Datasets under the configured one (DATASET):
//   DATASET/tmp/<name>          a chain being unpacked, mounted at rootfs/tmp/<name>/tree
//   DATASET/chains/<hex>        a published chain (read-only), mounted at
//                               rootfs/sha256/<hex>/tree, with the snapshot @base
//   DATASET/containers/<id>     a container root: a clone of DATASET/chains/<hex>@base
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// One zfs(8) command: its arguments after "zfs".
struct ZfsCommand {
  std::vector<std::string> args;
  /// "zfs create -p ...", for messages and golden tests (arguments are not quoted).
  std::string string() const;
  /// Commands compare by arguments.
  friend bool operator==(const ZfsCommand&, const ZfsCommand&) = default;
};

/// Commands run in order.
using ZfsPlan = std::vector<ZfsCommand>;

/// Checks @p dataset is a zfs dataset name knast can use as its parent ("zroot/knast"):
/// components of letters, digits and `_ - . :` separated by single slashes, starting
/// with a letter or digit (so it can never read as an option), no snapshot or bookmark.
/// @throws Error invalid_argument saying what is wrong.
void check_zfs_dataset(std::string_view dataset);

/// The dataset of a chain being unpacked, of a published chain, of a container.
std::string zfs_build_dataset(std::string_view dataset, std::string_view build_name);
std::string zfs_chain_dataset(std::string_view dataset, std::string_view chain_hex);
std::string zfs_container_dataset(std::string_view dataset, std::string_view id);

/// A new, empty dataset for a chain being unpacked, mounted at @p mountpoint.
ZfsPlan zfs_plan_build_chain(std::string_view dataset, std::string_view build_name, const std::filesystem::path& mountpoint);
/// Publishes a built chain: snapshot @base, rename it to its chain ID (the atomic step: it
/// fails when another process published the same chain first), remount it at
/// @p mountpoint, and make it read-only.
ZfsPlan zfs_plan_publish_chain(std::string_view dataset, std::string_view build_name, std::string_view chain_hex,
                               const std::filesystem::path& mountpoint);
/// Destroys a chain being unpacked, with its snapshots.
ZfsPlan zfs_plan_discard_build(std::string_view dataset, std::string_view build_name);
/// Destroys a published chain and its snapshot (no clone of it may exist).
ZfsPlan zfs_plan_destroy_chain(std::string_view dataset, std::string_view chain_hex);
/// A container root: a clone of the chain's @base snapshot, mounted at @p mountpoint.
ZfsPlan zfs_plan_create_container(std::string_view dataset, std::string_view chain_hex, std::string_view id,
                                  const std::filesystem::path& mountpoint);
/// Destroys a container's clone, with any snapshots taken of it.
ZfsPlan zfs_plan_destroy_container(std::string_view dataset, std::string_view id);

}  // namespace detail
}  // namespace v0
}  // namespace knast
