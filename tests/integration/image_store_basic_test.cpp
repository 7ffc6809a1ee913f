// ImageStore on real files: opening, blobs, names and resolve.
#include "image_store_test_support.hpp"

#include <knast/error.hpp>

namespace {

using namespace store_test;
using knast::Digest;
using knast::Error;
using knast::ErrorCode;
using knast::Index;
namespace mt = knast::media_type;

const Platform amd64{"linux", "amd64", "", "", {}};
const Platform arm64{"linux", "arm64", "", "", {}};
const Platform armv7{"linux", "arm", "v7", "", {}};

// ---- open ------------------------------------------------------------------------------

TEST(ImageStoreOpen, CreatesAValidLayoutInAMissingFolder) {
  TempDir dir;
  const auto store = ImageStore::open(dir / "store");
  EXPECT_EQ(slurp(dir / "store/oci-layout"), R"({"imageLayoutVersion":"1.0.0"})");
  EXPECT_TRUE(Index::parse(slurp(dir / "store/index.json")).manifests.empty());
  EXPECT_TRUE(fs::is_directory(dir / "store/blobs/sha256"));
  EXPECT_EQ(store.root(), dir / "store");
}

TEST(ImageStoreOpen, InitialisesAnEmptyFolderAndReopensIt) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto image = put_image(store, "a");
  store.tag(reference("a:1"), image.manifest);
  const auto again = ImageStore::open(dir.path(), ImageStore::OpenMode::must_exist);
  EXPECT_EQ(again.find(reference("a:1"))->digest, image.manifest.digest);
}

TEST(ImageStoreOpen, MustExistRefusesAMissingOrEmptyFolder) {
  TempDir dir;
  EXPECT_EQ(error_from([&] { ImageStore::open(dir / "nope", ImageStore::OpenMode::must_exist); }).kind(), ErrorCode::not_found);
  EXPECT_FALSE(fs::exists(dir / "nope"));
  EXPECT_EQ(error_from([&] { ImageStore::open(dir.path(), ImageStore::OpenMode::must_exist); }).kind(), ErrorCode::not_found);
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(ImageStoreOpen, RefusesAFolderThatIsNotALayoutAndDoesNotWriteToIt) {
  TempDir dir;
  spit(dir / "notes.txt", "mine");
  fs::create_directory(dir / "blobs");
  const auto before = snapshot(dir.path());
  const Error e = error_from([&] { ImageStore::open(dir.path()); });
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), testing::HasSubstr("not an OCI image layout"));
  EXPECT_THAT(e.what(), testing::HasSubstr(dir.path().string()));
  EXPECT_EQ(snapshot(dir.path()), before);
}

TEST(ImageStoreOpen, RefusesAFileAndABadOciLayout) {
  TempDir dir;
  spit(dir / "file", "x");
  EXPECT_EQ(error_from([&] { ImageStore::open(dir / "file"); }).kind(), ErrorCode::invalid_argument);
  fs::create_directory(dir / "bad");
  spit(dir / "bad/oci-layout", "{not json");
  spit(dir / "bad/index.json", R"({"schemaVersion":2,"manifests":[]})");
  EXPECT_EQ(error_from([&] { ImageStore::open(dir / "bad"); }).kind(), ErrorCode::invalid_argument);
  spit(dir / "bad/oci-layout", R"({"imageLayoutVersion":"2.0.0"})");
  EXPECT_EQ(error_from([&] { ImageStore::open(dir / "bad"); }).kind(), ErrorCode::unsupported);
  fs::create_directory(dir / "noindex");
  spit(dir / "noindex/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  EXPECT_EQ(error_from([&] { ImageStore::open(dir / "noindex"); }).kind(), ErrorCode::invalid_argument);
  EXPECT_FALSE(fs::exists(dir / "noindex/index.json"));
}

TEST(ImageStoreOpen, FinishesALayoutWhoseCreationWasInterrupted) {
  TempDir dir;
  fs::create_directories(dir / "knast/ingest");
  fs::create_directories(dir / "blobs/sha256");
  auto store = ImageStore::open(dir.path());
  EXPECT_TRUE(fs::exists(dir / "oci-layout"));
  EXPECT_TRUE(store.list().empty());
}

// ---- blobs -----------------------------------------------------------------------------

TEST(ImageStoreBlobs, PutReadAndDeduplicate) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto d = store.put_blob("hello", "text/plain");
  EXPECT_EQ(d.digest, Digest::of(std::string_view("hello")));
  EXPECT_EQ(d.size, 5);
  EXPECT_EQ(d.media_type, "text/plain");
  EXPECT_TRUE(store.has_blob(d.digest));
  EXPECT_EQ(store.blob_path(d.digest), dir / ("blobs/sha256/" + d.digest.hex()));
  EXPECT_EQ(store.read_blob(d.digest, 5), "hello");
  EXPECT_EQ(store.put_blob("hello", "text/plain"), d);
  EXPECT_EQ(ingest_files(dir.path()), 0u);
  EXPECT_EQ(error_from([&] { store.read_blob(d.digest, 4); }).kind(), ErrorCode::limit_exceeded);
}

