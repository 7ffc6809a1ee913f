// The reference graph of a store: from the entries of index.json through indexes (nested
// ones too) and manifests to configs and layers, and to a `subject`. Pure: blob access is
// passed in, so garbage collection's and verify()'s walk is unit-tested in memory.
#pragma once

#include <knast/error.hpp>
#include <knast/oci.hpp>

#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// How the walk reaches blobs.
struct BlobAccess {
  /// Whether the blob is present.
  std::function<bool(const Digest&)> exists;
  /// The verified bytes of a present manifest or index. @throws Error (corrupt, too large).
  std::function<std::string(const Descriptor&)> read;
};

/// What the walk found.
struct Reachability {
  /// Every blob reached, present or not: what garbage collection keeps.
  std::set<Digest> reachable;
  /// Required blobs that are absent, in the order met. Not required: a `subject` (the
  /// spec lets referrers exist before their subject), layers with `urls` (foreign
  /// layers are fetched from elsewhere and often not stored) and the entries of an index
  /// (a pull of one platform stores only that platform's manifest).
  std::vector<Descriptor> missing;
  /// Present manifests and indexes that could not be read or parsed, with the reason.
  /// What they reference is unknown, so garbage collection must not run.
  std::vector<std::pair<Descriptor, Error>> unreadable;
  /// Manifests and indexes read, in the order met.
  std::vector<Descriptor> documents;
};

/// Walks everything reachable from @p roots.
Reachability walk_references(const std::vector<Descriptor>& roots, const BlobAccess& access);

}  // namespace detail
}  // namespace v0
}  // namespace knast
