// ImageStore::load on archives that must be refused: each with an error naming what is
// wrong, and the store left with exactly the names (and index.json) it had.
#include "archive_test_support.hpp"

#include <knast/error.hpp>

namespace {

using namespace archive_test;
using knast::Digest;
using knast::Error;
using knast::ErrorCode;
using testing::HasSubstr;

class ArchiveBadInput : public testing::Test {
 protected:
  ArchiveBadInput() : store(ImageStore::open(dir / "store")) {
    store.tag(reference("keep:1"), put_image(store, "keep").manifest);
    index_before = slurp(store.root() / "index.json");
  }

  // A valid docker archive's entries: one image "bad:1" of one layer.
  std::vector<TarEntry> docker_entries(const std::string& layer_tar, const std::vector<Digest>& diff_ids) {
    return {tar_file("c.json", config_json(diff_ids)), tar_file("l/layer.tar", layer_tar),
            tar_file("manifest.json", manifest_json({"l/layer.tar"}))};
  }

  static std::string manifest_json(const std::vector<std::string>& layers, const std::string& config = "c.json") {
    return Json::array({{{"Config", config}, {"RepoTags", {"bad:1"}}, {"Layers", layers}}}).dump();
  }

  // Loads @p bytes as an archive; the Error it must fail with.
  Error load_error(const std::string& bytes) {
    spit(dir / "in.tar", bytes);
    return error_from([&] { store.load(dir / "in.tar"); });
  }

  void TearDown() override {
    EXPECT_EQ(slurp(store.root() / "index.json"), index_before) << "index.json changed";
    EXPECT_EQ(ingest_files(store.root()), 0u) << "temporary blobs left behind";
  }

  TempDir dir;
  ImageStore store;
  std::string index_before;
  const std::string layer = rootfs_tar("layer");
};

TEST_F(ArchiveBadInput, EntryNamesWithDotDot) {
  auto entries = docker_entries(layer, {Digest::of(layer)});
  entries.push_back(tar_file("../../etc/cron.d/evil", "x"));
  const auto e = load_error(tar_of(entries));
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), HasSubstr("load " + (dir / "in.tar").string() + ": entry \"../../etc/cron.d/evil\": has a '..' component"));
}

TEST_F(ArchiveBadInput, AbsoluteEntryNames) {
  auto entries = docker_entries(layer, {Digest::of(layer)});
  entries.insert(entries.begin(), tar_file("/etc/evil", "x"));
  const auto e = load_error(tar_of(entries));
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), HasSubstr("entry \"/etc/evil\": is absolute"));
}

TEST_F(ArchiveBadInput, ManifestPointingOutsideTheArchive) {
  auto entries = docker_entries(layer, {Digest::of(layer)});
  entries.back() = tar_file("manifest.json", manifest_json({"../../../etc/passwd"}));
  const auto e = load_error(tar_of(entries));
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), HasSubstr("manifest.json: [0].Layers[0]: path \"../../../etc/passwd\": has a '..' component"));
}

TEST_F(ArchiveBadInput, ManifestPointingAtAMissingEntry) {
  auto entries = docker_entries(layer, {Digest::of(layer)});
  entries.back() = tar_file("manifest.json", manifest_json({"missing/layer.tar"}));
  const auto e = load_error(tar_of(entries));
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), HasSubstr("manifest.json: [0].Layers[0]: \"missing/layer.tar\" is not in the archive"));
  entries.back() = tar_file("manifest.json", manifest_json({"l/layer.tar"}, "nope.json"));
  EXPECT_THAT(load_error(tar_of(entries)).what(), HasSubstr("manifest.json: [0].Config: \"nope.json\" is not in the archive"));
}

TEST_F(ArchiveBadInput, LinksLeavingTheArchiveOrDangling) {
  auto entries = docker_entries(layer, {Digest::of(layer)});
  entries[1] = tar_link("l/layer.tar", "../../outside.tar");
  EXPECT_THAT(load_error(tar_of(entries)).what(),
              HasSubstr("entry \"l/layer.tar\": link target \"../../outside.tar\": climbs out of the archive"));
  entries[1] = tar_link("l/layer.tar", "../gone.tar");
  EXPECT_THAT(load_error(tar_of(entries)).what(),
              HasSubstr("\"gone.tar\" (reached through links from \"l/layer.tar\") is not in the archive"));
  entries[1] = tar_link("l/layer.tar", "layer.tar");
  EXPECT_THAT(load_error(tar_of(entries)).what(), HasSubstr("too many levels of links"));
}

