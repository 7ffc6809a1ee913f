#include "image_store/archive_layer.hpp"

#include <fmt/format.h>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

TeeSource::Sink into(BlobWriter& writer) {
  return [&writer](std::span<const std::byte> chunk) { writer.write(chunk.data(), chunk.size()); };
}

TeeSource::Sink into(Hasher& hasher) {
  return [&hasher](std::span<const std::byte> chunk) { hasher.update(chunk.data(), chunk.size()); };
}

// The uncompressed stream is read to its end either way; as a tar only when nothing
// (no config diff_id) vouches for it.
void finish(ByteSource& uncompressed, const LayerExpectations& expect) {
  if (expect.check_tar) {
    check_tar_stream(uncompressed);
  } else {
    drain(uncompressed);
  }
}

IngestedLayer ingested(std::string_view type, const Digest& digest, std::uint64_t size, const Digest& diff_id) {
  Descriptor descriptor;
  descriptor.media_type = type;
  descriptor.digest = digest;
  descriptor.size = static_cast<std::int64_t>(size);
  return {std::move(descriptor), diff_id};
}

[[noreturn]] void diff_id_mismatch(const Digest& expected, const Digest& actual) {
  throw Error(ErrorCode::integrity, fmt::format("uncompressed content has digest {}, but the config's diff_id is {}",
                                                actual.string(), expected.string()));
}

// Commits a blob whose expected digest, when the manifest gave none, is the diff_id: the
// store then refuses to publish a mismatch, and the error says which check failed.
Digest commit_uncompressed(BlobWriter& writer, const LayerExpectations& expect) {
  try {
    return writer.commit();
  } catch (const Error& e) {
    if (expect.digest || !expect.diff_id || e.kind() != ErrorCode::integrity) throw;
    throw Error(ErrorCode::integrity, fmt::format("content does not match the config's diff_id: {}", e.what()));
  }
}

IngestedLayer stored_as_is(ImageStore& store, ByteSource& content, const LayerExpectations& expect) {
  // Uncompressed, the blob is its own diff_id: a manifest digest that differs from the
  // diff_id cannot both hold, so say so before writing anything.
  if (expect.digest && expect.diff_id && *expect.digest != *expect.diff_id)
    diff_id_mismatch(*expect.diff_id, *expect.digest);
  BlobWriter writer = store.ingest(expect.digest ? expect.digest : expect.diff_id, expect.size);
  TeeSource stored(content, into(writer));
  finish(stored, expect);
  const auto size = writer.bytes_written();
  const Digest digest = commit_uncompressed(writer, expect);
  if (expect.diff_id && digest != *expect.diff_id) diff_id_mismatch(*expect.diff_id, digest);
  return ingested(media_type::oci_layer_tar, digest, size, digest);
}

IngestedLayer stored_compressed(ImageStore& store, ByteSource& content, Compression compression,
                                const LayerExpectations& expect) {
  BlobWriter writer = store.ingest(expect.digest, expect.size);
  TeeSource stored(content, into(writer));
  Hasher diff_hasher;
  {
    DecompressSource plain(stored, compression);
    TeeSource hashed(plain, into(diff_hasher));
    finish(hashed, expect);
  }
  drain(stored);  // whatever follows the compressed stream is part of the blob too
  const Digest diff_id = diff_hasher.finish();
  if (expect.diff_id && diff_id != *expect.diff_id) diff_id_mismatch(*expect.diff_id, diff_id);
  const auto size = writer.bytes_written();
  const Digest digest = writer.commit();
  return ingested(*oci_layer_media_type(compression), digest, size, diff_id);
}

// bzip2 and xz have no OCI layer media type: the layer is kept decompressed.
IngestedLayer stored_decompressed(ImageStore& store, ByteSource& content, Compression compression,
                                  const LayerExpectations& expect) {
  if (expect.digest)
    throw Error(ErrorCode::unsupported,
                fmt::format("a {} layer cannot be stored under the digest its manifest gives", to_string(compression)));
  BlobWriter writer = store.ingest(expect.diff_id);
  {
    DecompressSource plain(content, compression);
    TeeSource stored(plain, into(writer));
    finish(stored, expect);
  }
  const auto size = writer.bytes_written();
  const Digest digest = commit_uncompressed(writer, expect);
  return ingested(media_type::oci_layer_tar, digest, size, digest);
}

}  // namespace

IngestedLayer ingest_layer(ImageStore& store, ByteSource& content, const LayerExpectations& expect) {
  PeekSource peeked(content);
  const Compression compression = detect_compression(peeked.peek(compression_magic_bytes));
  if (expect.compression && *expect.compression != compression)
    throw Error(ErrorCode::integrity, fmt::format("media type declares {} content, but it is {}",
                                                  to_string(*expect.compression), to_string(compression)));
  if (compression == Compression::none) return stored_as_is(store, peeked, expect);
  if (oci_layer_media_type(compression)) return stored_compressed(store, peeked, compression, expect);
  return stored_decompressed(store, peeked, compression, expect);
}

Descriptor ingest_blob(ImageStore& store, ByteSource& content, const Descriptor& expected) {
  BlobWriter writer = store.ingest(expected.digest, static_cast<std::uint64_t>(expected.size));
  TeeSource stored(content, into(writer));
  drain(stored);
  writer.commit();
  return expected;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