TEST(ImageStoreBlobs, ReadingAMissingOrCorruptBlobFailsClearly) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto missing = Digest::of(std::string_view("absent"));
  const Error e = error_from([&] { store.read_blob(missing, 100); });
  EXPECT_EQ(e.kind(), ErrorCode::not_found);
  EXPECT_THAT(e.what(), testing::HasSubstr(missing.string()));
  const auto d = store.put_blob("hello", "text/plain");
  spit(store.blob_path(d.digest), "jello");
  EXPECT_EQ(error_from([&] { store.read_blob(d.digest, 100); }).kind(), ErrorCode::integrity);
}

TEST(ImageStoreBlobs, IngestStreamsAndVerifies) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const std::string content(300000, 'x');
  auto writer = store.ingest(Digest::of(content), content.size());
  EXPECT_EQ(ingest_files(dir.path()), 1u);
  for (std::size_t i = 0; i < content.size(); i += 1000) writer.write(content.substr(i, 1000));
  EXPECT_EQ(writer.bytes_written(), content.size());
  EXPECT_FALSE(store.has_blob(Digest::of(content)));  // invisible until committed
  EXPECT_EQ(writer.commit(), Digest::of(content));
  EXPECT_EQ(store.read_blob(Digest::of(content), content.size()), content);
  EXPECT_EQ(ingest_files(dir.path()), 0u);
}

// Writes small enough to be gathered and large enough to bypass the buffer, across several
// of the writer's early-writeback steps: the bytes that land are the bytes written.
TEST(ImageStoreBlobs, IngestOfMixedWriteSizesKeepsEveryByteInOrder) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  std::string content;
  for (std::size_t i = 0; content.size() < (std::size_t{11} << 20); ++i)
    content += std::string(i % 3 == 0 ? 700001 : 16384 + i, static_cast<char>('a' + i % 26));
  auto writer = store.ingest(Digest::of(content), content.size());
  std::size_t at = 0;
  for (std::size_t i = 0; at < content.size(); ++i) {
    const std::size_t size = std::min(content.size() - at, i % 5 == 0 ? std::size_t{1} << 20 : 3000 + i);
    writer.write(std::string_view(content).substr(at, size));
    at += size;
  }
  EXPECT_EQ(writer.commit(), Digest::of(content));
  EXPECT_EQ(store.read_blob(Digest::of(content), content.size()), content);
}

TEST(ImageStoreBlobs, Sha512BlobsGoUnderTheirOwnFolderAndVerify) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto digest = Digest::of(std::string_view("wide"), knast::DigestAlgorithm::sha512);
  auto writer = store.ingest(digest);
  writer.write("wide");
  EXPECT_EQ(writer.commit(), digest);
  EXPECT_EQ(slurp(dir / ("blobs/sha512/" + digest.hex())), "wide");
  EXPECT_EQ(store.read_blob(digest, 4), "wide");
  const auto report = store.verify();
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.blobs_checked, 1u);
  EXPECT_EQ(store.collect_garbage().removed, std::vector<Digest>{digest});
}

TEST(ImageStoreBlobs, DigestMismatchLeavesNothingBehind) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto wanted = Digest::of(std::string_view("good"));
  auto writer = store.ingest(wanted);
  writer.write("evil");
  const Error e = error_from([&] { writer.commit(); });
  EXPECT_EQ(e.kind(), ErrorCode::integrity);
  EXPECT_THAT(e.what(), testing::HasSubstr(wanted.string()));
  EXPECT_FALSE(store.has_blob(Digest::of(std::string_view("evil"))));
  EXPECT_EQ(ingest_files(dir.path()), 0u);
  EXPECT_TRUE(fs::is_empty(dir / "blobs/sha256"));
}

