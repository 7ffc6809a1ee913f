// The ELF index: the regular files apply_layer() wrote, each known by what a later stat
// of it shows (inode, size, ctime, mtime), whether its content starts with the ELF magic
// and, for a well-formed ELF file, what its header says (class, EI_OSABI, type).
// brand_tree() consults it during its walk: a file whose stat still matches an entry
// that says "not ELF" is not opened, and in mode `all` an ELF file whose header the entry
// holds is opened only to be written, never read. Every open and read saved is most of a
// file's cost there (bench/RESULTS.md, brand).
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
// by one write each. A killed apply can leave a torn last record; it is ignored. A
// record's flags word: bit 0 ELF; bit 1 the header fields below are known; bit 2 64-bit
// class; bits 8-15 EI_OSABI; bits 16-31 e_type. An index written before the header bits
// existed has only bit 0, which reads as "header unknown": its files are read as before.
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

/// What an ELF file's header says, as far as branding every ELF file (mode `all`) needs.
struct ElfHeaderFacts {
  std::uint8_t bits = 0;   ///< 32 or 64.
  std::uint8_t osabi = 0;  ///< e_ident[EI_OSABI].
  std::uint16_t type = 0;  ///< e_type.

  bool operator==(const ElfHeaderFacts&) const = default;
};

/// What the index says of one file's content.
struct IndexedContent {
  bool elf = false;  ///< It starts with "\x7fELF".
  /// For a well-formed ELF file (its header and program headers as inspect_elf() without
  /// segments judges them): what the header says. Unset for any other file.
  std::optional<ElfHeaderFacts> header;

  bool operator==(const IndexedContent&) const = default;
};

/// One file of the index.
struct ElfIndexEntry {
  FileIdentity file;
  IndexedContent content;
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
  /// what its content is. Unset for any other file.
  std::optional<IndexedContent> look_up(const struct stat& st) const;
  /// look_up() of many files at once (a directory's, as a walk stats them), answer i for
  /// file i; a zeroed stat (none taken) gets none. The same answers, but the cache misses
  /// of the lookups overlap instead of each waiting for the one before: in a large tree
  /// the table is larger than the caches, and one lookup after another cost branding a
  /// few percent of its time (bench/RESULTS.md, brand).
  std::vector<std::optional<IndexedContent>> look_up(std::span<const struct stat> files) const;
  /// Whether an entry that says ELF has inode @p inode: a hint, from the inode number a
  /// directory listing shows, that a file is worth opening before its stat. Only
  /// look_up() of the opened file's fstat says what the file is.
  bool lists_elf_inode(std::uint64_t inode) const noexcept;
  /// Whether the index holds no entries.
  bool empty() const noexcept { return records_.empty(); }

  /// One record as the file holds it: the identity, then a flags word (see the top of
  /// this header).
  /// Fixed-width fields, so the layout is the same for every compiler of one machine.
  struct Record {
    FileIdentity file;
    std::uint64_t flags = 0;
  };

 private:
  static std::uint64_t hash(const FileIdentity& id) noexcept;
  /// The slot where the probe for @p id starts.
  std::size_t first_slot(const FileIdentity& id) const noexcept { return hash(id) & (slots_.size() - 1); }
  /// The probe of look_up() for @p id, from slot @p from.
  std::optional<IndexedContent> probe(const FileIdentity& id, std::size_t from) const;

  std::vector<Record> records_;
  std::vector<std::uint32_t> slots_;  // record number + 1, or 0 for an empty slot
  std::vector<std::uint64_t> elf_inodes_;  // sorted: the inodes of the entries that say ELF
};

}  // namespace detail
}  // namespace v0
}  // namespace knast
