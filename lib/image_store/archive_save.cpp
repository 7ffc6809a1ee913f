// ImageStore::save: the chosen format written to a temporary file beside the archive,
// which replaces it only when complete.
#include <knast/image_store.hpp>

#include "image_store/archive_formats.hpp"
#include "image_store/store_files.hpp"

#include <fmt/format.h>

namespace knast {
inline namespace v0 {

namespace detail {

void copy_blob(const ImageStore& store, const Descriptor& blob, std::string_view name, TarWriter& out) {
  in_context(fmt::format("blob {}", blob.digest.string()), [&] {
    FileSource file(store.blob_path(blob.digest));
    DigestVerifier verifier(blob.digest, static_cast<std::uint64_t>(blob.size));
    TeeSource checked(file, [&verifier](std::span<const std::byte> chunk) { verifier.update(chunk.data(), chunk.size()); });
    out.add_stream(name, static_cast<std::uint64_t>(blob.size), checked);
    verifier.close();
  });
}

}  // namespace detail

void ImageStore::save(const std::vector<Reference>& names, const std::filesystem::path& archive,
                      ArchiveFormat format) const {
  detail::in_context(fmt::format("save {}", archive.string()), [&] {
    if (names.empty()) throw Error(ErrorCode::invalid_argument, "no image names given");
    const StoreLease held = lease();  // no blob goes away while it is copied
    detail::TarWriter out(archive);
    if (format == ArchiveFormat::docker) {
      detail::save_docker_archive(*this, names, out);
    } else {
      detail::save_oci_archive(*this, names, out);
    }
    out.commit();
  });
}

}  // namespace v0
}  // namespace knast
