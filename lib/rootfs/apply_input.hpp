// Private: the bytes of a layer file as an uncompressed tar stream — compression detected
// from the magic bytes and checked against the media type, decompressed on a second
// thread so that decompressing and writing files overlap.
#pragma once

#include "image_store/archive_io.hpp"
#include "image_store/archive_paths.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace detail {

/// The compression of a layer whose first bytes say @p detected, checked against the
/// layer media type @p media_type (none given: anything a layer may be).
/// @throws Error integrity (the bytes and the media type disagree), invalid_argument
///         (@p media_type is not a layer type), unsupported (bzip2 or xz: no OCI layer is).
Compression layer_input_compression(Compression detected, std::string_view media_type);

/// The uncompressed tar bytes of a layer file.
class LayerInput {
 public:
  /// Opens @p layer and works out its compression (see layer_input_compression()).
  /// @throws Error not_found, and as layer_input_compression().
  LayerInput(const std::filesystem::path& layer, std::string_view media_type);
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

 private:
  FileSource file_;
  PeekSource peek_;
  Compression compression_ = Compression::none;
  std::optional<DecompressSource> decompress_;
  std::unique_ptr<ByteSource> prefetch_;  // decompression on its own thread
  ByteSource* tar_ = nullptr;
};

}  // namespace detail
}  // namespace v0
}  // namespace knast