TEST_F(ArchiveBadInput, TruncatedArchive) {
  const auto whole = tar_of(docker_entries(layer, {Digest::of(layer)}));
  const auto e = load_error(whole.substr(0, whole.size() / 2));
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), HasSubstr("load " + (dir / "in.tar").string() + ": "));
  EXPECT_THAT(e.what(), HasSubstr("Truncated tar archive"));
  // Cut inside the gzip stream of a compressed archive, too.
  const auto zipped = tar_of(docker_entries(layer, {Digest::of(layer)}), Filter::gzip);
  EXPECT_EQ(load_error(zipped.substr(0, zipped.size() - 20)).kind(), ErrorCode::invalid_argument);
}

TEST_F(ArchiveBadInput, LayerNotMatchingItsDiffId) {
  const auto other = rootfs_tar("other");
  const auto e = load_error(tar_of(docker_entries(layer, {Digest::of(other)})));
  EXPECT_EQ(e.kind(), ErrorCode::integrity);
  EXPECT_THAT(e.what(), HasSubstr("entry \"l/layer.tar\": content does not match the config's diff_id: "));
  EXPECT_THAT(e.what(), HasSubstr("content has digest " + Digest::of(layer).string() + ", expected " + Digest::of(other).string()));
  EXPECT_FALSE(store.has_blob(Digest::of(layer)));  // refused before it was published
}

TEST_F(ArchiveBadInput, BlobsOfAFailedLoadAreGarbageThatCollectionRemoves) {
  const auto blobs_before = snapshot(store.root() / "blobs");
  const auto other = rootfs_tar("other");
  // The first layer is good and committed; the second does not match its diff_id.
  const auto e = load_error(tar_of({tar_file("c.json", config_json({Digest::of(layer), Digest::of(layer)})),
                                    tar_file("1.tar", layer), tar_file("2.tar", other),
                                    tar_file("manifest.json", manifest_json({"1.tar", "2.tar"}))}));
  EXPECT_EQ(e.kind(), ErrorCode::integrity);
  EXPECT_THAT(e.what(), HasSubstr("entry \"2.tar\""));
  EXPECT_TRUE(store.has_blob(Digest::of(layer)));  // committed before the second failed
  EXPECT_FALSE(store.has_blob(Digest::of(other)));
  store.collect_garbage();
  EXPECT_EQ(snapshot(store.root() / "blobs"), blobs_before);
}

TEST_F(ArchiveBadInput, CompressedLayerNotMatchingItsDiffId) {
  const auto other = rootfs_tar("other");
  const auto zipped = compressed(layer, Filter::gzip);
  const auto e = load_error(tar_of(docker_entries(zipped, {Digest::of(other)})));
  EXPECT_EQ(e.kind(), ErrorCode::integrity);
  EXPECT_THAT(e.what(), HasSubstr("entry \"l/layer.tar\": uncompressed content has digest " + Digest::of(layer).string() +
                                  ", but the config's diff_id is " + Digest::of(other).string()));
  EXPECT_FALSE(store.has_blob(Digest::of(zipped)));
}

TEST_F(ArchiveBadInput, DamagedCompressedLayer) {
  auto zipped = compressed(layer, Filter::gzip);
  zipped.resize(zipped.size() / 2);
  const auto e = load_error(tar_of(docker_entries(zipped, {Digest::of(layer)})));
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), HasSubstr("entry \"l/layer.tar\": gzip: "));
}

TEST_F(ArchiveBadInput, LayerCountNotMatchingTheConfig) {
  const auto e = load_error(tar_of(docker_entries(layer, {Digest::of(layer), Digest::of(layer)})));
  EXPECT_THAT(e.what(), HasSubstr("manifest.json: [0] lists 1 layers, but its config \"c.json\" has 2 diff_ids"));
}

