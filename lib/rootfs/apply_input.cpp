#include "rootfs/apply_input.hpp"

#include "core/text.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

// Chunks of decompressed bytes: big enough that the thread hand-over costs nothing next
// to inflating them, small enough to stay in cache; four of them in flight.
constexpr std::size_t chunk_bytes = std::size_t{1} << 20;
constexpr std::size_t chunks_in_flight = 4;

}  // namespace

Compression layer_input_compression(Compression detected, std::string_view media_type) {
  if (detected == Compression::bzip2 || detected == Compression::xz)
    throw Error(ErrorCode::unsupported, fmt::format("the layer is compressed with {}; an OCI layer is a tar, plain or "
                                                    "compressed with gzip or zstd",
                                                    to_string(detected)));
  if (media_type.empty()) return detected;
  const auto declared = layer_compression(media_type);
  if (!declared)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("media type {} is not a layer type", quote_untrusted(media_type)));
  if (*declared != detected)
    throw Error(ErrorCode::integrity, fmt::format("the media type {} says {} but the layer's bytes are {}",
                                                  quote_untrusted(media_type), to_string(*declared),
                                                  to_string(detected)));
  return detected;
}

// ---- GzipSource --------------------------------------------------------------------------

struct GzipSource::Stream {
  z_stream z{};
  std::span<const std::byte> input;  // what the source gave and zlib has not consumed
};

GzipSource::GzipSource(ByteSource& in) : in_(in), stream_(std::make_unique<Stream>()), out_(chunk_bytes) {
  // 16 + MAX_WBITS: a gzip wrapper, whose CRC-32 and length zlib checks.
  if (inflateInit2(&stream_->z, 16 + MAX_WBITS) != Z_OK)
    throw Error(ErrorCode::limit_exceeded, "gzip: zlib could not start (out of memory)");
}

GzipSource::~GzipSource() { inflateEnd(&stream_->z); }

bool GzipSource::refill() {
  if (stream_->input.empty()) stream_->input = in_.next();
  return !stream_->input.empty();
}

std::span<const std::byte> GzipSource::next() {
  auto& z = stream_->z;
  std::size_t produced = 0;
  while (!at_end_ && produced < out_.size()) {
    if (member_done_) {
      // Another member may follow (pigz and concatenated files write several).
      if (!refill()) {
        at_end_ = true;
        break;
      }
      if (static_cast<unsigned char>(stream_->input[0]) != 0x1f)
        throw Error(ErrorCode::invalid_argument, "gzip: data after the end of the compressed stream");
      inflateReset(&z);
      member_done_ = false;
    }
    if (!refill())
      throw Error(ErrorCode::invalid_argument, "gzip: the compressed stream is truncated");
    const auto in_size = std::min<std::size_t>(stream_->input.size(), std::numeric_limits<uInt>::max());
    z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(stream_->input.data()));
    z.avail_in = static_cast<uInt>(in_size);
    z.next_out = reinterpret_cast<Bytef*>(out_.data() + produced);
    z.avail_out = static_cast<uInt>(out_.size() - produced);
    const int status = inflate(&z, Z_NO_FLUSH);
    const auto consumed = in_size - z.avail_in;
    stream_->input = stream_->input.subspan(consumed);
    produced = out_.size() - z.avail_out;
    if (status == Z_STREAM_END) {
      member_done_ = true;
    } else if (status != Z_OK && status != Z_BUF_ERROR) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("gzip: {}", z.msg ? z.msg : "damaged compressed data"));
    }
  }
  return {out_.data(), produced};
}

// ---- PrefetchSource ----------------------------------------------------------------------

PrefetchSource::PrefetchSource(ByteSource& upstream) : upstream_(upstream) {
  for (std::size_t i = 0; i < chunks_in_flight; ++i) {
    buffers_.emplace_back(chunk_bytes);
    free_.push_back(i);
  }
  thread_ = std::thread([this] { run(); });
}

PrefetchSource::~PrefetchSource() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void PrefetchSource::run() noexcept {
  try {
    for (;;) {
      auto chunk = upstream_.next();
      if (chunk.empty()) break;
      while (!chunk.empty()) {
        std::size_t buffer = 0;
        {
          std::unique_lock lock(mutex_);
          changed_.wait(lock, [&] { return stop_ || !free_.empty(); });
          if (stop_) return;
          buffer = free_.front();
          free_.pop_front();
        }
        const auto n = std::min(chunk.size(), buffers_[buffer].size());
        std::memcpy(buffers_[buffer].data(), chunk.data(), n);
        chunk = chunk.subspan(n);
        {
          std::lock_guard lock(mutex_);
          ready_.emplace_back(buffer, n);
        }
        changed_.notify_all();
      }
    }
  } catch (...) {
    std::lock_guard lock(mutex_);
    error_ = std::current_exception();
  }
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  changed_.notify_all();
}

std::span<const std::byte> PrefetchSource::next() {
  std::unique_lock lock(mutex_);
  if (lent_) {
    free_.push_back(*lent_);
    lent_.reset();
    changed_.notify_all();
  }
  changed_.wait(lock, [&] { return !ready_.empty() || done_; });
  if (ready_.empty()) {
    // Everything read passed on first: an error is where the stream stopped.
    if (error_) std::rethrow_exception(error_);
    return {};
  }
  const auto [buffer, size] = ready_.front();
  ready_.pop_front();
  lent_ = buffer;
  return {buffers_[buffer].data(), size};
}

// ---- LayerInput --------------------------------------------------------------------------

LayerInput::LayerInput(const std::filesystem::path& layer, std::string_view media_type,
                       std::optional<LayerHashing> hashing)
    : file_(layer),
      stored_tee_(file_,
                  [this](std::span<const std::byte> chunk) {
                    if (stored_hash_) stored_hash_->update(chunk.data(), chunk.size());
                    if (tar_is_file_ && tar_hash_) tar_hash_->update(chunk.data(), chunk.size());
                  }),
      peek_(stored_tee_) {
  // Both hashers exist before the first read: until the magic bytes are known, the file
  // may be the tar itself.
  if (hashing) {
    stored_hash_.emplace(hashing->stored);
    tar_hash_.emplace(hashing->tar);
  }
  compression_ = layer_input_compression(detect_compression(peek_.peek(compression_magic_bytes)), media_type);
  ByteSource* decompressed = nullptr;
  switch (compression_) {
    case Compression::gzip:
      decompressed = &gzip_.emplace(peek_);
      break;
    case Compression::zstd:
      decompressed = &zstd_.emplace(peek_, compression_);  // libarchive's zstd reader checks the content checksum
      break;
    default:
      tar_ = &peek_;
      return;
  }
  // Compressed: the tar is what decompresses; its hash starts over from there.
  tar_is_file_ = false;
  if (hashing) tar_hash_.emplace(hashing->tar);
  prefetch_.emplace(tar_tee_.emplace(*decompressed, [this](std::span<const std::byte> chunk) {
    if (tar_hash_) tar_hash_->update(chunk.data(), chunk.size());
  }));
  tar_ = &*prefetch_;
}

LayerInput::~LayerInput() = default;

void LayerInput::finish() {
  drain(*tar_);
  // Bytes after the compressed stream still belong to the file and its digest.
  if (tar_ != &peek_) drain(peek_);
}

Digest LayerInput::stored_digest() {
  if (!stored_hash_) throw Error(ErrorCode::internal, "LayerInput: no hashing was asked for");
  return stored_hash_->finish();
}

Digest LayerInput::tar_digest() {
  if (!tar_hash_) throw Error(ErrorCode::internal, "LayerInput: no hashing was asked for");
  return tar_hash_->finish();
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
