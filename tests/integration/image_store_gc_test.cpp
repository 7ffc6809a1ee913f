// Garbage collection, leases, remove() and verify() on real files and processes.
#include "image_store_test_support.hpp"

#include <knast/error.hpp>

#include <fcntl.h>
#include <sys/file.h>

#include <chrono>
#include <csignal>
#include <thread>

namespace {

using namespace store_test;
using knast::Digest;
using knast::Error;
using knast::ErrorCode;
using knast::VerifyProblem;
using Kind = knast::VerifyProblem::Kind;
namespace mt = knast::media_type;
using namespace std::chrono_literals;

std::set<Digest> blobs_of(const TestImage& image) {
  std::set<Digest> all{image.manifest.digest, image.config.digest};
  for (const auto& layer : image.layers) all.insert(layer.digest);
  return all;
}

std::vector<Digest> sorted(std::set<Digest> digests) { return {digests.begin(), digests.end()}; }

TEST(ImageStoreGc, RemovesWhatNoNameReachesAndKeepsTheRest) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto kept = put_image(store, "kept");
  const auto in_index = put_image(store, "in-index", Platform{"linux", "arm64", "", "", {}});
  const auto garbage = put_image(store, "garbage");
  const auto index = put_index(store, {{in_index, Platform{"linux", "arm64", "", "", {}}}});
  store.tag(reference("kept:1"), kept.manifest);
  store.tag(reference("multi:1"), index);
  const auto stray = store.put_blob("stray", "text/plain");

  auto expected = blobs_of(garbage);
  expected.insert(stray.digest);
  const auto dry = store.collect_garbage(true);
  EXPECT_EQ(dry.removed, sorted(expected));
  EXPECT_TRUE(store.has_blob(stray.digest));

  const auto report = store.collect_garbage();
  EXPECT_EQ(report.removed, sorted(expected));
  EXPECT_EQ(report.bytes_freed, dry.bytes_freed);
  EXPECT_EQ(report.bytes_freed, static_cast<std::uint64_t>(garbage.manifest.size + garbage.config.size +
                                                           garbage.layers[0].size + stray.size));
  for (const auto& d : blobs_of(garbage)) EXPECT_FALSE(store.has_blob(d));
  for (const auto& d : blobs_of(kept)) EXPECT_TRUE(store.has_blob(d));
  for (const auto& d : blobs_of(in_index)) EXPECT_TRUE(store.has_blob(d));
  EXPECT_TRUE(store.has_blob(index.digest));
  EXPECT_TRUE(store.collect_garbage().removed.empty());
  EXPECT_TRUE(store.verify().ok());
}

TEST(ImageStoreGc, KeepsTheSubjectOfAReferrer) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto image = put_image(store, "subject");
  const auto other = put_image(store, "referrer");
  knast::Manifest referrer = knast::Manifest::parse(store.read_blob(other.manifest.digest, 1 << 20));
  referrer.subject = image.manifest;
  const auto referrer_blob = store.put_blob(referrer.to_json(), std::string(mt::oci_manifest));
  store.tag(reference("referrer:1"), referrer_blob);
  store.collect_garbage();
  for (const auto& d : blobs_of(image)) EXPECT_TRUE(store.has_blob(d));
}

TEST(ImageStoreGc, RemoveUntagsAndCollectsButKeepsSharedBlobs) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto a = put_image(store, "a");
  const auto b = put_image(store, "b");
  store.tag(reference("a:1"), a.manifest);
  store.tag(reference("a:2"), a.manifest);
  store.tag(reference("b:1"), b.manifest);
  EXPECT_TRUE(store.remove(reference("a:1")).removed.empty());  // a:2 still names it
  EXPECT_EQ(store.remove(reference("a:2")).removed, sorted(blobs_of(a)));
  EXPECT_EQ(error_from([&] { store.remove(reference("a:2")); }).kind(), ErrorCode::not_found);
  for (const auto& d : blobs_of(b)) EXPECT_TRUE(store.has_blob(d));
}

TEST(ImageStoreGc, ACorruptReachableManifestStopsTheCollection) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto a = put_image(store, "a");
  store.tag(reference("a:1"), a.manifest);
  store.put_blob("garbage", "text/plain");
  spit(store.blob_path(a.manifest.digest), "{}");
  const auto before = snapshot(dir.path());
  const Error e = error_from([&] { store.collect_garbage(); });
  EXPECT_EQ(e.kind(), ErrorCode::integrity);
  EXPECT_THAT(e.what(), testing::HasSubstr(a.manifest.digest.string()));
  EXPECT_EQ(snapshot(dir.path()), before);
}

// The collectors are forked before the lease or writer exists: a child would inherit the
// descriptor, and with it the flock, which would then outlive the parent's release.
TEST(ImageStoreGc, WaitsForALeaseAndKeepsWhatWasTaggedUnderIt) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  Barrier start;
  const pid_t collector = fork_child([&] {
    start.wait();
    return static_cast<int>(store.collect_garbage().removed.size());
  });
  std::optional<knast::StoreLease> lease = store.lease();
  start.release();
  // A pull in progress: blobs written, not yet named.
  const auto image = put_image(store, "pulled");
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(still_running(collector));
  for (const auto& d : blobs_of(image)) EXPECT_TRUE(store.has_blob(d));
  store.tag(reference("pulled:1"), image.manifest);
  const auto garbage = store.put_blob("garbage", "text/plain");
  lease.reset();
  EXPECT_EQ(wait_child(collector), 1);  // the garbage blob only
  for (const auto& d : blobs_of(image)) EXPECT_TRUE(store.has_blob(d));
  EXPECT_FALSE(store.has_blob(garbage.digest));
}

