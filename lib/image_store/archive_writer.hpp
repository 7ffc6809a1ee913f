// Private: writing a tar archive file with libarchive, atomically: entries go to a
// temporary file beside the destination, which replaces the destination only once the
// archive is complete and fsynced. A writer destroyed before commit() leaves nothing.
#pragma once

#include "image_store/archive_io.hpp"

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace detail {

/// A tar archive being written. Entries get fixed owners (0:0), modes and times, so the
/// same images always give the same bytes. Not movable (libarchive writes to its file).
class TarWriter {
 public:
  /// Starts an archive that will become @p destination.
  explicit TarWriter(std::filesystem::path destination);
  /// Removes the temporary file unless commit() succeeded.
  ~TarWriter() noexcept;
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  /// Adds a folder.
  void add_directory(std::string_view name);
  /// Adds a regular file holding @p bytes.
  void add_file(std::string_view name, std::string_view bytes);
  /// Adds a symbolic link to @p target.
  void add_symlink(std::string_view name, std::string_view target);
  /// Adds a regular file of exactly @p size bytes read from @p data.
  /// @throws Error integrity if @p data is shorter or longer.
  void add_stream(std::string_view name, std::uint64_t size, ByteSource& data);
  /// Finishes the archive, fsyncs it and renames it to the destination.
  void commit();

 private:
  void write_header(std::string_view name, unsigned int type, unsigned int permissions, std::uint64_t size,
                    std::string_view link_target);
  void write_data(const void* data, std::size_t size);

  std::filesystem::path destination_;
  std::filesystem::path temp_;
  UniqueFd fd_;               // declared before archive_: freed after it
  ArchiveWritePtr archive_;
  bool committed_ = false;
};

}  // namespace detail
}  // namespace v0
}  // namespace knast
