// ImageStore::save and load: round trips through both formats, the layouts other tools
// write (classic docker, docker ≥ 25, skopeo), and skopeo reading what knast writes.
#include "archive_test_support.hpp"

#include <knast/error.hpp>

#include <set>

namespace {

using namespace archive_test;
using knast::ArchiveFormat;
using knast::Digest;
using knast::ErrorCode;
using knast::ResolvedImage;
using testing::ElementsAre;
using testing::HasSubstr;
namespace mt = knast::media_type;

class ArchiveRoundTrip : public testing::Test {
 protected:
  ArchiveRoundTrip() : source(ImageStore::open(dir / "source")), target(ImageStore::open(dir / "target")) {}

  // An image with one gzip layer (as pulled from a registry), named @p name.
  void put_gzip_image(const std::string& name, const std::string& marker) {
    source.tag(reference(name), put_image(source, marker).manifest);
  }

  // An image with one uncompressed layer (as docker keeps them), named @p name.
  void put_plain_image(const std::string& name, const std::string& marker) {
    spit(dir / "rootfs.tar", rootfs_tar(marker));
    knast::ImportOptions options;
    options.platform = Platform::parse("linux/amd64");
    options.created = "2024-05-01T12:00:00Z";
    options.changes = {"CMD [\"/bin/app\"]"};
    source.import_rootfs(dir / "rootfs.tar", reference(name), options);
  }

  // The same image in both stores: same config, same layers in order.
  void expect_same_image(const std::string& name) {
    SCOPED_TRACE(name);
    const auto original = source.resolve(name);
    const auto loaded = target.resolve(name);
    EXPECT_EQ(loaded.manifest.config.digest, original.manifest.config.digest);
    EXPECT_EQ(loaded.config.diff_ids, original.config.diff_ids);
    EXPECT_EQ(loaded.config, original.config);
    EXPECT_EQ(loaded.manifest.layers, original.manifest.layers);  // stored as they were: same blobs, same types
  }

