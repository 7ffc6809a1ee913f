/// @file layout.hpp
/// @brief Where knast keeps its state: the on-disk layout of DESIGN.md.
#pragma once

#include <knast/export.hpp>

#include <filesystem>

namespace knast {
inline namespace v0 {

/// The folders under a knast state root.
///
/// ```
/// store/          OCI image layout (other tools can read and write it)
/// rootfs/<chain>/ unpacked layer chains
/// containers/<id>/ config.json, state.json, rootfs, logs
/// network/        address allocations
/// ```
class KNAST_API StateLayout {
 public:
  /// The layout under @p root (which need not exist yet).
  explicit StateLayout(std::filesystem::path root) : root_(std::move(root)) {}
  /// The layout under the OS default root: /var/db/knast on FreeBSD, /var/lib/knast on Linux.
  static StateLayout system_default();

  /// The state root.
  const std::filesystem::path& root() const noexcept { return root_; }
  /// The image store (an OCI image layout).
  std::filesystem::path store() const { return root_ / "store"; }
  /// Unpacked layer chains.
  std::filesystem::path rootfs() const { return root_ / "rootfs"; }
  /// Per-container state.
  std::filesystem::path containers() const { return root_ / "containers"; }
  /// Network allocations.
  std::filesystem::path network() const { return root_ / "network"; }

 private:
  std::filesystem::path root_;
};

}  // namespace v0
}  // namespace knast
