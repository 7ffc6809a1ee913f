// Registry::push against real registries: uploads in one request and in chunks, blobs the
// registry has skipped, cross-repository mounts, indexes, auth, progress and the errors
// of an incomplete source.
#include "registry_test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

namespace {

using namespace registry_test;
using knast::Credentials;
using knast::Digest;
using knast::Platform;
using knast::Progress;
using knast::PullOptions;
using knast::PushOptions;
using knast::Registry;
using knast::TransferState;
using ::testing::HasSubstr;
using ::testing::StartsWith;

/// Two registries: "origin" holds the images (pushed by skopeo); "other" starts empty.
/// A store holds both images, pulled from origin.
class RegistryPush : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    images_ = std::make_unique<kt::TempDir>("knast-push-images-");
    origin_ = std::make_unique<kt::RegistryServer>();
    const kt::Json layers = kt::Json::array(
        {kt::Json::array({kt::Json{{"path", "data/r"}, {"random", 300 * 1024}, {"seed", 3}}}),
         kt::Json::array({kt::Json{{"path", "etc/x"}, {"content", "x\n"}}})});
    single_ = kt::make_image(images_->path() / "single", kt::Json{{"tag", "1.0"}, {"layers", layers}});
    multi_ = kt::make_multiplatform_image(images_->path() / "multi");
    kt::push_image(single_, *origin_, "src/single:1.0");
    kt::push_image(multi_, *origin_, "src/multi:latest");
  }
  static void TearDownTestSuite() {
    origin_.reset();
    images_.reset();
  }
  void SetUp() override {
    Registry registry(fast_options());
    registry.pull(single_source(), s.store);
    PullOptions all;
    all.all_platforms = true;
    registry.pull(multi_source(), s.store, all);
  }

  static Reference single_source() { return ref(origin_->host(), "src/single:1.0"); }
  static Reference multi_source() { return ref(origin_->host(), "src/multi:latest"); }
  static std::size_t blob_count(const kt::TestImage& image) { return image.layers.size() + 1; }

  ScratchStore s;
  static std::unique_ptr<kt::TempDir> images_;
  static std::unique_ptr<kt::RegistryServer> origin_;
  static kt::TestImage single_;
  static kt::TestImage multi_;
};

std::unique_ptr<kt::TempDir> RegistryPush::images_;
std::unique_ptr<kt::RegistryServer> RegistryPush::origin_;
kt::TestImage RegistryPush::single_;
kt::TestImage RegistryPush::multi_;

TEST_F(RegistryPush, UploadsToAnotherRegistryAndReadsBack) {
  kt::RegistryServer other;
  Registry registry(fast_options());
  const Reference destination = ref(other.host(), "copy/single:2");
  const auto result = registry.push(s.store, single_source(), destination);
  EXPECT_EQ(result.reference, destination);
  EXPECT_EQ(result.target.digest.string(), single_.digest);
  EXPECT_EQ(result.blobs_uploaded, blob_count(single_));
  EXPECT_EQ(result.blobs_mounted, 0u);
  EXPECT_EQ(result.blobs_skipped, 0u);
  EXPECT_GT(result.bytes_uploaded, 300u * 1024);
  EXPECT_EQ(registry.resolve(destination).descriptor.digest.string(), single_.digest);
  ScratchStore back;
  registry.pull(destination, back.store);
  expect_blobs_intact(back.store, single_);

  const auto again = registry.push(s.store, single_source(), destination);
  EXPECT_EQ(again.blobs_skipped, blob_count(single_));
  EXPECT_EQ(again.blobs_uploaded, 0u);
  EXPECT_EQ(again.bytes_uploaded, 0u);
}

TEST_F(RegistryPush, ChunkedUpload) {
  kt::RegistryServer other;
  Registry registry(fast_options());
  PushOptions options;
  options.chunk_size = 64 * 1024;  // the 300 KiB layer goes in five PATCHes
  const Reference destination = ref(other.host(), "chunked/single:1");
  const auto result = registry.push(s.store, single_source(), destination, options);
  EXPECT_EQ(result.blobs_uploaded, blob_count(single_));
  ScratchStore back;
  registry.pull(destination, back.store);
  expect_blobs_intact(back.store, single_);
}

TEST_F(RegistryPush, SameRegistryMountsFromTheSourceRepository) {
  Registry registry(fast_options());
  const Reference destination = ref(origin_->host(), "dst/single:1");
  const auto result = registry.push(s.store, single_source(), destination);
  EXPECT_EQ(result.blobs_mounted, blob_count(single_));
  EXPECT_EQ(result.blobs_uploaded, 0u);
  EXPECT_EQ(result.bytes_uploaded, 0u);
  EXPECT_EQ(registry.resolve(destination).descriptor.digest.string(), single_.digest);

  PushOptions no_mount;
  no_mount.mount = false;
  const auto uploaded = registry.push(s.store, single_source(), ref(origin_->host(), "dst/other:1"), no_mount);
  EXPECT_EQ(uploaded.blobs_mounted, 0u);
  EXPECT_EQ(uploaded.blobs_uploaded, blob_count(single_));
}

TEST_F(RegistryPush, WholeIndex) {
  kt::RegistryServer other;
  Registry registry(fast_options());
  const Reference destination = ref(other.host(), "copy/multi:latest");
  const auto result = registry.push(s.store, multi_source(), destination);
  EXPECT_EQ(result.target.digest.string(), multi_.digest);
  EXPECT_EQ(result.target.media_type, knast::media_type::oci_index);
  EXPECT_EQ(result.blobs_uploaded, multi_.layers.size() + 2);  // shared layers, two configs
  const auto resolved = registry.resolve(destination);
  EXPECT_EQ(resolved.descriptor.digest.string(), multi_.digest);
  for (const auto& m : multi_.description.at("manifests"))
    EXPECT_EQ(registry.head(ref(other.host(), "copy/multi@" + m.at("digest").get<std::string>())).digest.string(),
              m.at("digest").get<std::string>());
}