TEST_F(ArchiveBadInput, MalformedManifestJson) {
  auto entries = docker_entries(layer, {Digest::of(layer)});
  entries.back() = tar_file("manifest.json", "[{\"Config\": ");
  auto e = load_error(tar_of(entries));
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), HasSubstr("manifest.json: malformed JSON"));
  entries.back() = tar_file("manifest.json", R"([{"Config": "c.json", "Layers": {}}])");
  EXPECT_THAT(load_error(tar_of(entries)).what(), HasSubstr("manifest.json: [0].Layers: must be an array"));
  entries.back() = tar_file("manifest.json", R"([{"Config": "c.json", "RepoTags": [], "Layers": []}])");
  EXPECT_THAT(load_error(tar_of(entries)).what(), HasSubstr("manifest.json names no image"));
  entries.back() = tar_file("manifest.json", "[" + std::string(knast::max_manifest_bytes, ' ') + "]");
  e = load_error(tar_of(entries));
  EXPECT_EQ(e.kind(), ErrorCode::limit_exceeded);
  EXPECT_THAT(e.what(), HasSubstr("entry \"manifest.json\": is 4194306 bytes, over the limit of 4194304 bytes"));
}

TEST_F(ArchiveBadInput, OversizedConfig) {
  auto entries = docker_entries(layer, {Digest::of(layer)});
  entries[0] = tar_file("c.json", config_json({Digest::of(layer)}, std::string(knast::max_config_bytes, 'x')));
  const auto e = load_error(tar_of(entries));
  EXPECT_EQ(e.kind(), ErrorCode::limit_exceeded);
  EXPECT_THAT(e.what(), HasSubstr("entry \"c.json\": is "));
  EXPECT_THAT(e.what(), HasSubstr("over the limit of 8388608 bytes"));
}

TEST_F(ArchiveBadInput, MalformedConfig) {
  auto entries = docker_entries(layer, {Digest::of(layer)});
  entries[0] = tar_file("c.json", R"({"os": "linux"})");
  EXPECT_THAT(load_error(tar_of(entries)).what(), HasSubstr("entry \"c.json\": image config: architecture: required field is missing"));
}

TEST_F(ArchiveBadInput, DuplicateEntries) {
  auto entries = docker_entries(layer, {Digest::of(layer)});
  entries.push_back(tar_file("l/layer.tar", "second"));
  EXPECT_THAT(load_error(tar_of(entries)).what(), HasSubstr("entry \"l/layer.tar\": appears twice in the archive"));
}

TEST_F(ArchiveBadInput, NeitherFormat) {
  const auto e = load_error(tar_of({tar_file("hello.txt", "hi"), tar_file("index.json", "{}")}));
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), HasSubstr("is neither a docker save archive (it has no manifest.json) nor an OCI archive"));
}

TEST_F(ArchiveBadInput, NotATarOrMissing) {
  auto e = load_error("this is not an archive, just some text that is long enough to look at" + std::string(600, '.'));
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), HasSubstr("load " + (dir / "in.tar").string() + ": open archive: Unrecognized archive format"));
  e = error_from([&] { store.load(dir / "missing.tar"); });
  EXPECT_EQ(e.kind(), ErrorCode::not_found);
  EXPECT_THAT(e.what(), HasSubstr("missing.tar"));
}

// ---- OCI archives --------------------------------------------------------------------------

class OciArchiveBadInput : public ArchiveBadInput {
 protected:
  // An OCI archive of one image, as knast saves it, unpacked into entries.
  std::map<std::string, std::string> saved_entries() {
    auto source = ImageStore::open(dir / "source");
    image = put_image(source, "oci");
    source.tag(reference("bad:1"), image.manifest);
    source.save({reference("bad:1")}, dir / "saved.tar", knast::ArchiveFormat::oci);
    return read_tar(dir / "saved.tar");
  }

  static std::vector<TarEntry> as_entries(const std::map<std::string, std::string>& files) {
    std::vector<TarEntry> out;
    for (const auto& [name, data] : files)
      if (data != "<dir>") out.push_back(tar_file(name, data));
    return out;
  }

  TestImage image;
};

TEST_F(OciArchiveBadInput, BlobNotMatchingItsDigest) {
  auto files = saved_entries();
  auto& blob = files.at("blobs/sha256/" + image.layers[0].digest.hex());
  blob[blob.size() / 2] = static_cast<char>(blob[blob.size() / 2] ^ 1);
  const auto e = load_error(tar_of(as_entries(files)));
  EXPECT_THAT(e.what(), HasSubstr("entry \"blobs/sha256/" + image.layers[0].digest.hex() + "\": "));
  // The flipped bit surfaces as a bad diff_id or a gzip CRC error, whichever comes first.
  EXPECT_TRUE(e.kind() == ErrorCode::integrity || e.kind() == ErrorCode::invalid_argument) << e.what();
  EXPECT_FALSE(store.has_blob(image.layers[0].digest));
}

