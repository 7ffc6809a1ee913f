// pull_and_unpack() against a real registry (docker-registry on 127.0.0.1, images pushed
// with skopeo): the image ends up in the store and its chain in the cache; a failure of
// either half leaves no chain and no build behind and reports the real cause.
#include "registry_test_support.hpp"
#include "rootfs_snap_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace registry_test;
using knast::Rootfs;
using knast::StateLayout;
namespace fs = std::filesystem;

class RootfsPipeline : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    images_ = std::make_unique<kt::TempDir>("knast-pipeline-images-");
    registry_ = std::make_unique<kt::RegistryServer>();
    const kt::Json layers = kt::Json::array({
        kt::Json::array({{{"path", "bin/busybox"}, {"source", "/bin/busybox"}}, {{"path", "bin/sh"}, {"symlink", "busybox"}}}),
        kt::Json::array({{{"path", "data/random"}, {"random", 1 << 20}, {"seed", 3}}}),
        kt::Json::array({{{"path", "etc/motd"}, {"content", "hello\n"}}, {{"path", "var/empty"}, {"dir", true}}}),
    });
    image_ = kt::make_image(images_->path() / "three", kt::Json{{"tag", "1"}, {"layers", layers}});
    kt::push_image(image_, *registry_, "test/three:1");
    const kt::Json hostile = kt::Json::array({
        kt::Json::array({{{"path", "etc/ok"}, {"content", "fine\n"}}}),
        kt::Json::array({{{"path", "../../escape"}, {"content", "out\n"}}}),
    });
    bad_ = kt::make_image(images_->path() / "hostile", kt::Json{{"tag", "1"}, {"layers", hostile}});
    kt::push_image(bad_, *registry_, "test/hostile:1");
  }
  static void TearDownTestSuite() {
    registry_.reset();
    images_.reset();
  }

  Reference ref(const std::string& repository) const { return Reference::parse(registry_->reference(repository)); }
  bool nothing_unpacked() const {
    return Rootfs::open(layout).list().empty() && fs::is_empty(layout.rootfs() / "tmp");
  }

  kt::TempDir dir{"knast-pipeline-"};
  StateLayout layout{dir.path() / "state"};
  knast::ImageStore store = knast::ImageStore::open(layout.store());
  knast::Registry registry{fast_options()};

  static std::unique_ptr<kt::TempDir> images_;
  static std::unique_ptr<kt::RegistryServer> registry_;
  static kt::TestImage image_;
  static kt::TestImage bad_;
};

std::unique_ptr<kt::TempDir> RootfsPipeline::images_;
std::unique_ptr<kt::RegistryServer> RootfsPipeline::registry_;
kt::TestImage RootfsPipeline::image_;
kt::TestImage RootfsPipeline::bad_;

TEST_F(RootfsPipeline, PullsAndUnpacksInOneGo) {
  Rootfs rootfs = Rootfs::open(layout);
  std::vector<std::size_t> applied;
  knast::UnpackOptions unpack;
  unpack.progress = [&](std::size_t i, std::size_t, const knast::Digest&, bool cached) {
    EXPECT_FALSE(cached);
    applied.push_back(i);
  };
  const auto result = knast::pull_and_unpack(registry, ref("test/three:1"), store, rootfs, {}, unpack);
  EXPECT_EQ(result.pull.blobs_downloaded, 4u);
  EXPECT_EQ(result.unpack.layers_applied, 3u);
  EXPECT_EQ(applied, (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_TRUE(store.find(ref("test/three:1")));
  const auto files = rootfs_test::tree(result.unpack.chain.path);
  EXPECT_THAT(files.at("bin/sh"), ::testing::HasSubstr("symlink -> busybox"));
  EXPECT_THAT(files.at("data/random"), ::testing::HasSubstr("size=1048576"));
  EXPECT_THAT(files.at("etc/motd"), ::testing::HasSubstr("size=6"));
  EXPECT_TRUE(fs::is_empty(layout.rootfs() / "tmp"));

  // The same as pull, then unpack, in another state root.
  kt::TempDir other("knast-pipeline-other-");
  knast::ImageStore other_store = knast::ImageStore::open(other.path() / "store");
  registry.pull(ref("test/three:1"), other_store);
  Rootfs other_rootfs = Rootfs::open(StateLayout(other.path()));
  const auto unpacked = other_rootfs.unpack(other_store, ref("test/three:1").string());
  EXPECT_EQ(unpacked.chain.chain_id, result.unpack.chain.chain_id);
  EXPECT_EQ(rootfs_test::tree(unpacked.chain.path), files);

  // Again: nothing downloaded, nothing applied.
  const auto again = knast::pull_and_unpack(registry, ref("test/three:1"), store, rootfs);
  EXPECT_EQ(again.pull.blobs_downloaded, 0u);
  EXPECT_TRUE(again.unpack.reused);
}

TEST_F(RootfsPipeline, ARefusedLayerCancelsThePullAndIsTheErrorReported) {
  Rootfs rootfs = Rootfs::open(layout);
  const Error e = error_from([&] { knast::pull_and_unpack(registry, ref("test/hostile:1"), store, rootfs); });
  EXPECT_NE(e.kind(), ErrorCode::cancelled) << e.what();
  EXPECT_THAT(e.what(), ::testing::HasSubstr("layer 2 of 2"));
  EXPECT_TRUE(nothing_unpacked());
  EXPECT_FALSE(fs::exists(dir.path() / "escape"));
  EXPECT_FALSE(fs::exists(layout.rootfs() / "escape"));
}

TEST_F(RootfsPipeline, AFailedPullLeavesNoChain) {
  kt::FaultServer faults;
  Rootfs rootfs = Rootfs::open(layout);
  const Error e = error_from([&] {
    knast::pull_and_unpack(registry, Reference::parse(faults.reference("corrupt-blob/image:latest")), store, rootfs);
  });
  EXPECT_EQ(e.kind(), ErrorCode::integrity) << e.what();
  EXPECT_TRUE(nothing_unpacked());
}

TEST_F(RootfsPipeline, TheCallersCallbackCanCancel) {
  Rootfs rootfs = Rootfs::open(layout);
  knast::PullOptions pull;
  pull.progress = [](const knast::Progress&) { return false; };
  const Error e = error_from([&] { knast::pull_and_unpack(registry, ref("test/three:1"), store, rootfs, pull); });
  EXPECT_EQ(e.kind(), ErrorCode::cancelled) << e.what();
  EXPECT_TRUE(nothing_unpacked());
}

}  // namespace