TEST_F(RegistryPush, OnePlatformOfAnIndex) {
  kt::RegistryServer other;
  Registry registry(fast_options());
  PushOptions options;
  options.platform = Platform::parse("linux/arm64");
  const Reference destination = ref(other.host(), "copy/arm:1");
  const auto result = registry.push(s.store, multi_source(), destination, options);
  EXPECT_EQ(result.target.media_type, knast::media_type::oci_manifest);
  const auto manifest = knast::Manifest::parse(registry.resolve(destination).bytes);
  const auto config = knast::ImageConfig::parse(s.store.read_blob(manifest.config.digest, 1 << 20));
  EXPECT_EQ(config.architecture, "arm64");
}

TEST_F(RegistryPush, IncompleteIndexIsRefusedBeforeAnyUpload) {
  kt::RegistryServer other;
  // What a single-platform pull leaves: the index and one platform's manifest only.
  std::string arm64;
  for (const auto& m : multi_.description.at("manifests"))
    if (m.at("platform").at("architecture") == "arm64") arm64 = m.at("digest").get<std::string>();
  ASSERT_TRUE(std::filesystem::remove(s.store.blob_path(Digest::parse(arm64))));
  Registry registry(fast_options());
  const Error e = error_from([&] { registry.push(s.store, multi_source(), ref(other.host(), "x/y:1")); });
  EXPECT_EQ(e.kind(), ErrorCode::not_found);
  EXPECT_THAT(e.what(), HasSubstr(arm64 + " (linux/arm64), which is not in the store"));
  EXPECT_EQ(error_from([&] { registry.tags(ref(other.host(), "x/y")); }).kind(), ErrorCode::not_found)
      << "nothing was uploaded";
  // One platform of it can still go.
  PushOptions amd64;
  amd64.platform = Platform::parse("linux/amd64");
  registry.push(s.store, multi_source(), ref(other.host(), "x/y:1"), amd64);
}

TEST_F(RegistryPush, MissingSourceAndWrongDigestDestination) {
  kt::RegistryServer other;
  Registry registry(fast_options());
  Error e = error_from([&] { registry.push(s.store, ref(origin_->host(), "src/absent:1"), ref(other.host(), "a/b:1")); });
  EXPECT_EQ(e.kind(), ErrorCode::not_found);
  EXPECT_THAT(e.what(), StartsWith("push " + origin_->host() + "/src/absent:1 to " + other.host() + "/a/b:1: no image named"));
  const std::string wrong = Digest::of(std::string_view("other")).string();
  e = error_from([&] { registry.push(s.store, single_source(), ref(other.host(), "a/b@" + wrong)); });
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  // By its own digest it goes.
  const auto result = registry.push(s.store, single_source(), ref(other.host(), "a/b@" + single_.digest));
  EXPECT_EQ(result.target.digest.string(), single_.digest);
}

TEST_F(RegistryPush, ProgressAndCancel) {
  kt::RegistryServer other;
  Registry registry(fast_options());
  std::vector<Progress> reports;
  PushOptions options;
  options.progress = [&](const Progress& p) {
    reports.push_back(p);
    return true;
  };
  registry.push(s.store, single_source(), ref(other.host(), "p/q:1"), options);
  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports.back().blobs_done, blob_count(single_));
  EXPECT_EQ(reports.back().total_bytes_done, reports.back().total_bytes);

  options.progress = [](const Progress&) { return false; };
  const Error e = error_from([&] { registry.push(s.store, single_source(), ref(other.host(), "p/r:1"), options); });
  EXPECT_EQ(e.kind(), ErrorCode::cancelled);
  EXPECT_EQ(error_from([&] { registry.resolve(ref(other.host(), "p/r:1")); }).kind(), ErrorCode::not_found);
}

TEST(RegistryPushAuth, TokenScopesDecideWhoMayPush) {
  kt::TempDir images("knast-push-auth-");
  kt::RegistryServer registry_server({.auth = kt::RegistryAuth::token,
                                      .users = {"alice:secret", "reader:only:pull"}});
  const kt::TestImage image = kt::make_image(images.path() / "i", kt::Json{{"tag", "1"}});
  kt::push_image(image, registry_server, "src/i:1");
  const Reference source = ref(registry_server.host(), "src/i:1");

  knast::RegistryOptions alice = fast_options();
  alice.credentials[registry_server.host()] = Credentials{"alice", "secret", ""};
  Registry as_alice(alice);
  ScratchStore s;
  as_alice.pull(source, s.store);
  const auto pushed = as_alice.push(s.store, source, ref(registry_server.host(), "dst/i:1"));
  EXPECT_EQ(pushed.blobs_mounted, image.layers.size() + 1);

  knast::RegistryOptions reader = fast_options();
  reader.credentials[registry_server.host()] = Credentials{"reader", "only", ""};
  Registry as_reader(reader);
  const Error e = error_from([&] { as_reader.push(s.store, source, ref(registry_server.host(), "dst/j:1")); });
  EXPECT_EQ(e.kind(), ErrorCode::auth) << e.what();
  EXPECT_THAT(e.what(), HasSubstr("repository:dst/j:pull,push"));
}

}  // namespace
