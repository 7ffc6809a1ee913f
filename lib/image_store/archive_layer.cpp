#include "image_store/archive_layer.hpp"

#include "image_store/store_files.hpp"
#include "oci/json_reader.hpp"

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

[[noreturn]] void diff_id_mismatch(const Digest& expected, const Digest& actual) {
  throw Error(ErrorCode::integrity, fmt::format("uncompressed content has digest {}, but the config's diff_id is {}",
                                                actual.string(), expected.string()));
}

// A layer stored uncompressed is its own diff_id: when the manifest gives no digest, the
// writer expects the diff_id, so the store refuses to publish a mismatch.
StreamedLayer streamed(BlobWriter writer, std::string_view type, std::optional<Digest> diff_id,
                       const LayerExpectations& expect) {
  StreamedLayer layer{std::move(writer), std::string(type), 0, std::move(diff_id), expect.diff_id, false};
  layer.size = layer.writer.bytes_written();
  layer.diff_id_is_expected_digest = !layer.diff_id && !expect.digest && expect.diff_id;
  return layer;
}

StreamedLayer stored_as_is(ImageStore& store, ByteSource& content, const LayerExpectations& expect) {
  // A manifest digest that differs from the diff_id cannot both hold for an uncompressed
  // layer: say so before writing anything.
  if (expect.digest && expect.diff_id && *expect.digest != *expect.diff_id)
    diff_id_mismatch(*expect.diff_id, *expect.digest);
  BlobWriter writer = store.ingest(expect.digest ? expect.digest : expect.diff_id, expect.size);
  TeeSource stored(content, into(writer));
  finish(stored, expect);
  return streamed(std::move(writer), media_type::oci_layer_tar, std::nullopt, expect);
}

StreamedLayer stored_compressed(ImageStore& store, ByteSource& content, Compression compression,
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
  return streamed(std::move(writer), *oci_layer_media_type(compression), diff_id, expect);
}

// bzip2 and xz have no OCI layer media type: the layer is kept decompressed.
StreamedLayer stored_decompressed(ImageStore& store, ByteSource& content, Compression compression,
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
  return streamed(std::move(writer), media_type::oci_layer_tar, std::nullopt, expect);
}

}  // namespace

StreamedLayer stream_layer(ImageStore& store, ByteSource& content, const LayerExpectations& expect) {
  PeekSource peeked(content);
  const Compression compression = detect_compression(peeked.peek(compression_magic_bytes));
  if (expect.compression && *expect.compression != compression)
    throw Error(ErrorCode::integrity, fmt::format("media type declares {} content, but it is {}",
                                                  to_string(*expect.compression), to_string(compression)));
  if (compression == Compression::none) return stored_as_is(store, peeked, expect);
  if (oci_layer_media_type(compression)) return stored_compressed(store, peeked, compression, expect);
  return stored_decompressed(store, peeked, compression, expect);
}

IngestedLayer commit_layer(StreamedLayer layer) {
  Digest digest = Digest::of(std::string_view{});
  try {
    digest = layer.writer.commit();
  } catch (const Error& e) {
    if (!layer.diff_id_is_expected_digest || e.kind() != ErrorCode::integrity) throw;
    throw Error(ErrorCode::integrity, fmt::format("content does not match the config's diff_id: {}", e.what()));
  }
  const Digest diff_id = layer.diff_id.value_or(digest);
  if (layer.expected_diff_id && diff_id != *layer.expected_diff_id) diff_id_mismatch(*layer.expected_diff_id, diff_id);
  Descriptor descriptor;
  descriptor.media_type = std::move(layer.media_type);
  descriptor.digest = digest;
  descriptor.size = static_cast<std::int64_t>(layer.size);
  return {std::move(descriptor), diff_id};
}

IngestedLayer ingest_layer(ImageStore& store, ByteSource& content, const LayerExpectations& expect) {
  return commit_layer(stream_layer(store, content, expect));
}

void LayerCommits::collect() {
  if (!pending_.valid()) return;
  auto layer = in_context(fmt::format("entry {}", quote_text(pending_key_)), [&] { return pending_.get(); });
  done_.emplace(std::move(pending_key_), std::move(layer));
}

void LayerCommits::add(std::string key, StreamedLayer layer) {
  collect();  // one commit at a time: fsyncs queue up on the disk anyway
  pending_key_ = std::move(key);
  pending_ = std::async(std::launch::async,
                        [streamed_layer = std::move(layer)]() mutable { return commit_layer(std::move(streamed_layer)); });
}

std::map<std::string, IngestedLayer, std::less<>> LayerCommits::results() {
  collect();
  return std::move(done_);
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
