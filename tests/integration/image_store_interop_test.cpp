// The store is an OCI image layout that Debian's skopeo and umoci read and write.
//
// How the tools address an image, found with skopeo 1.9 and umoci 0.4.7 (and their
// sources: containers/image oci/layout and umoci's casext):
// - Both split "PATH:NAME" at the FIRST colon, so the store path must not contain ':',
//   while the name may contain ':', '/' and '@' ("oci:/s:localhost:5000/a/b:1@sha256:…"
//   works).
// - Both accept only names that match the ref.name grammar of the OCI image-layout spec:
//   components of [A-Za-z0-9]+ joined by one of - . _ : @ + or "--", separated by '/'.
//   Docker references outside it — "__" or "---" in a path ("a__b"), a tag starting
//   with '_' or '.', a tag with "..", "_-" or a trailing '.', and IPv6 domains
//   ("[::1]:5000") — are valid for knast and stored as they are, but neither tool can
//   name them on its command line (skopeo: "Invalid image …"; umoci: "invalid tag").
//   Both still list or skip them and work with the other names of the same store.
#include "image_store_test_support.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace {

using namespace store_test;
using knast::Index;
using Json = nlohmann::json;

const char* const skopeo = "skopeo --insecure-policy";  // no policy.json on a test machine

bool have_tools() { return run("skopeo --version") == 0 && run("umoci --version") == 0; }

class ImageStoreInterop : public testing::Test {
 protected:
  void SetUp() override {
    if (!have_tools()) GTEST_SKIP() << "skopeo and umoci are needed (tools/setup installs them)";
  }

  /// A busybox image (with a marker file) named @p name in a knast store at @p root.
  TestImage put_busybox(const fs::path& root, const std::string& name) {
    auto store = ImageStore::open(root);
    std::vector<std::pair<std::string, std::string>> files;
    if (fs::exists("/bin/busybox")) files.emplace_back("bin/busybox", slurp("/bin/busybox"));
    const auto image = put_image(store, "from-knast", Platform{"linux", "amd64", "", "", {}}, files);
    store.tag(reference(name), image.manifest);
    return image;
  }

  TempDir dir;
};

/// Runs @p command, expecting it to succeed; its output.
std::string checked(const std::string& command) {
  std::string output;
  EXPECT_EQ(run(command, &output), 0) << command << "\n" << output;
  return output;
}

TEST_F(ImageStoreInterop, SkopeoReadsAKnastStoreByFullName) {
  const auto store = dir / "store";
  const auto image = put_busybox(store, "docker.io/library/busybox:1.35");
  const auto info = Json::parse(checked(fmt::format("{} inspect oci:{}:docker.io/library/busybox:1.35", skopeo, store.string())));
  EXPECT_EQ(info["Digest"], image.manifest.digest.string());
  EXPECT_EQ(info["Architecture"], "amd64");
  EXPECT_EQ(info["Os"], "linux");
  EXPECT_EQ(info["Layers"], Json::array({image.layers[0].digest.string()}));
  EXPECT_EQ(info["Labels"]["marker"], "from-knast");
  checked(fmt::format("{} copy -q oci:{}:docker.io/library/busybox:1.35 dir:{}", skopeo, store.string(), (dir / "d").string()));
  EXPECT_EQ(slurp(dir / "d" / image.layers[0].digest.hex()), slurp(store / ("blobs/sha256/" + image.layers[0].digest.hex())));
}

TEST_F(ImageStoreInterop, SkopeoCopiesIntoAStoreKnastReads) {
  const auto store = dir / "store";
  const auto image = put_busybox(store, "docker.io/library/busybox:1.35");
  const auto out = dir / "out";
  checked(fmt::format("{} copy -q oci:{}:docker.io/library/busybox:1.35 oci:{}:docker.io/library/copied:2", skopeo,
                      store.string(), out.string()));
  checked(fmt::format("{} copy -q oci:{}:docker.io/library/busybox:1.35 oci:{}:latest", skopeo, store.string(), out.string()));
  auto copied = ImageStore::open(out, ImageStore::OpenMode::must_exist);
  const auto resolved = copied.resolve("copied:2");
  EXPECT_EQ(resolved.name, "docker.io/library/copied:2");
  EXPECT_EQ(resolved.manifest.layers.at(0).digest, image.layers[0].digest);
  EXPECT_EQ(resolved.config.config.labels.at("marker"), "from-knast");
  EXPECT_EQ(copied.resolve("latest").manifest_descriptor.digest, resolved.manifest_descriptor.digest);
  const auto images = copied.list();
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(images[0].name, "docker.io/library/copied:2");
  EXPECT_EQ(images[1].name, "latest");  // short names as skopeo wrote them
  EXPECT_TRUE(copied.verify().ok());
  EXPECT_TRUE(copied.collect_garbage().removed.empty());
}