TEST(ImageStoreGc, WaitsForALiveWriter) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  Barrier start;
  const pid_t collector = fork_child([&] {
    start.wait();
    const auto report = store.collect_garbage();
    return static_cast<int>(report.removed.size() * 10 + report.stale_ingests);
  });
  auto writer = store.ingest();
  writer.write("half");
  start.release();
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(still_running(collector));
  EXPECT_EQ(ingest_files(dir.path()), 1u);
  writer.write(" and the rest");
  const Digest digest = writer.commit();
  EXPECT_EQ(wait_child(collector), 10);  // committed, unnamed: collected once the writer is done
  EXPECT_FALSE(store.has_blob(digest));
}

TEST(ImageStoreGc, RemovesAbandonedIngestFilesButNotLockedOnes) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  // A writer that died: its process's flock went with it.
  const pid_t crashed = fork_child([&] {
    auto writer = store.ingest();
    writer.write(std::string(100000, 'x'));
    ::raise(SIGKILL);
    return 0;
  });
  EXPECT_EQ(wait_child(crashed), 128 + SIGKILL);
  EXPECT_EQ(ingest_files(dir.path()), 1u);
  EXPECT_TRUE(fs::is_empty(dir / "blobs/sha256"));  // nothing partial is visible
  // A file some live writer holds (as a writer of another process holds its own).
  const auto live = dir / "knast/ingest/live";
  const int fd = ::open(live.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  EXPECT_EQ(store.collect_garbage(true).stale_ingests, 1u);
  EXPECT_EQ(ingest_files(dir.path()), 2u);
  EXPECT_EQ(store.collect_garbage().stale_ingests, 1u);
  EXPECT_EQ(ingest_files(dir.path()), 1u);
  EXPECT_TRUE(fs::exists(live));
  ::close(fd);
  EXPECT_EQ(store.collect_garbage().stale_ingests, 1u);
  EXPECT_EQ(ingest_files(dir.path()), 0u);
}

// ---- verify ----------------------------------------------------------------------------

TEST(ImageStoreVerify, ASoundStoreIsOkAndEveryBlobIsCounted) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto a = put_image(store, "a");
  store.tag(reference("a:1"), a.manifest);
  const auto big = store.put_blob(std::string(3 << 20, 'b'), "application/octet-stream");
  const auto report = store.verify();
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.blobs_checked, 4u);
  EXPECT_EQ(report.bytes_checked,
            static_cast<std::uint64_t>(a.manifest.size + a.config.size + a.layers[0].size + big.size));
}

TEST(ImageStoreVerify, ReportsCorruptMissingAndUnexpectedFilesAndChangesNothing) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto a = put_image(store, "a");
  const auto b = put_image(store, "b");
  store.tag(reference("a:1"), a.manifest);
  store.tag(reference("b:1"), b.manifest);
  spit(store.blob_path(a.layers[0].digest), "flipped");
  fs::remove(store.blob_path(b.config.digest));
  spit(dir / "blobs/sha256/leftover.tmp", "x");
  fs::create_directories(dir / "blobs/md5");
  spit(dir / "blobs/README", "x");
  const auto before = snapshot(dir.path());
  const auto report = store.verify();
  EXPECT_EQ(snapshot(dir.path()), before);
  ASSERT_EQ(report.problems.size(), 5u);
  const auto find = [&](const std::string& path) -> const VerifyProblem& {
    for (const auto& p : report.problems)
      if (p.path == path) return p;
    ADD_FAILURE() << "no problem reported for " << path;
    return report.problems.front();
  };
  const auto& corrupt = find("blobs/sha256/" + a.layers[0].digest.hex());
  EXPECT_EQ(corrupt.kind, Kind::corrupt);
  EXPECT_EQ(corrupt.digest, a.layers[0].digest);
  const auto& missing = find("blobs/sha256/" + b.config.digest.hex());
  EXPECT_EQ(missing.kind, Kind::missing);
  EXPECT_THAT(missing.detail, testing::HasSubstr(std::string(mt::oci_config)));
  EXPECT_EQ(find("blobs/sha256/leftover.tmp").kind, Kind::unexpected_file);
  EXPECT_EQ(find("blobs/md5").kind, Kind::unexpected_file);
  EXPECT_EQ(find("blobs/README").kind, Kind::unexpected_file);
}

TEST(ImageStoreVerify, ACorruptManifestIsReportedOnce) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto a = put_image(store, "a");
  store.tag(reference("a:1"), a.manifest);
  spit(store.blob_path(a.manifest.digest), "{}");
  const auto report = store.verify();
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].kind, Kind::corrupt);
  EXPECT_EQ(report.problems[0].digest, a.manifest.digest);
}

TEST(ImageStoreVerify, AManifestThatHashesRightButDoesNotParseIsCorrupt) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto junk = store.put_blob("not a manifest", std::string(mt::oci_manifest));
  knast::Index index;
  index.manifests.push_back(junk);
  spit(dir / "index.json", index.to_json());
  const auto report = store.verify();
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].kind, Kind::corrupt);
  EXPECT_THAT(report.problems[0].detail, testing::HasSubstr("manifest"));
}

}  // namespace
