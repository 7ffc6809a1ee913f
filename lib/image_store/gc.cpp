// Garbage collection: mark from index.json, sweep blobs/ and knast/ingest/.
//
// Locking: gc.lock exclusively first (waits until no lease or blob writer is live, and
// keeps new ones out), then index.lock (no name changes while marking and sweeping).
// Everyone takes them in that order, so there is no deadlock between processes. A
// thread must not collect while it holds a lease or a writer on the same store: flock
// sees them as different owners, so the collection would wait for itself.
#include <knast/image_store.hpp>

#include "image_store/reachability.hpp"
#include "image_store/store_files.hpp"

#include <fmt/format.h>

#include <fcntl.h>

#include <set>

namespace knast {
inline namespace v0 {

using detail::StoreFiles;
using detail::UniqueFd;
namespace fs = std::filesystem;

namespace {

// What the names reach. A reachable manifest or index that cannot be read stops the
// collection: what it references is unknown, and deleting it could lose an image.
std::set<Digest> mark(const StoreFiles& files) {
  auto found = detail::walk_from(files, detail::read_index(files).manifests);
  if (!found.unreadable.empty()) {
    const auto& [descriptor, error] = found.unreadable.front();
    throw error.with_context(fmt::format("cannot tell what {} references, so nothing is removed (verify the store, "
                                         "then untag or repair the image)",
                                         descriptor.digest.string()));
  }
  return std::move(found.reachable);
}

// Only files named like a blob are candidates: anything else under blobs/ is not ours to
// delete (verify() reports it).
void sweep_algorithm(const StoreFiles& files, DigestAlgorithm algorithm, const std::set<Digest>& keep, bool dry_run,
                     GcReport& report) {
  const fs::path dir = files.blob_dir(algorithm);
  std::error_code ec;
  bool removed_any = false;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto digest = Digest::try_parse(fmt::format("{}:{}", to_string(algorithm), entry.path().filename().string()));
    std::error_code size_error;
    const auto size = entry.file_size(size_error);  // fails for folders and vanished files too
    if (!digest || keep.count(*digest) || size_error || !entry.is_regular_file()) continue;
    if (!dry_run && !detail::remove_file(entry.path())) continue;
    report.removed.push_back(*digest);
    report.bytes_freed += size;
    removed_any = true;
  }
  if (ec && ec != std::errc::no_such_file_or_directory) throw Error(ec, fmt::format("list {}", dir.string()));
  if (removed_any && !dry_run) detail::sync_directory(dir);
}

// A live writer holds an exclusive flock on its file; one nobody holds was abandoned.
std::size_t sweep_ingests(const StoreFiles& files, bool dry_run) {
  std::error_code ec;
  std::size_t stale = 0;
  for (const auto& entry : fs::directory_iterator(files.ingest_dir(), ec)) {
    const UniqueFd fd = detail::open_if_exists(entry.path(), O_RDONLY);
    if (!fd || !detail::try_lock(fd, detail::LockKind::exclusive, entry.path())) continue;
    if (dry_run || detail::remove_file(entry.path())) ++stale;
  }
  return stale;
}

}  // namespace

GcReport ImageStore::collect_garbage(bool dry_run) {
  return detail::in_context(fmt::format("collect garbage in store {}", root_.string()), [&] {
    const StoreFiles files(root_);
    const UniqueFd no_writers = detail::lock_gc(files, detail::LockKind::exclusive);
    const UniqueFd no_renames = detail::lock_index(files);
    const std::set<Digest> keep = mark(files);
    GcReport report;
    for (const auto algorithm : {DigestAlgorithm::sha256, DigestAlgorithm::sha512})
      sweep_algorithm(files, algorithm, keep, dry_run, report);
    std::sort(report.removed.begin(), report.removed.end());
    report.stale_ingests = sweep_ingests(files, dry_run);
    return report;
  });
}

GcReport ImageStore::remove(const Reference& name) {
  untag(name);
  return detail::in_context(fmt::format("remove {}", name.string()), [&] { return collect_garbage(); });
}

}  // namespace v0
}  // namespace knast