TEST(ImageStoreBlobs, SizeOverrunIsStoppedAtOnceAndShortContentAtCommit) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  auto writer = store.ingest(std::nullopt, 3);
  writer.write("ab");
  EXPECT_EQ(error_from([&] { writer.write("cd"); }).kind(), ErrorCode::integrity);
  EXPECT_EQ(ingest_files(dir.path()), 0u);
  auto short_writer = store.ingest(std::nullopt, 3);
  short_writer.write("ab");
  EXPECT_EQ(error_from([&] { short_writer.commit(); }).kind(), ErrorCode::integrity);
  EXPECT_TRUE(fs::is_empty(dir / "blobs/sha256"));
}

TEST(ImageStoreBlobs, AbortAndDestructionRemoveTheTemporaryFile) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  {
    auto writer = store.ingest();
    writer.write("partial");
    EXPECT_EQ(ingest_files(dir.path()), 1u);
  }
  EXPECT_EQ(ingest_files(dir.path()), 0u);
  auto writer = store.ingest();
  writer.write("partial");
  writer.abort();
  writer.abort();
  EXPECT_EQ(ingest_files(dir.path()), 0u);
  EXPECT_EQ(error_from([&] { writer.write("more"); }).kind(), ErrorCode::internal);
  auto moved = store.ingest();
  auto target = std::move(moved);
  target.write("x");
  EXPECT_EQ(target.commit(), Digest::of(std::string_view("x")));
}

// ---- names -----------------------------------------------------------------------------

TEST(ImageStoreNames, TagWritesTheFullNormalisedNameAndFindsIt) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto image = put_image(store, "a");
  store.tag(reference("alpine:3.20"), image.manifest);
  const auto index = Index::parse(slurp(dir / "index.json"));
  ASSERT_EQ(index.manifests.size(), 1u);
  EXPECT_EQ(index.manifests[0].annotations.at(std::string(knast::ref_name_annotation)), "docker.io/library/alpine:3.20");
  EXPECT_EQ(index.manifests[0].digest, image.manifest.digest);
  EXPECT_EQ(store.find(reference("docker.io/library/alpine:3.20"))->digest, image.manifest.digest);
  EXPECT_FALSE(store.find(reference("alpine:3.19")).has_value());
}

TEST(ImageStoreNames, RetagReplacesAndUntagRemoves) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto a = put_image(store, "a");
  const auto b = put_image(store, "b");
  store.tag(reference("x:1"), a.manifest);
  store.tag(reference("y:1"), a.manifest);
  store.tag(reference("x:1"), b.manifest);
  EXPECT_EQ(store.find(reference("x:1"))->digest, b.manifest.digest);
  EXPECT_EQ(Index::parse(slurp(dir / "index.json")).manifests.size(), 2u);
  store.untag(reference("x:1"));
  EXPECT_FALSE(store.find(reference("x:1")));
  EXPECT_TRUE(store.find(reference("y:1")));
  EXPECT_EQ(error_from([&] { store.untag(reference("x:1")); }).kind(), ErrorCode::not_found);
}

TEST(ImageStoreNames, TagOfAMissingTargetOrMissingLayerIsRefusedAndChangesNothing) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto image = put_image(store, "a");
  store.tag(reference("keep:1"), image.manifest);
  Descriptor absent = image.manifest;
  absent.digest = Digest::of(std::string_view("no such manifest"));
  const auto before = slurp(dir / "index.json");
  Error e = error_from([&] { store.tag(reference("x:1"), absent); });
  EXPECT_EQ(e.kind(), ErrorCode::not_found);
  EXPECT_THAT(e.what(), testing::HasSubstr(absent.digest.string()));
  EXPECT_THAT(e.what(), testing::HasSubstr("docker.io/library/x:1"));
  fs::remove(store.blob_path(image.layers[0].digest));
  e = error_from([&] { store.tag(reference("x:1"), image.manifest); });
  EXPECT_EQ(e.kind(), ErrorCode::not_found);
  EXPECT_THAT(e.what(), testing::HasSubstr(image.layers[0].digest.string()));
  EXPECT_EQ(slurp(dir / "index.json"), before);
  EXPECT_EQ(error_from([&] { store.tag(reference("x:1"), image.layers[0]); }).kind(), ErrorCode::invalid_argument);
}