TEST_F(ImageStoreInterop, UmociListsStatsAndUnpacksAKnastStore) {
  const auto store = dir / "store";
  put_busybox(store, "docker.io/library/busybox:1.35");
  put_busybox(store, "localhost:5000/team/app:1.2");
  EXPECT_EQ(checked(fmt::format("umoci ls --layout {}", store.string())),
            "docker.io/library/busybox:1.35\nlocalhost:5000/team/app:1.2\n");
  checked(fmt::format("umoci stat --image {}:localhost:5000/team/app:1.2 --json", store.string()));
  const auto bundle = dir / "bundle";
  checked(fmt::format("umoci unpack --image {}:docker.io/library/busybox:1.35 {}", store.string(), bundle.string()));
  EXPECT_EQ(slurp(bundle / "rootfs/etc/marker"), "from-knast\n");
  if (fs::exists(bundle / "rootfs/bin/busybox")) {
    EXPECT_EQ(checked((bundle / "rootfs/bin/busybox").string() + " echo unpacked"), "unpacked\n");
  }
  EXPECT_TRUE(ImageStore::open(store).verify().ok());
}

TEST_F(ImageStoreInterop, KnastReadsAndExtendsALayoutUmociMade) {
  const auto layout = dir / "layout";
  const std::string name = "docker.io/library/made:1";
  const auto image = fmt::format("{}:{}", layout.string(), name);
  spit(dir / "hello", "hello from umoci\n");
  checked(fmt::format("umoci init --layout {}", layout.string()));
  checked(fmt::format("umoci new --image {}", image));
  checked(fmt::format("umoci config --image {} --config.cmd /bin/echo --config.cmd hi --architecture arm64", image));
  checked(fmt::format("umoci insert --image {} {} /etc/hello", image, (dir / "hello").string()));

  auto store = ImageStore::open(layout, ImageStore::OpenMode::must_exist);
  const auto resolved = store.resolve("made:1");
  EXPECT_EQ(resolved.name, name);
  EXPECT_EQ(resolved.config.config.cmd, (std::vector<std::string>{"/bin/echo", "hi"}));
  EXPECT_EQ(resolved.config.architecture, "arm64");
  ASSERT_EQ(resolved.manifest.layers.size(), 1u);
  EXPECT_TRUE(store.verify().ok());
  // umoci leaves superseded blobs behind (each config/insert writes new ones).
  EXPECT_FALSE(store.collect_garbage().removed.empty());
  EXPECT_TRUE(store.verify().ok());

  // Names knast adds are seen by umoci, and umoci's own gc keeps what they reach.
  store.tag(reference("made:2"), resolved.manifest_descriptor);
  EXPECT_EQ(checked(fmt::format("umoci ls --layout {}", layout.string())), name + "\ndocker.io/library/made:2\n");
  checked(fmt::format("umoci rm --image {}", image));
  checked(fmt::format("umoci gc --layout {}", layout.string()));
  EXPECT_TRUE(store.verify().ok());
  const auto bundle = dir / "bundle";
  checked(fmt::format("umoci unpack --image {}:docker.io/library/made:2 {}", layout.string(), bundle.string()));
  EXPECT_EQ(slurp(bundle / "rootfs/etc/hello"), "hello from umoci\n");
}

TEST_F(ImageStoreInterop, NamesOutsideTheOciRefGrammarAreKeptButToolsCannotAddressThem) {
  const auto store = dir / "store";
  put_busybox(store, "docker.io/library/good:1");
  auto knast_store = ImageStore::open(store);
  const auto target = *knast_store.find(reference("good:1"));
  for (const char* odd : {"docker.io/library/a__b:1", "docker.io/library/c:_x", "docker.io/library/d:x..y"}) {
    knast_store.tag(reference(odd), target);
    EXPECT_EQ(knast_store.resolve(odd).manifest_descriptor.digest, target.digest) << odd;
    std::string output;
    EXPECT_NE(run(fmt::format("{} inspect oci:{}:{}", skopeo, store.string(), odd), &output), 0) << odd;
    EXPECT_THAT(output, testing::HasSubstr("Invalid image")) << odd;
    EXPECT_NE(run(fmt::format("umoci stat --image {}:{}", store.string(), odd), &output), 0) << odd;
  }
  const auto listed = checked(fmt::format("umoci ls --layout {}", store.string()));
  EXPECT_THAT(listed, testing::HasSubstr("docker.io/library/a__b:1\n"));
  checked(fmt::format("{} inspect oci:{}:docker.io/library/good:1", skopeo, store.string()));
  // A full reference with port, tag and digest fits the grammar and works.
  const std::string pinned = "localhost:5000/team/app:1.2@" + target.digest.string();
  knast_store.tag(reference(pinned), target);
  checked(fmt::format("{} inspect oci:{}:{}", skopeo, store.string(), pinned));
}

}  // namespace
