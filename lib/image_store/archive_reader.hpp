// Private: reading an archive file (a tar, possibly compressed as a whole) in passes.
//
// Tar entries come in any order, and what an archive's metadata names is only known
// once that metadata has been read. Rather than copy every entry somewhere first, the
// loader reads the archive more than once: a scan lists the entries (validating every
// name) and keeps the few metadata files, later passes read the small documents they
// name into memory and finally stream the large blobs straight into the store. Passes
// that only need headers cost little: on an uncompressed archive libarchive seeks over
// the entry data.
#pragma once

#include "image_store/archive_io.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace detail {

/// What kind of entry a name is.
enum class EntryKind { file, directory, symlink, hardlink, other };

/// One entry of the archive, as the scan found it.
struct ArchiveEntry {
  EntryKind kind = EntryKind::other;
  std::uint64_t size = 0;  ///< Data size of a regular file.
  std::string link;        ///< A link's target, resolved to a normalised entry name.
};

/// An archive file read in passes. Entry names are normalised (archive_paths.hpp).
class ArchiveFile {
 public:
  /// Files a pass should read into memory, each with the most bytes it may have.
  using DocumentLimits = std::map<std::string, std::size_t, std::less<>>;
  /// Documents read: entry name → contents.
  using Documents = std::map<std::string, std::string, std::less<>>;
  /// Called with each streamed file: its name, its size and its data.
  using Consumer = std::function<void(const std::string& name, std::uint64_t size, ByteSource& data)>;

  explicit ArchiveFile(std::filesystem::path path) : path_(std::move(path)) {}

  /// The first pass: lists every entry, refusing unsafe names, duplicates and damage
  /// (a truncated archive fails here, before anything is written anywhere), reads
  /// those of @p wanted that are present, if they are regular files, and keeps small
  /// files in memory (at most 256 KiB each, 16 MiB in all) for read().
  Documents scan(const DocumentLimits& wanted);

  /// Whether the scan found an entry @p name.
  bool contains(std::string_view name) const { return entries_.find(name) != entries_.end(); }

  /// The regular file that @p name is or links to (symbolic and hard links followed).
  /// @throws Error invalid_argument if it is missing, not a regular file or loops.
  std::string regular_file(std::string_view name) const;

  /// Size of the regular file @p name.
  std::uint64_t size_of(std::string_view name) const { return entries_.find(name)->second.size; }

  /// The regular files @p wanted names, from what the scan kept or else in a pass.
  /// @throws Error limit_exceeded for a file over its limit.
  Documents read(const DocumentLimits& wanted);

  /// A pass handing each regular file of @p wanted to @p consume, in archive order.
  void stream(const std::set<std::string, std::less<>>& wanted, const Consumer& consume);

 private:
  /// Calls @p visit with each entry's normalised name in one pass over the archive.
  void pass(std::size_t block_bytes, const std::function<void(const std::string&, archive*, archive_entry*)>& visit);
  void record(const std::string& name, archive_entry* entry);
  static std::string read_document(std::uint64_t size, std::size_t limit, archive* reader);

  std::filesystem::path path_;
  std::map<std::string, ArchiveEntry, std::less<>> entries_;
  Documents small_files_;  // kept by the scan
};

}  // namespace detail
}  // namespace v0
}  // namespace knast
