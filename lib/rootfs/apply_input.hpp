// Private: the bytes of a layer file as an uncompressed tar stream — compression detected
// from the magic bytes and checked against the media type, and decompressed on a second
// thread so that decompressing and writing files overlap (GNU tar gets the same overlap
// by running gzip as a separate process).
#pragma once

#include "image_store/archive_io.hpp"
#include "image_store/archive_paths.hpp"

#include <knast/digest.hpp>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <thread>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// The compression of a layer whose first bytes say @p detected, checked against the
/// layer media type @p media_type (none given: anything a layer may be).
/// @throws Error integrity (the bytes and the media type disagree), invalid_argument
///         (@p media_type is not a layer type), unsupported (bzip2 or xz: no OCI layer is).
Compression layer_input_compression(Compression detected, std::string_view media_type);

/// The decompressed bytes of a gzip stream (one member or several, concatenated), by
/// zlib, which checks every member's CRC-32 and length (libarchive's gzip reader skips
/// that check). Anything after the last member that is not another member is refused.
class GzipSource final : public ByteSource {
 public:
  explicit GzipSource(ByteSource& in);
  ~GzipSource() override;
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;
  /// @throws Error invalid_argument for damaged or truncated data.
  std::span<const std::byte> next() override;

 private:
  struct Stream;
  bool refill();
  ByteSource& in_;
  std::unique_ptr<Stream> stream_;
  std::vector<std::byte> out_;
  bool member_done_ = false;  // the current member ended; another may follow
  bool at_end_ = false;
};

/// Reads another stream on a thread of its own, a few chunks ahead of the consumer. An
/// error of the other stream is rethrown by next(); destroying the source stops the
/// thread (after the chunk it is reading).
class PrefetchSource final : public ByteSource {
 public:
  explicit PrefetchSource(ByteSource& upstream);
  ~PrefetchSource() override;
  PrefetchSource(const PrefetchSource&) = delete;
  PrefetchSource& operator=(const PrefetchSource&) = delete;
  std::span<const std::byte> next() override;

 private:
  void run() noexcept;
  ByteSource& upstream_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::vector<std::byte>> buffers_;
  std::deque<std::size_t> free_;                            // buffers the thread may fill
  std::deque<std::pair<std::size_t, std::size_t>> ready_;   // (buffer, bytes) for the consumer
  std::optional<std::size_t> lent_;                         // handed out by the last next()
  bool done_ = false;
  bool stop_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

/// The algorithms LayerInput hashes with: the file as stored (the layer's digest) and
/// the uncompressed tar stream (its diff_id).
struct LayerHashing {
  DigestAlgorithm stored = DigestAlgorithm::sha256;
  DigestAlgorithm tar = DigestAlgorithm::sha256;
};

/// The uncompressed tar bytes of a layer file, optionally hashed on their way, so that
/// one read of the file both applies and verifies it. The hashing runs where the bytes
/// are read: on the decompressing thread for a compressed layer.
class LayerInput {
 public:
  /// Opens @p layer and works out its compression (see layer_input_compression()); with
  /// @p hashing, hashes the file and its tar stream as they are read.
  /// @throws Error not_found, and as layer_input_compression().
  LayerInput(const std::filesystem::path& layer, std::string_view media_type,
             std::optional<LayerHashing> hashing = std::nullopt);
  ~LayerInput();
  LayerInput(const LayerInput&) = delete;
  LayerInput& operator=(const LayerInput&) = delete;

  /// The compression found.
  Compression compression() const noexcept { return compression_; }
  /// The uncompressed tar stream.
  ByteSource& tar() noexcept { return *tar_; }
  /// Reads what is left after the tar's end (its zero blocks, and the compression's
  /// trailer with its checksum), so a damaged stream is refused even when the damage
  /// lies past the last entry. @throws Error invalid_argument.
  void finish();
  /// After finish(), with hashing: the digest of the whole file as stored.
  Digest stored_digest();
  /// After finish(), with hashing: the digest of the uncompressed tar stream.
  Digest tar_digest();

 private:
  FileSource file_;
  std::optional<Hasher> stored_hash_;
  std::optional<Hasher> tar_hash_;
  bool tar_is_file_ = true;  // plain tar: the stored bytes feed tar_hash_ as well
  TeeSource stored_tee_;
  PeekSource peek_;
  Compression compression_ = Compression::none;
  std::optional<GzipSource> gzip_;
  std::optional<DecompressSource> zstd_;
  std::optional<TeeSource> tar_tee_;
  std::optional<PrefetchSource> prefetch_;  // declared last: its thread stops first
  ByteSource* tar_ = nullptr;
};

}  // namespace detail
}  // namespace v0
}  // namespace knast
