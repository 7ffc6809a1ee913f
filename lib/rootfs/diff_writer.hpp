// Private: writing a layer file — a tar in pax format, compressed or not — while hashing
// both the uncompressed tar (its diff_id) and the file's bytes (its digest), so nothing is
// read back. The tar goes through one libarchive writer (pax) whose output callback hashes
// and hands the bytes to a second libarchive writer (the raw format with a gzip or zstd
// filter) that compresses into a temporary file beside the destination; commit() renames
// it into place.
#pragma once

#include "core/unique_fd.hpp"
#include "image_store/archive_io.hpp"

#include <knast/rootfs.hpp>

#include <archive_entry.h>

#include <exception>
#include <filesystem>
#include <optional>

namespace knast {
inline namespace v0 {
namespace detail {

/// The OCI layer media type of @p compression.
std::string_view layer_media_type(LayerCompression compression) noexcept;

/// A layer file being written. Not movable (libarchive holds its address).
class LayerFileWriter {
 public:
  LayerFileWriter(std::filesystem::path destination, LayerCompression compression);
  /// Removes the temporary file unless commit() succeeded.
  ~LayerFileWriter() noexcept;
  LayerFileWriter(const LayerFileWriter&) = delete;
  LayerFileWriter& operator=(const LayerFileWriter&) = delete;

  /// Writes @p entry's header; then the data of a regular file with write_data().
  void write_header(archive_entry* entry);
  /// Writes file data of the current entry.
  void write_data(const void* data, std::size_t size);
  /// Finishes both archives, fsyncs and renames the file into place. Returns the layer.
  LayerDiff commit(std::size_t changes);

 private:
  static la_ssize_t tar_out(archive* a, void* self, const void* buffer, std::size_t size) noexcept;
  static la_ssize_t file_out(archive* a, void* self, const void* buffer, std::size_t size) noexcept;
  void write_file(const void* data, std::size_t size);
  int check(archive* a, int status, std::string_view doing);

  std::filesystem::path destination_;
  std::filesystem::path temp_;
  LayerCompression compression_;
  UniqueFd fd_;
  Hasher diff_id_;
  Hasher digest_;
  std::uint64_t size_ = 0;
  std::exception_ptr parked_;
  ArchiveWritePtr compressor_;  // the raw writer with a filter (none for plain tar)
  ArchiveWritePtr tar_;         // declared last: destroyed first, it feeds the compressor
  bool committed_ = false;
};

}  // namespace detail
}  // namespace v0
}  // namespace knast
