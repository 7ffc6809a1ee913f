// Private: applying the entries of one layer onto a root directory. Every object is made
// with *at() calls relative to a directory descriptor that was resolved inside the root
// (rootfs/in_root.hpp); the last component of a name is never followed.
#pragma once

#include "core/unique_fd.hpp"
#include "image_store/archive_io.hpp"
#include "linuxulator/elf_inspect.hpp"
#include "rootfs/apply_input.hpp"
#include "rootfs/elf_index.hpp"

#include <knast/rootfs.hpp>

#include <sys/stat.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

struct archive_entry;

namespace knast {
inline namespace v0 {
namespace detail {

/// Where an object lives: its directory's identity and its name in it. Keys what a layer
/// made, so whiteouts and opaque markers leave the same layer's entries alone whatever
/// path (through whichever symlink) named them.
struct EntryKey {
  dev_t dev = 0;
  ino_t ino = 0;
};

/// Applies the entries of one layer, in the order of the tar, onto a root.
class LayerApplier {
 public:
  /// Applies onto the directory @p root_fd (borrowed; must outlive this object).
  LayerApplier(int root_fd, const ApplyOptions& options);

  /// Applies the entry @p entry that @p reader is positioned at (its data is read here).
  /// @throws Error naming what went wrong (the caller adds the entry's name).
  void apply(archive_entry* entry, SourceArchive& reader);
  /// Sets the modes and times of the directories this layer touched, deepest first
  /// (creating their contents changed their times).
  void finish();
  /// What was done so far.
  const ApplyReport& report() const noexcept { return report_; }
  /// Appends the files written since the last call to ApplyOptions::elf_index (if set).
  void flush_elf_index();

 private:
  /// The metadata of an entry, checked.
  struct Meta {
    mode_t permissions = 0;   // incl. setuid, setgid, sticky
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    timespec times[2]{};      // atime, mtime
  };
  /// A directory whose mode and times are set by finish().
  struct DirFixup {
    std::string path;
    dev_t dev = 0;
    ino_t ino = 0;
    mode_t permissions = 0;
    timespec times[2]{};
  };
  /// The directory an entry goes into.
  struct Parent {
    int fd = -1;
    EntryKey id;
  };

  Meta read_meta(archive_entry* entry) const;
  Parent parent_dir(std::string_view path);
  void forget_parent() noexcept { parent_valid_ = false; }
  void mark_created(const EntryKey& dir, std::string_view name);
  bool was_created(const EntryKey& dir, std::string_view name) const;

  void apply_whiteout(std::string_view parent, std::string_view base);
  void hide_lower(int dir_fd, const EntryKey& dir);

  /// Runs @p create (returning 0 or an errno); an existing entry in the way is removed
  /// first, except a directory where a directory is wanted (then false: merge into it).
  template <typename Create>
  bool create_replacing(const Parent& parent, const std::string& name, bool is_dir, Create create);

  void make_file(const Parent& parent, const std::string& name, const Meta& meta, archive_entry* entry,
                 SourceArchive& reader);
  void make_directory(const Parent& parent, const std::string& name, std::string_view path, const Meta& meta,
                      archive_entry* entry);
  void make_symlink(const Parent& parent, const std::string& name, const Meta& meta, archive_entry* entry);
  void make_hardlink(const Parent& parent, const std::string& name, std::string_view path, archive_entry* entry);
  void make_special(const Parent& parent, const std::string& name, const Meta& meta, archive_entry* entry);
  void update_root(const Meta& meta, archive_entry* entry);

  /// The first bytes of a file, as the ELF index looks at them (index_content()).
  using FileHead = std::array<std::uint8_t, elf_first_read>;
  /// Copies the bytes of a block at @p offset that fall in the file's head.
  static void keep_head(FileHead& head, const void* block, std::size_t size, std::uint64_t offset);
  /// Lists the finished file @p fd, whose first bytes are @p head, for the ELF index.
  void index_file(int fd, const FileHead& head);
  /// Lists again, for the ELF index, a file a hardlink was just made to (as @p name).
  void reindex_linked_file(int dir_fd, const std::string& name);

  void set_owner_at(int dir_fd, const std::string& name, const Meta& meta);
  /// Sets the entry's extended attributes with @p set (key, value → 0 or an errno);
  /// refusals are counted and warned about, not fatal.
  template <typename Set>
  void set_xattrs(archive_entry* entry, std::string_view what, Set set);
  void set_xattrs_fd(int fd, archive_entry* entry, std::string_view what);
  void set_xattrs_at(int dir_fd, const std::string& name, archive_entry* entry);
  void defer_directory(int dir_fd, const std::string& name, std::string_view path, const Meta& meta);
  void warn(std::string message);

  int root_fd_;
  ApplyOptions options_;
  bool preserve_owners_;
  bool make_devices_;
  ApplyReport report_;

  std::string parent_path_;
  UniqueFd parent_fd_;
  EntryKey parent_id_;
  bool parent_valid_ = false;

  std::unordered_set<std::string> created_;
  std::vector<ElfIndexEntry> elf_index_entries_;
  std::vector<DirFixup> fixups_;
};

/// What apply_layer_hashed() did and read.
struct HashedApply {
  ApplyReport report;
  Digest stored;  ///< Of the layer file as it is stored (compare with the layer's digest).
  Digest tar;     ///< Of its uncompressed tar stream (compare with the diff_id).
};

/// apply_layer(), hashing the layer file and its tar stream on the way (LayerInput), so
/// that one read both applies and verifies it. The caller compares the digests, and
/// discards the root when they are wrong.
HashedApply apply_layer_hashed(const std::filesystem::path& root, const std::filesystem::path& layer,
                               const ApplyOptions& options, std::string_view media_type, LayerHashing hashing);

}  // namespace detail
}  // namespace v0
}  // namespace knast
