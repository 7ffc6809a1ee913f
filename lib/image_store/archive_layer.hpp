// Private: streaming a layer (or any blob) from an archive entry or a file into a store,
// with its diff_id computed on the way.
#pragma once

#include "image_store/archive_io.hpp"

#include <knast/image_store.hpp>

#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <string>

namespace knast {
inline namespace v0 {
namespace detail {

/// What is known about a layer before its bytes are read; each known fact is checked.
struct LayerExpectations {
  std::optional<Digest> digest;            ///< The blob's digest (a manifest names it).
  std::optional<std::uint64_t> size;       ///< The blob's size.
  std::optional<Digest> diff_id;           ///< The digest of its uncompressed tar (the config's diff_id).
  std::optional<Compression> compression;  ///< What its media type declares.
  bool check_tar = false;                  ///< Read the uncompressed stream as a tar (nothing vouches for it).
};

/// A layer now in the store.
struct IngestedLayer {
  Descriptor descriptor;  ///< Its blob, with the OCI layer media type of its compression.
  Digest diff_id;         ///< The digest of its uncompressed tar.
};

/// A layer whose bytes have all been written, waiting for commit_layer().
struct StreamedLayer {
  BlobWriter writer;                      ///< Holds every byte; not committed yet.
  std::string media_type;                 ///< How it is stored.
  std::uint64_t size = 0;                 ///< Bytes written.
  std::optional<Digest> diff_id;          ///< Hashed on the way; nothing when the blob is its own diff_id.
  std::optional<Digest> expected_diff_id; ///< What the config says it must be.
  bool diff_id_is_expected_digest = false;  ///< The writer checks the diff_id as its digest.
};

/// Streams a layer into a blob writer of @p store, reading @p content once. The
/// compression is detected from the magic bytes. An uncompressed, gzip or zstd layer is
/// stored as it is (its diff_id is then its digest, or the hash of its decompressed bytes,
/// computed as they pass); a bzip2 or xz one, for which OCI has no media type, is stored
/// decompressed. Everything that can be checked before committing is checked here.
/// @throws Error integrity (size, diff_id or declared compression differ),
///         invalid_argument (damaged compression or tar), and the store's errors.
StreamedLayer stream_layer(ImageStore& store, ByteSource& content, const LayerExpectations& expect);

/// Commits a streamed layer: the blob's digest and the diff_id are checked, and only a
/// layer that passes is published. @throws Error integrity.
IngestedLayer commit_layer(StreamedLayer layer);

/// stream_layer() then commit_layer().
IngestedLayer ingest_layer(ImageStore& store, ByteSource& content, const LayerExpectations& expect);

/// Commits layers on a background thread while the caller streams the next one, so the
/// fsync of one layer overlaps the reading, hashing and writing of the next. At most one
/// commit runs at a time; a failed commit is reported at the next add() or at results().
class LayerCommits {
 public:
  LayerCommits() = default;
  /// Waits for a commit still running (its result or error is dropped).
  ~LayerCommits() = default;
  LayerCommits(const LayerCommits&) = delete;
  LayerCommits& operator=(const LayerCommits&) = delete;

  /// Commits @p layer, known as @p key (an entry name, for results and errors).
  void add(std::string key, StreamedLayer layer);
  /// Every layer committed, by key. @throws the first commit's Error, naming its key.
  std::map<std::string, IngestedLayer, std::less<>> results();

 private:
  void collect();
  std::string pending_key_;
  std::future<IngestedLayer> pending_;
  std::map<std::string, IngestedLayer, std::less<>> done_;
};

/// Streams an opaque blob into @p store, checking its digest and size.
Descriptor ingest_blob(ImageStore& store, ByteSource& content, const Descriptor& expected);

}  // namespace detail
}  // namespace v0
}  // namespace knast
