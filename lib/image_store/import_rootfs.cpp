// ImageStore::import_rootfs: a root filesystem tarball becomes a one-layer image.
//
// The tarball is read once. Uncompressed, it is stored as it is as an uncompressed layer
// (its digest is its diff_id: no compression to wait for, and the store is local — a
// registry push compresses); gzip or zstd, it is stored as it is too, its diff_id hashed
// from the decompressed bytes as they pass; bzip2 or xz (no OCI media type) are stored
// decompressed. The uncompressed stream is read as a tar on the way, so a file that is
// not one, or a truncated one, is refused before any name points at it.
#include <knast/image_store.hpp>

#include "core/text.hpp"
#include "image_store/archive_layer.hpp"
#include "image_store/config_changes.hpp"
#include "image_store/store_files.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>

namespace knast {
inline namespace v0 {
namespace {

}  // namespace

ResolvedImage ImageStore::import_rootfs(const std::filesystem::path& tarball, const Reference& name,
                                        const ImportOptions& options) {
  return detail::in_context(fmt::format("import {}", tarball.string()), [&] {
    if (name.digest())
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("name {} has a digest; an imported image can only be named by a tag", name.string()));
    // Changes are checked before the (possibly large) tarball is read.
    ImageConfig config = detail::make_import_config(options, detail::now_rfc3339(), "Imported from " + tarball.filename().string());
    const StoreLease held = lease();
    detail::FileSource source(tarball);
    detail::LayerExpectations expect;
    expect.check_tar = true;  // nothing else vouches for the content
    const auto layer = detail::ingest_layer(*this, source, expect);
    config.diff_ids = {layer.diff_id};

    ResolvedImage image;
    image.name = name.string();
    image.config = std::move(config);
    image.manifest.config = put_blob(image.config.to_json(), std::string(media_type::oci_config));
    image.manifest.layers = {layer.descriptor};
    image.manifest_descriptor = put_blob(image.manifest.to_json(), std::string(media_type::oci_manifest));
    tag(name, image.manifest_descriptor);
    return image;
  });
}

}  // namespace v0
}  // namespace knast
