// Registry against a real distribution registry (docker-registry 2.8 on 127.0.0.1): resolve,
// head, pull by tag and digest into an ImageStore, platform choice from an index, progress
// and cancellation, memory that stays flat while a large layer streams.
#include "registry_test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <set>

namespace {

using namespace registry_test;
using knast::Descriptor;
using knast::Digest;
using knast::Platform;
using knast::Progress;
using knast::PullOptions;
using knast::Registry;
using knast::TransferState;
using ::testing::HasSubstr;
using ::testing::StartsWith;

/// One registry for the suite, holding a single-platform and a two-platform image.
class RegistryPull : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    images_ = std::make_unique<kt::TempDir>("knast-pull-images-");
    registry_ = std::make_unique<kt::RegistryServer>();
    single_ = kt::make_image(images_->path() / "single", kt::Json{{"tag", "1.0"}});
    multi_ = kt::make_multiplatform_image(images_->path() / "multi");
    kt::push_image(single_, *registry_, "test/single:1.0");
    kt::push_image(multi_, *registry_, "test/multi:latest");
  }
  static void TearDownTestSuite() {
    registry_.reset();
    images_.reset();
  }

  static std::string host() { return registry_->host(); }
  static Reference single_ref() { return ref(host(), "test/single:1.0"); }
  static Reference multi_ref() { return ref(host(), "test/multi:latest"); }

  static std::unique_ptr<kt::TempDir> images_;
  static std::unique_ptr<kt::RegistryServer> registry_;
  static kt::TestImage single_;
  static kt::TestImage multi_;
};

std::unique_ptr<kt::TempDir> RegistryPull::images_;
std::unique_ptr<kt::RegistryServer> RegistryPull::registry_;
kt::TestImage RegistryPull::single_;
kt::TestImage RegistryPull::multi_;

TEST_F(RegistryPull, ResolveReturnsTheManifestAsServed) {
  Registry registry(fast_options());
  const auto resolved = registry.resolve(single_ref());
  EXPECT_EQ(resolved.descriptor.digest.string(), single_.digest);
  EXPECT_EQ(resolved.descriptor.media_type, single_.media_type);
  EXPECT_EQ(resolved.descriptor.size, static_cast<std::int64_t>(resolved.bytes.size()));
  EXPECT_EQ(Digest::of(resolved.bytes).string(), single_.digest);
  EXPECT_EQ(knast::Manifest::parse(resolved.bytes).layers.size(), single_.layers.size());
}

TEST_F(RegistryPull, HeadGivesTheSameDescriptorWithoutTheBody) {
  Registry registry(fast_options());
  const Descriptor by_tag = registry.head(single_ref());
  EXPECT_EQ(by_tag.digest.string(), single_.digest);
  EXPECT_EQ(by_tag.media_type, single_.media_type);
  EXPECT_EQ(by_tag, registry.resolve(single_ref()).descriptor);
  const Descriptor by_digest = registry.head(ref(host(), "test/single@" + single_.digest));
  EXPECT_EQ(by_digest, by_tag);
  const Descriptor index = registry.head(multi_ref());
  EXPECT_EQ(index.media_type, knast::media_type::oci_index);
  EXPECT_EQ(index.digest.string(), multi_.digest);
}

TEST_F(RegistryPull, ResolveByDigestChecksTheDigest) {
  Registry registry(fast_options());
  EXPECT_EQ(registry.resolve(ref(host(), "test/single@" + single_.digest)).descriptor.digest.string(), single_.digest);
  // A digest the registry does not have.
  const std::string absent = Digest::of(std::string_view("absent")).string();
  const Error e = error_from([&] { registry.resolve(ref(host(), "test/single@" + absent)); });
  EXPECT_EQ(e.kind(), ErrorCode::not_found);
  EXPECT_THAT(e.what(), StartsWith("resolve " + host() + "/test/single@" + absent + ": manifest " + absent));
  EXPECT_THAT(e.what(), HasSubstr("HTTP 404"));
}

TEST_F(RegistryPull, UnknownTagIsNotFoundAndSaysWhat) {
  Registry registry(fast_options());
  ScratchStore s;
  const Error e = error_from([&] { registry.pull(ref(host(), "test/single:nope"), s.store); });
  EXPECT_EQ(e.kind(), ErrorCode::not_found);
  EXPECT_THAT(e.what(), StartsWith("pull " + host() + "/test/single:nope: manifest nope: HTTP 404"));
  EXPECT_THAT(e.what(), HasSubstr("MANIFEST_UNKNOWN"));
  EXPECT_TRUE(s.store.list().empty());
}

