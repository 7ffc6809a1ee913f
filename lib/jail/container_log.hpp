// The log of a detached container (`containers/<id>/container.log`): the supervisor
// appends what the container writes to stdout and stderr as frames, and readers replay
// them in order onto the right stream. The frame is docker's stream framing: one byte
// stream (1 stdout, 2 stderr), three zero bytes, the payload length as a big-endian
// 32-bit number, the payload. Bytes are kept exactly (no line splitting, no encoding).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace detail {

/// Bytes of a frame header.
inline constexpr std::size_t log_header_bytes = 8;

/// The frame of @p payload on @p stream.
std::string log_frame(int stream, std::string_view payload);

/// Splits log bytes into frames. feed() takes any slice of the file; whole frames go to
/// the sink, a partial one waits for the next slice.
class LogDecoder {
 public:
  using Sink = std::function<void(int stream, std::string_view bytes)>;
  explicit LogDecoder(Sink sink) : sink_(std::move(sink)) {}
  /// Passes every complete frame of what was fed so far to the sink.
  /// @throws Error io for a frame header that cannot be one (a corrupt log).
  void feed(std::string_view bytes);
  /// Whether a partial frame is waiting for more bytes.
  bool pending() const noexcept { return !buffer_.empty(); }

 private:
  Sink sink_;
  std::string buffer_;
};

}  // namespace detail
}  // namespace v0
}  // namespace knast
