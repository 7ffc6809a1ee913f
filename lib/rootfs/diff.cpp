#include "rootfs/diff.hpp"

#include "core/unique_fd.hpp"
#include "platform/xattr.hpp"
#include "rootfs/diff_writer.hpp"
#include "rootfs/tree_walk.hpp"

#include <knast/error.hpp>

#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view whiteout_prefix = ".wh.";
constexpr std::string_view opaque_marker = ".wh..wh..opq";
constexpr std::string_view overlay_xattr_prefix = "trusted.overlay.";

/// One entry of the changed tree, or a whiteout, in the order the layer lists them.
struct Node {
  enum class Kind { entry, whiteout, opaque };
  std::string rel;          // relative path: of the entry, of what is removed, of the opaque dir
  Kind kind = Kind::entry;
  struct stat st {};         // the changed tree's entry (Kind::entry)
  bool emit = false;
  std::ptrdiff_t parent = -1;  // index of the parent directory's node, -1 at the top
};

std::string join(const std::string& dir, const std::string& name) { return dir.empty() ? name : dir + "/" + name; }

bool same_time(const struct timespec& a, const struct timespec& b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

/// The changes, collected as a list of nodes first and written second, because whether
/// an entry is written can depend on entries met later (hardlinks, parents).
class ChangeList {
 public:
  std::vector<Node> nodes;

  std::ptrdiff_t add(Node node) {
    nodes.push_back(std::move(node));
    const auto index = static_cast<std::ptrdiff_t>(nodes.size() - 1);
    const Node& n = nodes.back();
    if (n.kind == Node::Kind::entry && !S_ISDIR(n.st.st_mode) && n.st.st_nlink > 1)
      links_[{n.st.st_dev, n.st.st_ino}].push_back(index);
    return index;
  }

  /// Every hardlink of an inode written, and every directory above something written.
  void close() {
    for (const auto& [inode, members] : links_) {
      bool any = false;
      for (auto i : members) any = any || nodes[static_cast<std::size_t>(i)].emit;
      if (any)
        for (auto i : members) nodes[static_cast<std::size_t>(i)].emit = true;
    }
    for (std::size_t i = nodes.size(); i-- > 0;)
      if (nodes[i].emit && nodes[i].parent >= 0) nodes[static_cast<std::size_t>(nodes[i].parent)].emit = true;
  }

 private:
  std::map<std::pair<dev_t, ino_t>, std::vector<std::ptrdiff_t>> links_;
};

/// Whether the non-directory or directory @p c (at @p c_path) differs from @p b (same type).
bool differs(const struct stat& c, const fs::path& c_path, const struct stat& b, const fs::path& b_path) {
  if (c.st_mode != b.st_mode || c.st_uid != b.st_uid || c.st_gid != b.st_gid || !same_time(c.st_mtim, b.st_mtim))
    return true;
  if (S_ISREG(c.st_mode) && c.st_size != b.st_size) return true;
  if ((S_ISCHR(c.st_mode) || S_ISBLK(c.st_mode)) && c.st_rdev != b.st_rdev) return true;
  if (S_ISLNK(c.st_mode) && read_link(c_path) != read_link(b_path)) return true;
  return platform::read_xattrs(c_path) != platform::read_xattrs(b_path);
}

/// Walks @p changed against @p base.
class TreeDiff {
 public:
  TreeDiff(fs::path base, fs::path changed) : base_(std::move(base)), changed_(std::move(changed)) {}

  ChangeList run() {
    walk("", -1, true);
    list_.close();
    return std::move(list_);
  }

 private:
  void walk(const std::string& rel, std::ptrdiff_t parent, bool base_is_dir) {
    const std::vector<std::string> in_changed = list_names_sorted(rel.empty() ? changed_ : changed_ / rel);
    const std::vector<std::string> in_base =
        base_is_dir ? list_names_sorted(rel.empty() ? base_ : base_ / rel) : std::vector<std::string>{};
    auto c = in_changed.begin();
    auto b = in_base.begin();
    while (c != in_changed.end() || b != in_base.end()) {
      if (c == in_changed.end() || (b != in_base.end() && *b < *c)) {  // only in base: removed
        list_.add({join(rel, *b++), Node::Kind::whiteout, {}, true, parent});
        continue;
      }
      const bool in_both = b != in_base.end() && *b == *c;
      visit(join(rel, *c), parent, in_both);
      ++c;
      if (in_both) ++b;
    }
  }

  void visit(const std::string& rel, std::ptrdiff_t parent, bool in_base) {
    const fs::path c_path = changed_ / rel;
    const fs::path b_path = base_ / rel;
    Node node{rel, Node::Kind::entry, {}, false, parent};
    if (::lstat(c_path.c_str(), &node.st) != 0) throw Error(errno, "diff: stat " + c_path.string());
    const std::optional<struct stat> b = in_base ? lstat_if_exists(b_path) : std::nullopt;
    const bool same_type = b && (b->st_mode & S_IFMT) == (node.st.st_mode & S_IFMT);
    node.emit = !same_type || differs(node.st, c_path, *b, b_path);
    const bool is_dir = S_ISDIR(node.st.st_mode);
    const auto index = list_.add(std::move(node));
    if (!is_dir) return;
    if (b && !S_ISDIR(b->st_mode)) list_.add({rel, Node::Kind::opaque, {}, true, index});
    walk(rel, index, b && S_ISDIR(b->st_mode));
  }

  fs::path base_;
  fs::path changed_;
  ChangeList list_;
};

/// Walks an overlay upper directory: everything in it is a change.
class UpperDiff {
 public:
  explicit UpperDiff(fs::path upper) : upper_(std::move(upper)) {}

  ChangeList run() {
    walk("", -1);
    list_.close();
    return std::move(list_);
  }

 private:
  void walk(const std::string& rel, std::ptrdiff_t parent) {
    for (const std::string& name : list_names_sorted(rel.empty() ? upper_ : upper_ / rel)) {
      const std::string child = join(rel, name);
      const fs::path path = upper_ / child;
      Node node{child, Node::Kind::entry, {}, true, parent};
      if (::lstat(path.c_str(), &node.st) != 0) throw Error(errno, "diff: stat " + path.string());
      if (S_ISCHR(node.st.st_mode) && node.st.st_rdev == 0) {  // overlay's whiteout
        list_.add({child, Node::Kind::whiteout, {}, true, parent});
        continue;
      }
      const bool is_dir = S_ISDIR(node.st.st_mode);
      const auto index = list_.add(std::move(node));
      if (!is_dir) continue;
      for (const auto& attribute : platform::read_xattrs(path))
        if (attribute.name == "trusted.overlay.opaque" && attribute.value == "y")
          list_.add({child, Node::Kind::opaque, {}, true, index});
      walk(child, index);
    }
  }

  fs::path upper_;
  ChangeList list_;
};

struct EntryFree {
  void operator()(archive_entry* e) const noexcept { archive_entry_free(e); }
};
using EntryPtr = std::unique_ptr<archive_entry, EntryFree>;

/// Writes a change list as a layer.
class LayerEmitter {
 public:
  LayerEmitter(const fs::path& source, const fs::path& output, LayerCompression compression, bool overlay_upper)
      : source_(source), writer_(output, compression), overlay_upper_(overlay_upper) {}

  LayerDiff write(const ChangeList& list) {
    std::size_t changes = 0;
    for (const Node& node : list.nodes) {
      if (!node.emit) continue;
      switch (node.kind) {
        case Node::Kind::whiteout: write_marker(whiteout_name(node.rel)); break;
        case Node::Kind::opaque: write_marker(node.rel + "/" + std::string(opaque_marker)); break;
        case Node::Kind::entry: write_entry(node); break;
      }
      ++changes;
    }
    return writer_.commit(changes);
  }

 private:
  static std::string whiteout_name(const std::string& rel) {
    const auto slash = rel.rfind('/');
    return slash == std::string::npos ? std::string(whiteout_prefix) + rel
                                      : rel.substr(0, slash + 1) + std::string(whiteout_prefix) + rel.substr(slash + 1);
  }

  void write_marker(const std::string& name) {
    const EntryPtr entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0);
    archive_entry_set_size(entry.get(), 0);
    writer_.write_header(entry.get());
  }

  void write_entry(const Node& node) {
    const fs::path path = source_ / node.rel;
    const struct stat& st = node.st;
    const EntryPtr entry(archive_entry_new());
    archive_entry* e = entry.get();
    archive_entry_set_pathname(e, node.rel.c_str());
    archive_entry_set_mode(e, st.st_mode);
    archive_entry_set_uid(e, st.st_uid);
    archive_entry_set_gid(e, st.st_gid);
    archive_entry_set_mtime(e, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    for (const auto& attribute : platform::read_xattrs(path)) {
      if (overlay_upper_ && attribute.name.starts_with(overlay_xattr_prefix)) continue;
      archive_entry_xattr_add_entry(e, attribute.name.c_str(), attribute.value.data(), attribute.value.size());
    }
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      const auto [it, first] = first_links_.emplace(std::pair(st.st_dev, st.st_ino), node.rel);
      if (!first) {
        archive_entry_set_hardlink(e, it->second.c_str());
        archive_entry_set_size(e, 0);
        writer_.write_header(e);
        return;
      }
    }
    if (S_ISLNK(st.st_mode)) archive_entry_set_symlink(e, read_link(path).c_str());
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) archive_entry_set_rdev(e, st.st_rdev);
    if (!S_ISREG(st.st_mode)) {
      archive_entry_set_size(e, 0);
      writer_.write_header(e);
      return;
    }
    const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) throw Error(errno, "diff: open " + path.string());
    archive_entry_set_size(e, st.st_size);
    writer_.write_header(e);
    copy_data(fd.get(), static_cast<std::uint64_t>(st.st_size), path);
  }

  /// Exactly @p size bytes (the header said so): a file that changed meanwhile is an error.
  void copy_data(int fd, std::uint64_t size, const fs::path& path) {
    buffer_.resize(std::size_t{1} << 20);
    std::uint64_t left = size;
    while (left > 0) {
      const ssize_t n = ::read(fd, buffer_.data(), left < buffer_.size() ? static_cast<std::size_t>(left) : buffer_.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw Error(errno, "diff: read " + path.string());
      }
      if (n == 0) throw Error(ErrorCode::io, "diff: " + path.string() + " shrank while it was being read");
      writer_.write_data(buffer_.data(), static_cast<std::size_t>(n));
      left -= static_cast<std::uint64_t>(n);
    }
  }

  fs::path source_;
  LayerFileWriter writer_;
  bool overlay_upper_;
  std::map<std::pair<dev_t, ino_t>, std::string> first_links_;
  std::vector<char> buffer_;
};

void require_directory(const fs::path& path, std::string_view what) {
  const auto st = lstat_if_exists(path);
  if (!st) throw Error(ErrorCode::not_found, (std::string(what) + " " + path.string()) + ": no such directory");
  if (!S_ISDIR(st->st_mode)) throw Error(ErrorCode::invalid_argument, (std::string(what) + " " + path.string()) + ": not a directory");
}

}  // namespace

LayerDiff write_overlay_diff(const fs::path& upper, const fs::path& output, LayerCompression compression) {
  require_directory(upper, "diff: upper directory");
  const ChangeList list = UpperDiff(upper).run();
  return LayerEmitter(upper, output, compression, true).write(list);
}

}  // namespace detail

LayerDiff write_layer_diff(const std::filesystem::path& base, const std::filesystem::path& changed,
                           const std::filesystem::path& output, LayerCompression compression) {
  detail::require_directory(base, "diff: base");
  detail::require_directory(changed, "diff: changed tree");
  const detail::ChangeList list = detail::TreeDiff(base, changed).run();
  return detail::LayerEmitter(changed, output, compression, false).write(list);
}

}  // namespace v0
}  // namespace knast
