// Where each file of a store lives, and the store-level reads and writes built on them:
// index.json under its lock, blobs read back with their digest checked, the two locks.
#pragma once

#include "core/unique_fd.hpp"
#include "image_store/posix_io.hpp"
#include "image_store/reachability.hpp"

#include <knast/digest.hpp>
#include <knast/error.hpp>
#include <knast/oci.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace knast {
inline namespace v0 {
namespace detail {

/// The paths of an OCI image layout with knast's private folder (see image_store.hpp).
struct StoreFiles {
  explicit StoreFiles(fs::path store_root) : root(std::move(store_root)) {}

  fs::path root;
  fs::path oci_layout() const { return root / "oci-layout"; }
  fs::path index() const { return root / "index.json"; }
  fs::path blobs() const { return root / "blobs"; }
  fs::path blob_dir(DigestAlgorithm algorithm) const { return blobs() / std::string(to_string(algorithm)); }
  fs::path blob(const Digest& digest) const { return blob_dir(digest.algorithm()) / digest.hex(); }
  fs::path private_dir() const { return root / "knast"; }
  fs::path ingest_dir() const { return private_dir() / "ingest"; }
  fs::path index_lock() const { return private_dir() / "index.lock"; }
  fs::path gc_lock() const { return private_dir() / "gc.lock"; }
  // One name is enough: only the holder of index.lock writes it.
  fs::path index_temp() const { return private_dir() / "index.json.tmp"; }
};

/// Creates knast/ and knast/ingest/ when missing. Done lazily by writers, so a layout
/// written by another tool is only touched once knast writes to it.
void ensure_private_dirs(const StoreFiles& files);

/// Takes knast/index.lock exclusively: the one lock for read-modify-write of index.json.
UniqueFd lock_index(const StoreFiles& files);
/// Takes knast/gc.lock: shared by leases and blob writers, exclusive by garbage collection.
UniqueFd lock_gc(const StoreFiles& files, LockKind kind);

/// Reads and parses index.json. @throws Error invalid_argument when malformed.
Index read_index(const StoreFiles& files);
/// Replaces index.json atomically (temporary file, fsync, rename, fsync). The caller
/// holds lock_index().
void write_index(const StoreFiles& files, const Index& index);
/// Read-modify-write of index.json under lock_index(). @p edit may throw to leave the
/// index as it was.
void update_index(const StoreFiles& files, const std::function<void(Index&)>& edit);

/// Whether the blob's file exists.
bool blob_exists(const StoreFiles& files, const Digest& digest);
/// Reads a whole blob and checks its digest. @throws Error not_found naming the digest,
/// integrity (corrupt), limit_exceeded (more than @p max_bytes).
std::string read_verified_blob(const StoreFiles& files, const Digest& digest, std::size_t max_bytes);
/// Reads the manifest, index or config blob @p descriptor names (digest and size checked;
/// at most the limit of its media type).
std::string read_document(const StoreFiles& files, const Descriptor& descriptor);

/// The walk's access to this store's blobs (documents read with read_document()).
/// @p files must outlive the result.
BlobAccess blob_access(const StoreFiles& files);
/// Everything reachable from @p roots in this store.
Reachability walk_from(const StoreFiles& files, const std::vector<Descriptor>& roots);

/// Runs @p action; an Error it throws gets "@p context: " before its message, and a
/// std::filesystem error becomes an Error with the same error code.
template <typename F>
auto in_context(std::string_view context, F&& action) -> decltype(action()) {
  try {
    return action();
  } catch (const Error& e) {
    throw e.with_context(context);
  } catch (const fs::filesystem_error& e) {
    throw Error(e.code(), e.what()).with_context(context);
  }
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
