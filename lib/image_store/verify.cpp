// verify(): rehash every blob (in parallel: one large blob per core at a time), and walk
// the names for blobs that are referenced but missing.
#include <knast/image_store.hpp>

#include "image_store/reachability.hpp"
#include "image_store/store_files.hpp"

#include <fmt/format.h>

#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

namespace knast {
inline namespace v0 {

using detail::StoreFiles;
using detail::UniqueFd;
namespace fs = std::filesystem;

namespace {

// Large reads keep the per-call cost small next to hashing (SHA-256 runs at 1–2 GB/s).
constexpr std::size_t hash_buffer_bytes = 1u << 20;
// Hashing is CPU-bound; more threads than this only fight over the disk.
constexpr unsigned max_hash_threads = 4;

struct BlobFile {
  Digest digest;
  fs::path path;
  std::uintmax_t size;
};

struct Inventory {
  std::vector<BlobFile> blobs;
  std::vector<VerifyProblem> unexpected;
};

std::string relative(const StoreFiles& files, const fs::path& path) { return fs::relative(path, files.root).string(); }

VerifyProblem unexpected(const StoreFiles& files, const fs::path& path, std::string detail) {
  return {VerifyProblem::Kind::unexpected_file, relative(files, path), std::nullopt, std::move(detail)};
}

std::optional<DigestAlgorithm> algorithm_named(const std::string& name) {
  for (const auto algorithm : {DigestAlgorithm::sha256, DigestAlgorithm::sha512})
    if (to_string(algorithm) == name) return algorithm;
  return std::nullopt;
}

void list_algorithm(const StoreFiles& files, const fs::directory_entry& dir, DigestAlgorithm algorithm, Inventory& out) {
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    const auto name = entry.path().filename().string();
    const auto digest = Digest::try_parse(fmt::format("{}:{}", to_string(algorithm), name));
    if (!digest)
      out.unexpected.push_back(unexpected(files, entry.path(), "not named like a " + std::string(to_string(algorithm)) + " blob"));
    else if (!entry.is_regular_file() || entry.is_symlink())
      out.unexpected.push_back(unexpected(files, entry.path(), "not a regular file"));
    else
      out.blobs.push_back({*digest, entry.path(), entry.file_size()});
  }
}

Inventory list_blobs(const StoreFiles& files) {
  Inventory inventory;
  for (const auto& entry : fs::directory_iterator(files.blobs())) {
    const auto algorithm = algorithm_named(entry.path().filename().string());
    if (algorithm && entry.is_directory() && !entry.is_symlink())
      list_algorithm(files, entry, *algorithm, inventory);
    else
      inventory.unexpected.push_back(unexpected(files, entry.path(), "not a folder of a digest algorithm knast knows"));
  }
  return inventory;
}

// The problem with one blob, if any. A blob that vanished meanwhile (another tool's
// collection) is not a problem.
std::optional<VerifyProblem> check_blob(const StoreFiles& files, const BlobFile& blob, std::vector<char>& buffer) {
  const auto path = relative(files, blob.path);
  try {
    const UniqueFd fd = detail::open_if_exists(blob.path, O_RDONLY);
    if (!fd) return std::nullopt;
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    Hasher hasher(blob.digest.algorithm());
    while (const auto n = detail::read_some(fd, buffer.data(), buffer.size(), blob.path)) hasher.update(buffer.data(), n);
    const Digest actual = hasher.finish();
    if (actual == blob.digest) return std::nullopt;
    return VerifyProblem{VerifyProblem::Kind::corrupt, path, blob.digest,
                         fmt::format("content has digest {}", actual.string())};
  } catch (const Error& e) {
    return VerifyProblem{VerifyProblem::Kind::corrupt, path, blob.digest, fmt::format("cannot be read: {}", e.what())};
  }
}

// Largest first, so that the last blob to finish is a small one.
std::vector<VerifyProblem> hash_all(const StoreFiles& files, std::vector<BlobFile> blobs) {
  std::sort(blobs.begin(), blobs.end(), [](const BlobFile& a, const BlobFile& b) { return a.size > b.size; });
  std::vector<std::optional<VerifyProblem>> results(blobs.size());
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    std::vector<char> buffer(hash_buffer_bytes);
    for (std::size_t i = next++; i < blobs.size(); i = next++) results[i] = check_blob(files, blobs[i], buffer);
  };
  const auto threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, max_hash_threads);
  std::vector<std::thread> helpers;
  for (std::size_t t = 1; t < std::min(threads, blobs.size()); ++t) helpers.emplace_back(work);
  work();
  for (auto& helper : helpers) helper.join();
  std::vector<VerifyProblem> problems;
  for (auto& result : results)
    if (result) problems.push_back(std::move(*result));
  return problems;
}

// Blobs the names need that are absent, and documents that hash right but do not parse.
std::vector<VerifyProblem> check_references(const StoreFiles& files, const std::set<Digest>& corrupt) {
  const auto found = detail::walk_from(files, detail::read_index(files).manifests);
  std::vector<VerifyProblem> problems;
  for (const auto& blob : found.missing)
    problems.push_back({VerifyProblem::Kind::missing, relative(files, files.blob(blob.digest)),
                        blob.digest, fmt::format("referenced ({}) but missing", blob.media_type)});
  for (const auto& [blob, error] : found.unreadable)
    if (!corrupt.count(blob.digest))
      problems.push_back({VerifyProblem::Kind::corrupt, relative(files, files.blob(blob.digest)),
                          blob.digest, error.what()});
  return problems;
}

}  // namespace

VerifyReport ImageStore::verify() const {
  return detail::in_context(fmt::format("verify store {}", root_.string()), [&] {
    const StoreFiles files(root_);
    const UniqueFd lease = detail::lock_gc(files, detail::LockKind::shared);  // nothing collected meanwhile
    Inventory inventory = list_blobs(files);
    VerifyReport report;
    report.blobs_checked = inventory.blobs.size();
    for (const auto& blob : inventory.blobs) report.bytes_checked += blob.size;
    report.problems = hash_all(files, std::move(inventory.blobs));
    std::set<Digest> corrupt;
    for (const auto& p : report.problems) corrupt.insert(*p.digest);
    auto references = check_references(files, corrupt);
    report.problems.insert(report.problems.end(), references.begin(), references.end());
    report.problems.insert(report.problems.end(), inventory.unexpected.begin(), inventory.unexpected.end());
    std::sort(report.problems.begin(), report.problems.end(),
              [](const VerifyProblem& a, const VerifyProblem& b) { return a.path < b.path; });
    return report;
  });
}

}  // namespace v0
}  // namespace knast