  TempDir dir;
  ImageStore source;
  ImageStore target;
};

TEST_F(ArchiveRoundTrip, DockerArchiveKeepsConfigsAndLayers) {
  put_gzip_image("zipped:1", "z");
  put_plain_image("plain:1", "p");
  source.save({reference("zipped:1"), reference("plain:1")}, dir / "images.tar", ArchiveFormat::docker);
  const auto names = target.load(dir / "images.tar");
  EXPECT_THAT(names, ElementsAre(reference("zipped:1"), reference("plain:1")));
  expect_same_image("zipped:1");
  expect_same_image("plain:1");
  // Layers kept as stored and the manifest built the same canonical way: same digest.
  EXPECT_EQ(target.find(reference("zipped:1"))->digest, source.find(reference("zipped:1"))->digest);
  EXPECT_EQ(ingest_files(target.root()), 0u);
}

TEST_F(ArchiveRoundTrip, DockerArchiveHasSkopeosLayout) {
  put_plain_image("plain:1", "p");
  source.tag(reference("other/alias:2"), *source.find(reference("plain:1")));
  source.save({reference("plain:1"), reference("other/alias:2")}, dir / "images.tar", ArchiveFormat::docker);
  const auto image = source.resolve("plain:1");
  const auto layer = image.manifest.layers.at(0);
  const auto diff_id = image.config.diff_ids.at(0);
  const auto entries = read_tar(dir / "images.tar");

  const auto manifest = Json::parse(entries.at("manifest.json"));
  ASSERT_EQ(manifest.size(), 1u);  // two names, one image
  EXPECT_EQ(manifest[0]["RepoTags"], Json({"plain:1", "other/alias:2"}));
  EXPECT_EQ(manifest[0]["Config"], image.manifest.config.digest.hex() + ".json");
  EXPECT_EQ(manifest[0]["Layers"], Json({layer.digest.hex() + ".tar"}));
  EXPECT_EQ(entries.at(image.manifest.config.digest.hex() + ".json"), source.read_blob(image.manifest.config.digest, 1 << 20));
  EXPECT_EQ(Digest::of(entries.at(layer.digest.hex() + ".tar")), diff_id);  // uncompressed: file digest = diff_id
  // Legacy folder of the (only) layer: its chain ID is its diff_id.
  EXPECT_EQ(entries.at(diff_id.hex() + "/layer.tar"), "-> ../" + layer.digest.hex() + ".tar");
  EXPECT_EQ(entries.at(diff_id.hex() + "/VERSION"), "1.0");
  EXPECT_EQ(Json::parse(entries.at(diff_id.hex() + "/json"))["id"], diff_id.hex());
  EXPECT_EQ(Json::parse(entries.at("repositories")),
            Json({{"plain", {{"1", diff_id.hex()}}}, {"other/alias", {{"2", diff_id.hex()}}}}));
}

TEST_F(ArchiveRoundTrip, OciArchiveKeepsManifestAndIndexDigests) {
  const auto amd = put_image(source, "amd", Platform{"linux", "amd64", "", "", {}});
  const auto arm = put_image(source, "arm", Platform{"linux", "arm64", "", "", {}});
  const auto index = put_index(source, {{amd, Platform{"linux", "amd64", "", "", {}}}, {arm, Platform{"linux", "arm64", "", "", {}}}});
  source.tag(reference("multi:1"), index);
  put_plain_image("plain:1", "p");
  source.save({reference("multi:1"), reference("plain:1")}, dir / "images.oci.tar", ArchiveFormat::oci);

  const auto entries = read_tar(dir / "images.oci.tar");
  EXPECT_EQ(Json::parse(entries.at("oci-layout")), Json({{"imageLayoutVersion", "1.0.0"}}));
  const auto saved_index = knast::Index::parse(entries.at("index.json"));
  ASSERT_EQ(saved_index.manifests.size(), 2u);
  EXPECT_EQ(saved_index.manifests[0].annotations.at(std::string(knast::ref_name_annotation)), "docker.io/library/multi:1");
  EXPECT_EQ(saved_index.manifests[0].digest, index.digest);
  EXPECT_TRUE(entries.contains("blobs/sha256/" + arm.layers[0].digest.hex()));

  EXPECT_THAT(target.load(dir / "images.oci.tar"), ElementsAre(reference("multi:1"), reference("plain:1")));
  EXPECT_EQ(target.find(reference("multi:1"))->digest, index.digest);
  EXPECT_EQ(target.find(reference("plain:1"))->digest, source.find(reference("plain:1"))->digest);
  EXPECT_EQ(target.resolve("multi:1", Platform{"linux", "arm64", "", "", {}}).manifest_descriptor.digest, arm.manifest.digest);
  expect_same_image("plain:1");
}

TEST_F(ArchiveRoundTrip, DockerArchiveOfAnIndexTakesTheHostsPlatform) {
  const auto host = Platform::host();
  const Platform other{host.os, host.architecture == "amd64" ? "arm64" : "amd64", "", "", {}};
  const auto native = put_image(source, "native", host);
  const auto foreign = put_image(source, "foreign", other);
  source.tag(reference("multi:1"), put_index(source, {{foreign, other}, {native, host}}));
  source.save({reference("multi:1")}, dir / "images.tar", ArchiveFormat::docker);
  target.load(dir / "images.tar");
  EXPECT_EQ(target.resolve("multi:1").manifest.config.digest, native.config.digest);
}

TEST_F(ArchiveRoundTrip, LoadingTwiceIsHarmlessAndRetagsToTheArchivesImage) {
  put_plain_image("plain:1", "p");
  source.save({reference("plain:1")}, dir / "a.tar", ArchiveFormat::docker);
  target.tag(reference("plain:1"), put_image(target, "older").manifest);
  target.load(dir / "a.tar");
  target.load(dir / "a.tar");
  EXPECT_THAT(names_in(target), ElementsAre("docker.io/library/plain:1"));
  expect_same_image("plain:1");
}

TEST_F(ArchiveRoundTrip, SaveRefusesUnknownNamesAndLeavesNoFile) {
  put_plain_image("plain:1", "p");
  const auto e = error_from([&] { source.save({reference("plain:1"), reference("nope:1")}, dir / "x.tar", ArchiveFormat::docker); });
  EXPECT_EQ(e.kind(), ErrorCode::not_found);
  EXPECT_THAT(e.what(), HasSubstr("save " + (dir / "x.tar").string() + ": docker.io/library/nope:1: "));
  EXPECT_EQ(error_from([&] { source.save({reference("nope:1")}, dir / "x.tar", ArchiveFormat::oci); }).kind(),
            ErrorCode::not_found);
  EXPECT_EQ(error_from([&] { source.save({}, dir / "x.tar", ArchiveFormat::oci); }).kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(snapshot(dir.path()), testing::Not(testing::Contains(testing::Key(testing::HasSubstr("x.tar")))));
}

TEST_F(ArchiveRoundTrip, SaveRefusesADamagedBlobAndKeepsTheOldArchive) {
  put_gzip_image("zipped:1", "z");
  spit(dir / "x.tar", "old");
  const auto layer = source.resolve("zipped:1").manifest.layers.at(0);
  auto bytes = slurp(source.blob_path(layer.digest));
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 1);
  fs::permissions(source.blob_path(layer.digest), fs::perms::owner_write, fs::perm_options::add);
  spit(source.blob_path(layer.digest), bytes);
  for (const auto format : {ArchiveFormat::docker, ArchiveFormat::oci}) {
    const auto e = error_from([&] { source.save({reference("zipped:1")}, dir / "x.tar", format); });
    EXPECT_EQ(e.kind(), ErrorCode::integrity);
    EXPECT_THAT(e.what(), HasSubstr(layer.digest.string()));
    EXPECT_EQ(slurp(dir / "x.tar"), "old");
  }
  std::set<std::string> left;
  for (const auto& entry : fs::directory_iterator(dir.path())) left.insert(entry.path().filename().string());
  EXPECT_EQ(left, (std::set<std::string>{"source", "target", "x.tar"}));  // no temporary file either
}

// ---- layouts other tools write -----------------------------------------------------------

class ArchiveLayouts : public testing::Test {
 protected:
  ArchiveLayouts() : store(ImageStore::open(dir / "store")) {}