TEST_F(RegistryPull, PullByTagStoresEverythingAndTags) {
  Registry registry(fast_options());
  ScratchStore s;
  const auto result = registry.pull(single_ref(), s.store);
  EXPECT_EQ(result.reference, single_ref());
  EXPECT_EQ(result.target.digest.string(), single_.digest);
  ASSERT_EQ(result.manifests.size(), 1u);
  EXPECT_EQ(result.manifests[0], result.target);
  EXPECT_EQ(result.blobs_downloaded, single_.layers.size() + 1);
  EXPECT_EQ(result.blobs_skipped, 0u);
  std::uint64_t expected_bytes = 0;
  for (const auto& [digest, size] : single_.description.at("blobs").items()) {
    EXPECT_TRUE(s.store.has_blob(Digest::parse(digest))) << digest;
    if (digest != single_.digest) expected_bytes += size.get<std::uint64_t>();
  }
  EXPECT_EQ(result.bytes_downloaded, expected_bytes);
  const auto found = s.store.find(single_ref());
  ASSERT_TRUE(found);
  EXPECT_EQ(found->digest, result.target.digest);
  const auto image = s.store.resolve(single_ref().string());
  EXPECT_EQ(image.manifest.layers.size(), single_.layers.size());
  expect_blobs_intact(s.store, single_);
}

TEST_F(RegistryPull, SecondPullSkipsWhatIsThere) {
  Registry registry(fast_options());
  ScratchStore s;
  registry.pull(single_ref(), s.store);
  const auto again = registry.pull(single_ref(), s.store);
  EXPECT_EQ(again.blobs_downloaded, 0u);
  EXPECT_EQ(again.blobs_skipped, single_.layers.size() + 1);
  EXPECT_EQ(again.bytes_downloaded, 0u);
}

TEST_F(RegistryPull, PullByDigestTagsTheDigestReference) {
  Registry registry(fast_options());
  ScratchStore s;
  const Reference by_digest = ref(host(), "test/single@" + single_.digest);
  const auto result = registry.pull(by_digest, s.store);
  EXPECT_EQ(result.target.digest.string(), single_.digest);
  EXPECT_TRUE(s.store.find(by_digest));
}

/// The digest of @p image's manifest for @p platform.
std::string manifest_for(const kt::TestImage& image, const std::string& platform) {
  for (const auto& m : image.description.at("manifests")) {
    const auto& p = m.at("platform");
    if (p.at("os").get<std::string>() + "/" + p.at("architecture").get<std::string>() == platform)
      return m.at("digest").get<std::string>();
  }
  ADD_FAILURE() << "no manifest for " << platform;
  return {};
}

TEST_F(RegistryPull, IndexPullTakesTheAskedPlatform) {
  Registry registry(fast_options());
  ScratchStore s;
  PullOptions options;
  options.platform = Platform::parse("linux/arm64");
  const std::string arm64 = manifest_for(multi_, "linux/arm64"), amd64 = manifest_for(multi_, "linux/amd64");
  const auto result = registry.pull(multi_ref(), s.store, options);
  ASSERT_EQ(result.manifests.size(), 1u);
  EXPECT_EQ(result.manifests[0].digest.string(), arm64);
  // The index and the arm64 image only are stored.
  EXPECT_TRUE(s.store.has_blob(Digest::parse(multi_.digest)));
  EXPECT_TRUE(s.store.has_blob(Digest::parse(arm64)));
  EXPECT_FALSE(s.store.has_blob(Digest::parse(amd64)));
  // The name is the index where the store takes a partial one, else the manifest pulled.
  EXPECT_THAT(result.target.digest.string(), ::testing::AnyOf(multi_.digest, arm64));
  EXPECT_EQ(s.store.find(multi_ref())->digest, result.target.digest);
  EXPECT_EQ(s.store.resolve(multi_ref().string(), Platform::parse("linux/arm64")).manifest_descriptor.digest.string(),
            arm64);
}

TEST_F(RegistryPull, LinuxImageOnAnyHostWhenAskedFor) {
  Registry registry(fast_options());
  ScratchStore s;
  PullOptions options;
  options.platform = Platform::parse("linux/amd64");
  registry.pull(multi_ref(), s.store, options);
  const auto config = s.store.resolve(multi_ref().string(), Platform::parse("linux/amd64")).config;
  EXPECT_EQ(config.os, "linux");
  EXPECT_EQ(config.architecture, "amd64");
  EXPECT_FALSE(s.store.has_blob(Digest::parse(manifest_for(multi_, "linux/arm64"))));
}

TEST_F(RegistryPull, AllPlatforms) {
  Registry registry(fast_options());
  ScratchStore s;
  PullOptions options;
  options.all_platforms = true;
  const auto result = registry.pull(multi_ref(), s.store, options);
  EXPECT_EQ(result.manifests.size(), 2u);
  for (const auto& m : multi_.description.at("manifests")) {
    EXPECT_TRUE(s.store.has_blob(Digest::parse(m.at("digest").get<std::string>())));
    EXPECT_TRUE(s.store.has_blob(Digest::parse(m.at("config").get<std::string>())));
  }
  // The platforms share their layers: each downloaded once.
  EXPECT_EQ(result.blobs_downloaded, multi_.layers.size() + 2);
  expect_blobs_intact(s.store, multi_);
}

