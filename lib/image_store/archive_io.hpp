// Private: the I/O pieces archive loading, saving and rootfs import are built from —
// owned libarchive handles, and pull-based byte streams that can be
// chained (file or tar entry → tee into a blob writer → decompress → hash → tar check)
// so every byte is read once and memory stays flat whatever the size.
#pragma once

#include "core/unique_fd.hpp"
#include "image_store/archive_paths.hpp"

#include <knast/error.hpp>

#include <archive.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// Size of the chunks streams read and pass on: large enough that per-call costs vanish
/// next to hashing and copying, small enough to stay in cache.
inline constexpr std::size_t stream_chunk_bytes = std::size_t{1} << 20;

/// Frees a libarchive read handle.
struct ArchiveReadFree {
  void operator()(archive* a) const noexcept;
};
/// Frees a libarchive write handle.
struct ArchiveWriteFree {
  void operator()(archive* a) const noexcept;
};
/// An owned libarchive read handle.
using ArchiveReadPtr = std::unique_ptr<archive, ArchiveReadFree>;
/// An owned libarchive write handle.
using ArchiveWritePtr = std::unique_ptr<archive, ArchiveWriteFree>;

/// A new read handle. @throws Error limit_exceeded when libarchive cannot allocate one.
ArchiveReadPtr new_archive_reader();
/// A new write handle.
ArchiveWritePtr new_archive_writer();

/// The Error for libarchive's last failure on @p a: "<doing>: <libarchive's message>".
/// An operating-system errno is kept; a format or data problem becomes @p data_code.
Error archive_error(archive* a, std::string_view doing, ErrorCode data_code = ErrorCode::invalid_argument);

/// Whether a libarchive status is a failure. Besides ARCHIVE_FAILED and ARCHIVE_FATAL that
/// is ARCHIVE_RETRY, libarchive's answer to a damaged header it could skip past (a tar
/// header whose checksum is wrong): in an image layer or archive that is damage, refused
/// like any other, not something to step over.
inline bool archive_failed(int status) noexcept { return status < ARCHIVE_WARN || status == ARCHIVE_RETRY; }

/// A pull stream of bytes.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  /// The next chunk, valid until the next call; empty at the end of the stream.
  virtual std::span<const std::byte> next() = 0;
};

/// Reads @p source to its end, throwing the bytes away (their consumers are upstream).
void drain(ByteSource& source);

/// The bytes of a file.
class FileSource final : public ByteSource {
 public:
  explicit FileSource(const std::filesystem::path& path);
  std::span<const std::byte> next() override;

 private:
  std::filesystem::path path_;
  UniqueFd fd_;
  std::vector<std::byte> buffer_;
};

/// The data of the entry (of @p size bytes) a libarchive reader is positioned at, handed
/// out from libarchive's own buffers without a copy; holes of sparse entries read as zeros.
class EntrySource final : public ByteSource {
 public:
  EntrySource(archive* reader, std::uint64_t size) : reader_(reader), size_(size) {}
  std::span<const std::byte> next() override;

 private:
  void read_block();
  archive* reader_;
  std::uint64_t size_;
  std::uint64_t position_ = 0;          // bytes handed out so far
  std::span<const std::byte> block_;    // read but not handed out: it starts after a hole
  std::uint64_t block_offset_ = 0;
  bool at_end_ = false;
};

/// A stream whose first bytes can be looked at before they are consumed.
class PeekSource final : public ByteSource {
 public:
  explicit PeekSource(ByteSource& in) : in_(in) {}
  /// At least the first @p count bytes (fewer only if the stream is shorter).
  std::span<const std::byte> peek(std::size_t count);
  std::span<const std::byte> next() override;

 private:
  ByteSource& in_;
  std::vector<std::byte> head_;
  bool head_passed_ = false;
};

/// Passes a stream on unchanged, showing every chunk to a sink on the way: a blob
/// writer, a hasher.
class TeeSource final : public ByteSource {
 public:
  using Sink = std::function<void(std::span<const std::byte>)>;
  TeeSource(ByteSource& in, Sink sink) : in_(in), sink_(std::move(sink)) {}
  std::span<const std::byte> next() override;

 private:
  ByteSource& in_;
  Sink sink_;
};

/// A libarchive reader fed from a ByteSource. libarchive calls back into C++ here, so
/// the callback parks any exception and check() rethrows it once libarchive returns.
/// Not movable: libarchive holds its address.
class SourceArchive {
 public:
  /// Opens a reader over @p in, after @p configure has chosen its formats and filters.
  SourceArchive(ByteSource& in, const std::function<void(archive*)>& configure, std::string_view what);
  SourceArchive(const SourceArchive&) = delete;
  SourceArchive& operator=(const SourceArchive&) = delete;

  archive* get() const noexcept { return archive_.get(); }
  /// Returns @p status if it is not a failure; otherwise throws the parked exception or
  /// libarchive's error, "<what>: <doing>: …".
  int check(int status, std::string_view doing);

 private:
  static la_ssize_t read_callback(archive* a, void* self, const void** buffer) noexcept;
  ByteSource& in_;
  std::string_view what_;
  std::exception_ptr parked_;
  ArchiveReadPtr archive_;
};

/// The decompressed bytes of a stream compressed with @p compression (not none).
class DecompressSource final : public ByteSource {
 public:
  DecompressSource(ByteSource& in, Compression compression);
  std::span<const std::byte> next() override;

 private:
  SourceArchive reader_;
  bool at_end_ = false;
};

/// Reads @p source as a tar archive to its end, header by header, and then drains it:
/// a damaged or truncated tar is refused (Error invalid_argument) and every byte still
/// reaches the sinks upstream.
void check_tar_stream(ByteSource& source);

}  // namespace detail
}  // namespace v0
}  // namespace knast
