// The ELF index: the regular files apply_layer() wrote, each known by what a later stat
// of it shows (inode, size, ctime, mtime), and whether its content starts with the ELF
// magic. brand_tree() consults it during its walk: a file whose stat still matches an
// entry that says "not ELF" is not opened. Every open saved is most of a file's cost
// there (bench/RESULTS.md, brand).
//
// Why a match can be trusted: every change to a file's content, mode, owner or links
// moves its ctime, which no caller can set back; a file replaced by another has another
// inode, or the same one with a later ctime. Like git's index, this trusts that nothing
// wrote the file in the same clock tick after apply_layer() took its stat, and checks
// size and mtime besides (a write in that tick moves the mtime off the layer's value).
// An entry that matches nothing costs nothing: an index that belongs to another tree, or
// to a copy of this one (new inodes, new ctimes), only means more files are opened; so
// copy_tree() carries an index over the copies Rootfs makes.
//
// Format: the line "knast-elf-index 1\n", then fixed-size records in the host's byte
// order (the index is a local cache that never leaves the machine), appended in batches
// by one write each. A killed apply can leave a torn last record; it is ignored.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// What identifies one state of one file to stat(2).
struct FileIdentity {
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t ctime_sec = 0;
  std::int64_t ctime_nsec = 0;
  std::int64_t mtime_sec = 0;
  std::int64_t mtime_nsec = 0;

  bool operator==(const FileIdentity&) const = default;
};

/// The identity @p st shows.
FileIdentity identity_of(const struct stat& st) noexcept;

/// One file of the index.
struct ElfIndexEntry {
  FileIdentity file;
  bool elf = false;  ///< Its content starts with "\x7fELF".
};

/// How many entries a writer of an index gathers before it appends them: one write per
/// batch, and a list that never holds a whole huge layer or tree in memory.
inline constexpr std::size_t elf_index_batch = 8192;

/// Appends @p entries to the index at @p path (created with its header when missing) in
/// one write. @throws Error io.
void append_elf_index(const std::filesystem::path& path, std::span<const ElfIndexEntry> entries);

/// An index loaded for lookups during a walk: the file's records, and an
/// open-addressing table of record numbers over them (one probe for most lookups, no
/// allocation per entry: loading and probing stay small beside the walk they serve).
class ElfIndex {
 public:
  /// An index with no entries: every lookup misses.
  ElfIndex() = default;
  /// Reads the index at @p path. @throws Error not_found (no file), invalid_argument (not
  /// an ELF index), io.
  static ElfIndex load(const std::filesystem::path& path);

  /// For a regular file @p st that the index saw written and that is unchanged since:
  /// whether its content starts with the ELF magic. Unset for any other file.
  std::optional<bool> starts_as_elf(const struct stat& st) const;
  /// Whether an entry that says ELF has inode @p inode: a hint, from the inode number a
  /// directory listing shows, that a file is worth opening before its stat. Only
  /// starts_as_elf() of the opened file's fstat says what the file is.
  bool lists_elf_inode(std::uint64_t inode) const noexcept;
  /// Whether the index holds no entries.
  bool empty() const noexcept { return records_.empty(); }

  /// One record as the file holds it: the identity, then a flags word (bit 0: ELF).
  /// Fixed-width fields, so the layout is the same for every compiler of one machine.
  struct Record {
    FileIdentity file;
    std::uint64_t flags = 0;
  };

 private:
  static std::uint64_t hash(const FileIdentity& id) noexcept;

  std::vector<Record> records_;
  std::vector<std::uint32_t> slots_;  // record number + 1, or 0 for an empty slot
  std::vector<std::uint64_t> elf_inodes_;  // sorted: the inodes of the entries that say ELF
};

}  // namespace detail
}  // namespace v0
}  // namespace knast