TEST_F(RegistryPull, DockerSchema2ListAndManifests) {
  const std::string digest = kt::push_image(multi_, *registry_, "test/docker:latest", kt::PushFormat::docker_schema2);
  const Reference name = ref(host(), "test/docker:latest");
  Registry registry(fast_options());
  EXPECT_EQ(registry.head(name).media_type, knast::media_type::docker_manifest_list);
  ScratchStore s;
  PullOptions options;
  options.all_platforms = true;
  const auto result = registry.pull(name, s.store, options);
  EXPECT_EQ(result.target.digest.string(), digest);
  EXPECT_EQ(result.target.media_type, knast::media_type::docker_manifest_list);
  ASSERT_EQ(result.manifests.size(), 2u);
  for (const auto& m : result.manifests) EXPECT_EQ(m.media_type, knast::media_type::docker_manifest);
  EXPECT_EQ(s.store.find(name)->digest.string(), digest);
}

TEST_F(RegistryPull, NoMatchingPlatformListsWhatThereIs) {
  Registry registry(fast_options());
  ScratchStore s;
  PullOptions options;
  options.platform = Platform::parse("freebsd/amd64");
  const Error e = error_from([&] { registry.pull(multi_ref(), s.store, options); });
  EXPECT_EQ(e.kind(), ErrorCode::not_found);
  EXPECT_THAT(e.what(), HasSubstr("freebsd/amd64"));
  EXPECT_THAT(e.what(), HasSubstr("available: linux/amd64, linux/arm64"));
  EXPECT_THAT(e.what(), StartsWith("pull " + multi_ref().string()));
  EXPECT_FALSE(s.store.find(multi_ref()));
}

TEST_F(RegistryPull, ProgressReportsEveryBlobOnTheCallingThread) {
  Registry registry(fast_options());
  ScratchStore s;
  const auto caller = std::this_thread::get_id();
  std::vector<Progress> reports;
  PullOptions options;
  options.jobs = 2;
  options.progress = [&](const Progress& p) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    reports.push_back(p);
    return true;
  };
  registry.pull(single_ref(), s.store, options);
  ASSERT_FALSE(reports.empty());
  std::set<std::string> done;
  for (const auto& p : reports) {
    EXPECT_LE(p.bytes_done, p.bytes_total);
    EXPECT_LE(p.total_bytes_done, p.total_bytes);
    EXPECT_EQ(p.blobs_total, single_.layers.size() + 1);
    if (p.state == TransferState::done) done.insert(p.digest.string());
  }
  EXPECT_EQ(done.size(), single_.layers.size() + 1);
  const Progress& last = reports.back();
  EXPECT_EQ(last.blobs_done, last.blobs_total);
  EXPECT_EQ(last.total_bytes_done, last.total_bytes);

  // Pulled again: every blob is reported skipped.
  reports.clear();
  registry.pull(single_ref(), s.store, options);
  ASSERT_EQ(reports.size(), single_.layers.size() + 1);
  for (const auto& p : reports) EXPECT_EQ(p.state, TransferState::skipped);
}

TEST_F(RegistryPull, CancelledFromTheCallbackTagsNothing) {
  Registry registry(fast_options());
  ScratchStore s;
  PullOptions options;
  options.progress = [](const Progress&) { return false; };
  const Error e = error_from([&] { registry.pull(single_ref(), s.store, options); });
  EXPECT_EQ(e.kind(), ErrorCode::cancelled);
  EXPECT_THAT(e.what(), StartsWith("pull " + single_ref().string()));
  EXPECT_FALSE(s.store.find(single_ref()));
  EXPECT_FALSE(s.store.has_blob(Digest::parse(single_.digest)));
}

TEST_F(RegistryPull, ExceptionFromTheCallbackComesThrough) {
  Registry registry(fast_options());
  ScratchStore s;
  PullOptions options;
  options.progress = [](const Progress&) -> bool { throw std::runtime_error("callback broke"); };
  EXPECT_THROW(registry.pull(single_ref(), s.store, options), std::runtime_error);
  EXPECT_FALSE(s.store.find(single_ref()));
}

TEST_F(RegistryPull, LargeLayerStreamsInFlatMemory) {
  // 48 MiB of incompressible data in one layer: buffering it anywhere would show.
  constexpr std::uint64_t layer_bytes = 48u << 20;
  const kt::TestImage big = kt::make_image(
      images_->path() / "big",
      kt::Json{{"tag", "big"}, {"layers", {{{{"path", "data/big"}, {"random", layer_bytes}, {"seed", 7}}}}}});
  kt::push_image(big, *registry_, "test/big:big");

  Registry registry(fast_options());
  ScratchStore s;
  const std::uint64_t before = resident_bytes();
  std::uint64_t peak = before;
  PullOptions options;
  options.progress = [&](const Progress&) {
    peak = std::max(peak, resident_bytes());
    return true;
  };
  const auto result = registry.pull(ref(host(), "test/big:big"), s.store, options);
  peak = std::max(peak, resident_bytes());
  EXPECT_GT(result.bytes_downloaded, layer_bytes);
  EXPECT_LT(peak - before, 16u << 20) << "resident memory grew by " << (peak - before) / 1024 << " KiB";
}

}  // namespace
