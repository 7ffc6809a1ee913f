#include "jail/container_log.hpp"

#include <knast/error.hpp>

#include <utility>

namespace knast {
inline namespace v0 {
namespace detail {

std::string log_frame(int stream, std::string_view payload) {
  const auto size = static_cast<std::uint32_t>(payload.size());
  std::string frame(log_header_bytes, '\0');
  frame[0] = static_cast<char>(stream);
  for (unsigned i = 0; i < 4; ++i) frame[4 + i] = static_cast<char>((size >> (24 - 8 * i)) & 0xffu);
  frame.append(payload);
  return frame;
}

void LogDecoder::feed(std::string_view bytes) {
  buffer_.append(bytes);
  std::size_t at = 0;
  while (buffer_.size() - at >= log_header_bytes) {
    const auto* header = reinterpret_cast<const unsigned char*>(buffer_.data() + at);
    const int stream = header[0];
    if ((stream != 1 && stream != 2) || header[1] != 0 || header[2] != 0 || header[3] != 0)
      throw Error(ErrorCode::io, "container log: corrupt frame header at byte " + std::to_string(at));
    const std::size_t size = (std::size_t{header[4]} << 24) | (std::size_t{header[5]} << 16) |
                             (std::size_t{header[6]} << 8) | std::size_t{header[7]};
    if (buffer_.size() - at - log_header_bytes < size) break;
    sink_(stream, std::string_view(buffer_).substr(at + log_header_bytes, size));
    at += log_header_bytes + size;
  }
  buffer_.erase(0, at);
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