TEST(ImageStoreNames, MalformedIndexJsonIsAClearErrorAndNotOverwritten) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto image = put_image(store, "a");
  spit(dir / "index.json", R"({"schemaVersion":2,"manifests":[{"digest":"nope"}]})");
  const auto before = slurp(dir / "index.json");
  const Error e = error_from([&] { store.tag(reference("x:1"), image.manifest); });
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), testing::HasSubstr("index.json"));
  EXPECT_EQ(error_from([&] { store.find(reference("x:1")); }).kind(), ErrorCode::invalid_argument);
  EXPECT_EQ(error_from([&] { store.list(); }).kind(), ErrorCode::invalid_argument);
  EXPECT_EQ(slurp(dir / "index.json"), before);
}

TEST(ImageStoreNames, ListReportsNamesPlatformsSizesAndCreation) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto a = put_image(store, "a", amd64);
  const auto b = put_image(store, "b", arm64);
  store.tag(reference("zeta:1"), a.manifest);
  store.tag(reference("multi:1"), put_index(store, {{a, amd64}, {b, arm64}}));
  const auto images = store.list();
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(images[0].name, "docker.io/library/multi:1");
  EXPECT_EQ(images[0].platforms, (std::vector<Platform>{amd64, arm64}));
  EXPECT_EQ(images[0].size, a.config.size + a.layers[0].size + b.config.size + b.layers[0].size);
  EXPECT_EQ(images[1].name, "docker.io/library/zeta:1");
  EXPECT_EQ(images[1].target.digest, a.manifest.digest);
  EXPECT_EQ(images[1].platforms, (std::vector<Platform>{amd64}));
  EXPECT_EQ(images[1].size, a.config.size + a.layers[0].size);
  EXPECT_EQ(images[1].created, "2024-05-01T12:00:00Z");
}

// ---- resolve ---------------------------------------------------------------------------

TEST(ImageStoreResolve, ByNameShortOrFull) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto image = put_image(store, "a");
  store.tag(reference("alpine:3.20"), image.manifest);
  for (const char* name : {"alpine:3.20", "docker.io/library/alpine:3.20", "library/alpine:3.20"}) {
    const auto resolved = store.resolve(name);
    EXPECT_EQ(resolved.name, "docker.io/library/alpine:3.20") << name;
    EXPECT_EQ(resolved.manifest_descriptor.digest, image.manifest.digest);
    EXPECT_FALSE(resolved.index.has_value());
    EXPECT_EQ(resolved.manifest.layers, image.layers);
    EXPECT_EQ(resolved.config.config.labels.at("marker"), "a");
  }
  const Error e = error_from([&] { store.resolve("alpine:3.19"); });
  EXPECT_EQ(e.kind(), ErrorCode::not_found);
  EXPECT_THAT(e.what(), testing::HasSubstr("alpine:3.19"));
}

TEST(ImageStoreResolve, ByDigestPrefixAndUntaggedDigest) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto a = put_image(store, "a");
  const auto b = put_image(store, "b");
  store.tag(reference("a:1"), a.manifest);
  const std::string hex = a.manifest.digest.hex();
  EXPECT_EQ(store.resolve(a.manifest.digest.string()).manifest_descriptor.digest, a.manifest.digest);
  EXPECT_EQ(store.resolve(hex.substr(0, 12)).manifest_descriptor.digest, a.manifest.digest);
  EXPECT_EQ(store.resolve("sha256:" + hex.substr(0, 12)).manifest_descriptor.digest, a.manifest.digest);
  EXPECT_EQ(store.resolve("a@" + a.manifest.digest.string()).manifest_descriptor.digest, a.manifest.digest);
  // Not named, but present: found by its full digest, not by a prefix.
  EXPECT_EQ(store.resolve(b.manifest.digest.string()).config.config.labels.at("marker"), "b");
  EXPECT_EQ(error_from([&] { store.resolve(b.manifest.digest.hex().substr(0, 12)); }).kind(), ErrorCode::not_found);
  EXPECT_EQ(error_from([&] { store.resolve(a.layers[0].digest.string()); }).kind(), ErrorCode::invalid_argument);
}

