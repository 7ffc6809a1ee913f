#include "image_store/reachability.hpp"

#include <algorithm>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

struct Edge {
  Descriptor target;
  bool required;
};

class Walk {
 public:
  explicit Walk(const BlobAccess& access) : access_(access) {}

  Reachability run(const std::vector<Descriptor>& roots) {
    for (auto it = roots.rbegin(); it != roots.rend(); ++it) pending_.push_back({*it, true});
    while (!pending_.empty()) {
      Edge edge = std::move(pending_.back());
      pending_.pop_back();
      visit(edge);
    }
    return std::move(result_);
  }

 private:
  void visit(const Edge& edge) {
    const Digest& digest = edge.target.digest;
    if (!result_.reachable.insert(digest).second) {
      // Met before as optional and absent; now a required reference to it.
      if (edge.required && absent_.count(digest) && reported_.insert(digest).second) result_.missing.push_back(edge.target);
      return;
    }
    if (!access_.exists(digest)) {
      absent_.insert(digest);
      if (edge.required && reported_.insert(digest).second) result_.missing.push_back(edge.target);
      return;
    }
    const bool manifest = is_manifest_media_type(edge.target.media_type);
    if (!manifest && !is_index_media_type(edge.target.media_type)) return;  // a config or layer: a leaf
    try {
      const std::string bytes = access_.read(edge.target);
      if (manifest)
        push_children(Manifest::parse(bytes));
      else
        push_children(Index::parse(bytes));
      result_.documents.push_back(edge.target);
    } catch (const Error& e) {
      result_.unreadable.emplace_back(edge.target, e);
    }
  }

  // Pushed in reverse so that they are visited in document order.
  void push_children(const Manifest& m) {
    if (m.subject) pending_.push_back({*m.subject, false});
    for (auto it = m.layers.rbegin(); it != m.layers.rend(); ++it) pending_.push_back({*it, it->urls.empty()});
    pending_.push_back({m.config, true});
  }

  // An index may be partial: a pull of one platform stores the index and that platform's
  // manifest only (as containerd does), so its entries are optional; what a present
  // manifest references is still required.
  void push_children(const Index& index) {
    if (index.subject) pending_.push_back({*index.subject, false});
    for (auto it = index.manifests.rbegin(); it != index.manifests.rend(); ++it) pending_.push_back({*it, false});
  }

  const BlobAccess& access_;
  std::vector<Edge> pending_;  // explicit stack: a hostile chain of nested indexes cannot overflow ours
  std::set<Digest> absent_;
  std::set<Digest> reported_;
  Reachability result_;
};

}  // namespace

Reachability walk_references(const std::vector<Descriptor>& roots, const BlobAccess& access) {
  return Walk(access).run(roots);
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
