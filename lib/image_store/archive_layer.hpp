// Private: streaming a layer (or any blob) from an archive entry or a file into a store,
// with its diff_id computed on the way.
#pragma once

#include "image_store/archive_io.hpp"

#include <knast/image_store.hpp>

#include <cstdint>
#include <optional>

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

/// Streams a layer into @p store, reading @p content once. The compression is detected
/// from the magic bytes. An uncompressed, gzip or zstd layer is stored as it is (its
/// diff_id is then its digest, or the hash of its decompressed bytes, computed as they
/// pass); a bzip2 or xz one, for which OCI has no media type, is stored decompressed.
/// Nothing is published unless every expectation holds.
/// @throws Error integrity (digest, size, diff_id or declared compression differ),
///         invalid_argument (damaged compression or tar), and the store's errors.
IngestedLayer ingest_layer(ImageStore& store, ByteSource& content, const LayerExpectations& expect);

/// Streams an opaque blob into @p store, checking its digest and size.
Descriptor ingest_blob(ImageStore& store, ByteSource& content, const Descriptor& expected);

}  // namespace detail
}  // namespace v0
}  // namespace knast