  ResolvedImage load_one(const std::vector<TarEntry>& entries, Filter filter = Filter::none) {
    spit(dir / "in.tar", tar_of(entries, filter));
    const auto names = store.load(dir / "in.tar");
    EXPECT_EQ(names.size(), 1u);
    return store.resolve(names.at(0).string());
  }

  TempDir dir;
  ImageStore store;
};

TEST_F(ArchiveLayouts, ClassicDockerLayoutWithADuplicateLayerLinked) {
  const auto base = rootfs_tar("base");
  const auto top = rootfs_tar("top");
  const std::vector ids{Digest::of(base), Digest::of(top), Digest::of(base)};
  const auto config = config_json(ids);
  const auto config_file = Digest::of(config).hex() + ".json";
  const auto image = load_one({
      tar_file(config_file, config),
      tar_dir("aaa/"), tar_file("aaa/VERSION", "1.0"), tar_file("aaa/json", "{}"), tar_file("aaa/layer.tar", base),
      tar_dir("bbb/"), tar_file("bbb/layer.tar", top),
      tar_dir("ccc/"), tar_link("ccc/layer.tar", "../aaa/layer.tar"),
      tar_file("manifest.json", Json::array({{{"Config", config_file}, {"RepoTags", {"old/style:1"}},
                                          {"Layers", {"aaa/layer.tar", "bbb/layer.tar", "ccc/layer.tar"}}}}).dump()),
      tar_file("repositories", R"({"old/style":{"1":"ccc"}})"),
  });
  EXPECT_EQ(image.name, "docker.io/old/style:1");
  EXPECT_EQ(image.manifest.config.digest, Digest::of(config));
  EXPECT_EQ(image.manifest.config.media_type, mt::oci_config);
  ASSERT_EQ(image.manifest.layers.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(image.manifest.layers[i].digest, ids[i]);
    EXPECT_EQ(image.manifest.layers[i].media_type, mt::oci_layer_tar);
  }
  EXPECT_EQ(slurp(store.blob_path(ids[1])), top);
}

TEST_F(ArchiveLayouts, HardLinksAndDotSlashNames) {
  const auto layer = rootfs_tar("linked");
  const auto image = load_one({
      tar_dir("./"), tar_file("./c.json", config_json({Digest::of(layer)})), tar_file("./a/layer.tar", layer),
      tar_hardlink("./b/layer.tar", "./a/layer.tar"),
      tar_file("./manifest.json", Json::array({{{"Config", "c.json"}, {"RepoTags", {"linked:1"}},
                                                {"Layers", {"./b/layer.tar"}}}}).dump()),
  });
  EXPECT_EQ(image.manifest.layers.at(0).digest, Digest::of(layer));
}

TEST_F(ArchiveLayouts, LargeConfigsAreReadInTheirOwnPass) {
  const auto layer = rootfs_tar("big");
  const auto config = config_json({Digest::of(layer)}, std::string(300 << 10, 'x'));  // over what the scan keeps
  const auto image = load_one({tar_file("c.json", config), tar_file("l.tar", layer),
                               tar_file("manifest.json", Json::array({{{"Config", "c.json"}, {"RepoTags", {"big:1"}},
                                                                       {"Layers", {"l.tar"}}}}).dump())});
  EXPECT_EQ(image.manifest.config.digest, Digest::of(config));
}

TEST_F(ArchiveLayouts, ImagesWithoutRepoTagsAreSkipped) {
  const auto layer = rootfs_tar("named");
  spit(dir / "in.tar", tar_of({tar_file("c.json", config_json({Digest::of(layer)})), tar_file("l.tar", layer),
                               tar_file("manifest.json", Json::array({
                                   {{"Config", "gone.json"}, {"RepoTags", nullptr}, {"Layers", {"gone.tar"}}},
                                   {{"Config", "c.json"}, {"RepoTags", {"named:1"}}, {"Layers", {"l.tar"}}},
                               }).dump())}));
  EXPECT_THAT(store.load(dir / "in.tar"), ElementsAre(reference("named:1")));
}

TEST_F(ArchiveLayouts, Docker25OciLayoutInsideWithManifestJson) {
  const auto layer = rootfs_tar("layer");
  const auto config = config_json({Digest::of(layer)});
  const auto hex = [](std::string_view bytes) { return "blobs/sha256/" + Digest::of(bytes).hex(); };
  const auto descriptor = [](std::string_view type, std::string_view bytes) {
    knast::Descriptor d;
    d.media_type = type;
    d.digest = Digest::of(bytes);
    d.size = static_cast<std::int64_t>(bytes.size());
    return d;
  };
  knast::Manifest oci_manifest;
  oci_manifest.config = descriptor(mt::oci_config, config);
  oci_manifest.layers = {descriptor(mt::oci_layer_tar, layer)};
  const auto manifest = oci_manifest.to_json();
  knast::Index index;
  index.manifests = {descriptor(mt::oci_manifest, manifest)};
  index.manifests[0].annotations = {{"io.containerd.image.name", "docker.io/new/style:25"},
                                    {std::string(knast::ref_name_annotation), "25"}};
  const auto image = load_one({
      tar_dir("blobs/"), tar_dir("blobs/sha256/"),
      tar_file(hex(config), config), tar_file(hex(layer), layer), tar_file(hex(manifest), manifest),
      tar_file("index.json", index.to_json()),
      tar_file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"),
      tar_file("manifest.json", Json::array({{{"Config", hex(config)}, {"RepoTags", {"new/style:25"}}, {"Layers", {hex(layer)}}}}).dump()),
  });
  EXPECT_EQ(image.name, "docker.io/new/style:25");
  EXPECT_EQ(image.manifest.config.digest, Digest::of(config));
  EXPECT_EQ(image.manifest.layers.at(0).digest, Digest::of(layer));
}

TEST_F(ArchiveLayouts, CompressedLayersAndAGzippedArchive) {
  const auto plain = rootfs_tar("one");
  const auto plain2 = rootfs_tar("two");
  const auto plain3 = rootfs_tar("three");
  const auto gz = compressed(plain, Filter::gzip);
  const auto zst = compressed(plain2, Filter::zstd);
  const auto xz = compressed(plain3, Filter::xz);
  const auto config = config_json({Digest::of(plain), Digest::of(plain2), Digest::of(plain3)});
  const auto image = load_one({tar_file("c.json", config), tar_file("1.tar", gz), tar_file("2.tar", zst), tar_file("3.tar", xz),
                               tar_file("manifest.json", Json::array({{{"Config", "c.json"}, {"RepoTags", {"z:1"}},
                                                                   {"Layers", {"1.tar", "2.tar", "3.tar"}}}}).dump())},
                              Filter::gzip);
  const auto& layers = image.manifest.layers;
  ASSERT_EQ(layers.size(), 3u);
  EXPECT_EQ(layers[0].media_type, mt::oci_layer_gzip);
  EXPECT_EQ(layers[0].digest, Digest::of(gz));
  EXPECT_EQ(layers[1].media_type, mt::oci_layer_zstd);
  EXPECT_EQ(layers[1].digest, Digest::of(zst));
  // xz has no OCI layer type: kept decompressed.
  EXPECT_EQ(layers[2].media_type, mt::oci_layer_tar);
  EXPECT_EQ(layers[2].digest, Digest::of(plain3));
  EXPECT_EQ(image.config.diff_ids, (std::vector{Digest::of(plain), Digest::of(plain2), Digest::of(plain3)}));
}

TEST_F(ArchiveLayouts, OciArchiveNamesFromEitherAnnotationAndUnnamedEntriesSkipped) {
  // Stage an OCI layout with a store, then tar it by hand with other annotations.
  auto staging = ImageStore::open(dir / "staging");
  const auto one = put_image(staging, "one");
  const auto two = put_image(staging, "two");
  knast::Index index;
  for (const auto& [image, annotations] :
       std::vector<std::pair<TestImage, std::map<std::string, std::string>>>{
           {one, {{std::string(knast::ref_name_annotation), "quay.io/x/one:1"}}},
           {two, {{std::string(knast::ref_name_annotation), "latest"}, {"io.containerd.image.name", "docker.io/x/two:2"}}},
           {two, {}}}) {
    auto entry = image.manifest;
    entry.annotations = annotations;
    index.manifests.push_back(entry);
  }
  std::vector<TarEntry> entries{tar_file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"), tar_file("index.json", index.to_json())};
  for (const auto& blob : fs::directory_iterator(dir / "staging/blobs/sha256"))
    entries.push_back(tar_file("blobs/sha256/" + blob.path().filename().string(), slurp(blob.path())));
  spit(dir / "in.tar", tar_of(entries));
  EXPECT_THAT(store.load(dir / "in.tar"), ElementsAre(reference("quay.io/x/one:1"), reference("x/two:2")));
  EXPECT_EQ(store.find(reference("x/two:2"))->digest, two.manifest.digest);
  EXPECT_FALSE(store.find(reference("x/two:2"))->annotations.contains("io.containerd.image.name"));
}

// ---- skopeo ------------------------------------------------------------------------------

class ArchiveSkopeo : public ArchiveRoundTrip {
 protected:
  void SetUp() override {
    if (!have_tool("skopeo")) GTEST_SKIP() << "skopeo is not installed";
  }

  // Runs skopeo with the arguments; fails the test with its output if it fails.
  std::string skopeo(const std::string& arguments) {
    std::string output;
    const int status = run("skopeo --insecure-policy " + arguments, &output);
    EXPECT_EQ(status, 0) << "skopeo " << arguments << "\n" << output;
    return output;
  }
};

TEST_F(ArchiveSkopeo, LoadsADockerArchiveSkopeoMadeFromTheStoresLayout) {
  put_gzip_image("zipped:1", "z");
  put_plain_image("plain:1", "p");
  // The store is an OCI layout; skopeo writes docker-archive layers uncompressed.
  skopeo("copy oci:" + source.root().string() + ":docker.io/library/zipped:1 docker-archive:" +
         (dir / "z.tar").string() + ":zipped:1");
  skopeo("copy oci:" + source.root().string() + ":docker.io/library/plain:1 docker-archive:" +
         (dir / "p.tar").string() + ":plain:1");
  EXPECT_THAT(target.load(dir / "z.tar"), ElementsAre(reference("zipped:1")));
  EXPECT_THAT(target.load(dir / "p.tar"), ElementsAre(reference("plain:1")));
  for (const auto* name : {"zipped:1", "plain:1"}) {
    const auto original = source.resolve(name);
    const auto loaded = target.resolve(name);
    EXPECT_EQ(loaded.manifest.config.digest, original.manifest.config.digest) << name;
    EXPECT_EQ(loaded.config.diff_ids, original.config.diff_ids) << name;
    ASSERT_EQ(loaded.manifest.layers.size(), 1u);
    EXPECT_EQ(loaded.manifest.layers[0].media_type, mt::oci_layer_tar);
    EXPECT_EQ(loaded.manifest.layers[0].digest, original.config.diff_ids[0]);
  }
}

TEST_F(ArchiveSkopeo, ReadsTheDockerArchivesKnastWrites) {
  put_gzip_image("zipped:1", "z");  // its layer goes into the archive gzip-compressed
  put_plain_image("plain:1", "p");
  source.save({reference("zipped:1"), reference("plain:1")}, dir / "images.tar", ArchiveFormat::docker);
  for (const auto* name : {"zipped:1", "plain:1"}) {
    const auto config = Json::parse(skopeo("inspect --config docker-archive:" + (dir / "images.tar").string() + ":" + name));
    EXPECT_EQ(config, Json::parse(source.read_blob(source.resolve(name).manifest.config.digest, 1 << 20))) << name;
    // A full copy makes skopeo decompress each layer and check it against the diff_id.
    skopeo("copy docker-archive:" + (dir / "images.tar").string() + ":" + name + " oci:" + (dir / "copy").string() +
           ":" + name);
  }
}

TEST_F(ArchiveSkopeo, ReadsTheOciArchivesKnastWritesAndBack) {
  put_gzip_image("zipped:1", "z");
  source.save({reference("zipped:1")}, dir / "z.oci.tar", ArchiveFormat::oci);
  const auto inspected = Json::parse(skopeo("inspect oci-archive:" + (dir / "z.oci.tar").string()));
  EXPECT_EQ(inspected["Digest"], source.find(reference("zipped:1"))->digest.string());
  skopeo("copy oci-archive:" + (dir / "z.oci.tar").string() + ":docker.io/library/zipped:1 docker-archive:" +
         (dir / "z.tar").string() + ":zipped:1");
  target.load(dir / "z.tar");
  EXPECT_EQ(target.resolve("zipped:1").manifest.config.digest, source.resolve("zipped:1").manifest.config.digest);
}

}  // namespace
