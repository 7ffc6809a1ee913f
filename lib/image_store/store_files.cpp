#include "image_store/store_files.hpp"

#include <fmt/format.h>

#include <fcntl.h>

#include <algorithm>

namespace knast {
inline namespace v0 {
namespace detail {

void ensure_private_dirs(const StoreFiles& files) {
  if (make_directory(files.private_dir())) sync_directory(files.root);
  if (make_directory(files.ingest_dir())) sync_directory(files.private_dir());
}

UniqueFd lock_index(const StoreFiles& files) {
  ensure_private_dirs(files);
  return lock_file(files.index_lock(), LockKind::exclusive);
}

UniqueFd lock_gc(const StoreFiles& files, LockKind kind) {
  ensure_private_dirs(files);
  return lock_file(files.gc_lock(), kind);
}

Index read_index(const StoreFiles& files) {
  return in_context("index.json", [&] {
    const UniqueFd fd = open_file(files.index(), O_RDONLY);
    return Index::parse(read_all(fd, max_index_bytes, files.index()));
  });
}

void write_index(const StoreFiles& files, const Index& index) {
  replace_file(files.index(), files.index_temp(), index.to_json());
}

void update_index(const StoreFiles& files, const std::function<void(Index&)>& edit) {
  const UniqueFd lock = lock_index(files);
  Index index = read_index(files);
  edit(index);
  write_index(files, index);
}

bool blob_exists(const StoreFiles& files, const Digest& digest) {
  std::error_code ec;
  return fs::is_regular_file(files.blob(digest), ec);
}

std::string read_verified_blob(const StoreFiles& files, const Digest& digest, std::size_t max_bytes) {
  const fs::path path = files.blob(digest);
  const UniqueFd fd = open_if_exists(path, O_RDONLY);
  if (!fd) throw Error(ErrorCode::not_found, fmt::format("blob {} is missing", digest.string()));
  std::string bytes = in_context(fmt::format("blob {}", digest.string()), [&] { return read_all(fd, max_bytes, path); });
  const Digest actual = Digest::of(bytes, digest.algorithm());
  if (actual != digest)
    throw Error(ErrorCode::integrity, fmt::format("blob {} is corrupt: its content has digest {}", digest.string(),
                                                  actual.string()));
  return bytes;
}

namespace {

std::size_t document_limit(std::string_view media_type) {
  if (is_index_media_type(media_type)) return max_index_bytes;
  if (is_manifest_media_type(media_type)) return max_manifest_bytes;
  return max_config_bytes;
}

}  // namespace

std::string read_document(const StoreFiles& files, const Descriptor& descriptor) {
  std::string bytes = read_verified_blob(files, descriptor.digest, document_limit(descriptor.media_type));
  if (static_cast<std::int64_t>(bytes.size()) != descriptor.size)
    throw Error(ErrorCode::integrity, fmt::format("blob {} has {} bytes but its descriptor says {}",
                                                  descriptor.digest.string(), bytes.size(), descriptor.size));
  return bytes;
}

BlobAccess blob_access(const StoreFiles& files) {
  return {[&files](const Digest& d) { return blob_exists(files, d); },
          [&files](const Descriptor& d) { return read_document(files, d); }};
}

Reachability walk_from(const StoreFiles& files, const std::vector<Descriptor>& roots) {
  return walk_references(roots, blob_access(files));
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
