#include "rootfs/apply_input.hpp"

#include "core/text.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

namespace knast {
inline namespace v0 {
namespace detail {

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

LayerInput::LayerInput(const std::filesystem::path& layer, std::string_view media_type) : file_(layer), peek_(file_) {
  compression_ = layer_input_compression(detect_compression(peek_.peek(compression_magic_bytes)), media_type);
  if (compression_ == Compression::none) {
    tar_ = &peek_;
  } else {
    decompress_.emplace(peek_, compression_);
    tar_ = &*decompress_;
  }
}

LayerInput::~LayerInput() = default;

void LayerInput::finish() { drain(*tar_); }

}  // namespace detail
}  // namespace v0
}  // namespace knast
