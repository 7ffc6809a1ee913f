// The record of original EI_OSABI bytes that lets `undo` restore a branded tree.
//
// Format: JSON Lines, append-only. The first line is {"knast_brand_record": 1}; every
// further line is {"path": "<relative to the root>", "original": <byte>}. Lines are
// appended (one write per batch, O_APPEND) *before* the bytes they describe are written,
// so a run killed half-way leaves a record that covers every changed file. A later run
// appends; the first line for a path holds its true original, so readers keep the first.
#pragma once

#include "core/unique_fd.hpp"

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// One file of the record.
struct BrandRecordEntry {
  std::string path;           ///< Relative to the root.
  std::uint8_t original = 0;  ///< Its EI_OSABI before the first branding.
};

/// Appends entries to a record, creating it with its header on first use. Thread-safe.
class BrandRecordWriter {
 public:
  explicit BrandRecordWriter(std::filesystem::path path) : path_(std::move(path)) {}
  /// Appends @p entries in one write. @throws Error io (the caller must then not write
  /// the bytes the entries describe).
  void append(const std::vector<BrandRecordEntry>& entries);
  /// Flushes the record to disk (fsync) if it was written to.
  void sync();

 private:
  std::filesystem::path path_;
  std::mutex mutex_;
  UniqueFd fd_;
};

/// Reads the record at @p path: one entry per path, the first one recorded.
/// @throws Error not_found (no record), invalid_argument (not a brand record), io.
std::vector<BrandRecordEntry> read_brand_record(const std::filesystem::path& path);

}  // namespace detail
}  // namespace v0
}  // namespace knast