TEST_F(OciArchiveBadInput, ManifestNotMatchingItsDigest) {
  auto files = saved_entries();
  files.at("blobs/sha256/" + image.manifest.digest.hex()) += " ";
  const auto e = load_error(tar_of(as_entries(files)));
  EXPECT_EQ(e.kind(), ErrorCode::integrity);
  EXPECT_THAT(e.what(), HasSubstr("blob " + image.manifest.digest.string()));
}

TEST_F(OciArchiveBadInput, MissingBlob) {
  auto files = saved_entries();
  files.erase("blobs/sha256/" + image.config.digest.hex());
  const auto e = load_error(tar_of(as_entries(files)));
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), HasSubstr("blob " + image.config.digest.string() + " (application/vnd.oci.image.config.v1+json): \"blobs/sha256/" +
                                  image.config.digest.hex() + "\" is not in the archive"));
}

TEST_F(OciArchiveBadInput, LayerDeclaredUncompressedButGzip) {
  auto files = saved_entries();
  auto manifest = knast::Manifest::parse(files.at("blobs/sha256/" + image.manifest.digest.hex()));
  manifest.layers[0].media_type = knast::media_type::oci_layer_tar;
  const auto manifest_json = manifest.to_json();
  files["blobs/sha256/" + Digest::of(manifest_json).hex()] = manifest_json;
  auto index = knast::Index::parse(files.at("index.json"));
  index.manifests[0].digest = Digest::of(manifest_json);
  index.manifests[0].size = static_cast<std::int64_t>(manifest_json.size());
  files["index.json"] = index.to_json();
  const auto e = load_error(tar_of(as_entries(files)));
  EXPECT_EQ(e.kind(), ErrorCode::integrity);
  EXPECT_THAT(e.what(), HasSubstr("media type declares uncompressed content, but it is gzip"));
}

TEST_F(OciArchiveBadInput, IndexesNestedTooDeeply) {
  auto files = saved_entries();
  auto entry = image.manifest;
  for (int level = 0; level < 10; ++level) {
    knast::Index nested;
    nested.manifests = {entry};
    const auto json = nested.to_json();
    files["blobs/sha256/" + Digest::of(json).hex()] = json;
    entry.media_type = knast::media_type::oci_index;
    entry.digest = Digest::of(json);
    entry.size = static_cast<std::int64_t>(json.size());
  }
  entry.annotations = {{std::string(knast::ref_name_annotation), "deep:1"}};
  knast::Index index;
  index.manifests = {entry};
  files["index.json"] = index.to_json();
  const auto e = load_error(tar_of(as_entries(files)));
  EXPECT_EQ(e.kind(), ErrorCode::limit_exceeded);
  EXPECT_THAT(e.what(), HasSubstr("indexes nested deeper than 8 levels"));
}

TEST_F(OciArchiveBadInput, BadLayoutIndexAndNames) {
  auto files = saved_entries();
  files["oci-layout"] = R"({"imageLayoutVersion": "9.9.9"})";
  EXPECT_EQ(load_error(tar_of(as_entries(files))).kind(), ErrorCode::unsupported);
  files = saved_entries();
  files["index.json"] = "{";
  EXPECT_THAT(load_error(tar_of(as_entries(files))).what(), HasSubstr("index.json: index: malformed JSON"));
  auto index = knast::Index::parse(saved_entries().at("index.json"));
  index.manifests[0].annotations = {{std::string(knast::ref_name_annotation), "NOT valid"}};
  files = saved_entries();
  files["index.json"] = index.to_json();
  EXPECT_THAT(load_error(tar_of(as_entries(files))).what(),
              HasSubstr("index.json: manifests[0]: annotation org.opencontainers.image.ref.name: \"NOT valid\""));
  index.manifests[0].annotations.clear();
  files["index.json"] = index.to_json();
  EXPECT_THAT(load_error(tar_of(as_entries(files))).what(), HasSubstr("index.json names no image"));
}

}  // namespace