TEST(ImageStoreResolve, AnAmbiguousPrefixNamesTheCandidates) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  // Find two images whose manifest digests share a first hex digit.
  std::map<char, TestImage> by_first;
  for (int i = 0;; ++i) {
    auto image = put_image(store, "m" + std::to_string(i));
    store.tag(reference("m:" + std::to_string(i)), image.manifest);
    const char first = image.manifest.digest.hex()[0];
    if (by_first.count(first)) {
      const Error e = error_from([&] { store.resolve(std::string(1, first)); });
      EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
      EXPECT_THAT(e.what(), testing::HasSubstr(image.manifest.digest.string()));
      EXPECT_THAT(e.what(), testing::HasSubstr(by_first.at(first).manifest.digest.string()));
      break;
    }
    by_first.emplace(first, image);
  }
}

TEST(ImageStoreResolve, PicksThePlatformFromAnIndexAndListsThemWhenNoneMatches) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto a = put_image(store, "amd64", amd64);
  const auto b = put_image(store, "arm64", arm64);
  const auto c = put_image(store, "armv7", armv7);
  const auto index = put_index(store, {{a, amd64}, {b, arm64}, {c, armv7}});
  store.tag(reference("multi:1"), index);
  auto resolved = store.resolve("multi:1", arm64);
  EXPECT_EQ(resolved.manifest_descriptor.digest, b.manifest.digest);
  EXPECT_EQ(resolved.index->digest, index.digest);
  EXPECT_EQ(resolved.config.architecture, "arm64");
  EXPECT_EQ(store.resolve("multi:1", Platform::parse("linux/arm/v7")).config.config.labels.at("marker"), "armv7");
  EXPECT_EQ(store.resolve(index.digest.string(), amd64).manifest_descriptor.digest, a.manifest.digest);
  const Error e = error_from([&] { store.resolve("multi:1", Platform::parse("linux/riscv64")); });
  EXPECT_EQ(e.kind(), ErrorCode::not_found);
  EXPECT_THAT(e.what(), testing::HasSubstr("linux/riscv64"));
  EXPECT_THAT(e.what(), testing::HasSubstr("available: linux/amd64, linux/arm/v7, linux/arm64"));
  // A single manifest is checked only against a platform asked for.
  store.tag(reference("single:1"), a.manifest);
  EXPECT_EQ(store.resolve("single:1").config.architecture, "amd64");
  EXPECT_EQ(error_from([&] { store.resolve("single:1", arm64); }).kind(), ErrorCode::not_found);
}

TEST(ImageStoreResolve, FollowsNestedIndexes) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto a = put_image(store, "amd64", amd64);
  const auto b = put_image(store, "arm64", arm64);
  const auto inner = put_index(store, {{b, arm64}});
  knast::Index outer;
  Descriptor first = a.manifest;
  first.platform = amd64;
  outer.manifests = {first, inner};
  const auto top = store.put_blob(outer.to_json(), std::string(mt::oci_index));
  store.tag(reference("nested:1"), top);
  const auto resolved = store.resolve("nested:1", arm64);
  EXPECT_EQ(resolved.manifest_descriptor.digest, b.manifest.digest);
  EXPECT_EQ(resolved.index->digest, inner.digest);
}

TEST(ImageStoreResolve, CorruptOrMissingBlobsFailClearly) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto a = put_image(store, "a");
  const auto b = put_image(store, "b");
  store.tag(reference("a:1"), a.manifest);
  store.tag(reference("b:1"), b.manifest);
  spit(store.blob_path(a.config.digest), slurp(store.blob_path(b.config.digest)));  // wrong content
  Error e = error_from([&] { store.resolve("a:1"); });
  EXPECT_EQ(e.kind(), ErrorCode::integrity);
  EXPECT_THAT(e.what(), testing::HasSubstr(a.config.digest.string()));
  EXPECT_THAT(e.what(), testing::HasSubstr("resolve a:1 in store"));
  fs::remove(store.blob_path(b.config.digest));
  e = error_from([&] { store.resolve("b:1"); });
  EXPECT_EQ(e.kind(), ErrorCode::not_found);
  EXPECT_THAT(e.what(), testing::HasSubstr(b.config.digest.string()));
}

TEST(ImageStoreResolve, ReadsShortNamesWrittenByOtherTools) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto a = put_image(store, "a");
  Index index;
  Descriptor entry = a.manifest;
  entry.annotations[std::string(knast::ref_name_annotation)] = "latest";
  index.manifests.push_back(entry);
  spit(dir / "index.json", index.to_json());
  EXPECT_EQ(store.resolve("latest").name, "latest");
  EXPECT_EQ(store.list().at(0).name, "latest");
}

}  // namespace
