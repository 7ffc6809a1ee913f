// ImageStore::import_rootfs: a rootfs tarball becomes a one-layer image.
#include "archive_test_support.hpp"

#include "image_store/config_changes.hpp"

#include <knast/error.hpp>

namespace {

using namespace archive_test;
using knast::Digest;
using knast::ErrorCode;
using knast::ImportOptions;
using testing::ElementsAre;
using testing::HasSubstr;
namespace mt = knast::media_type;

class ArchiveImport : public testing::Test {
 protected:
  ArchiveImport() : store(ImageStore::open(dir / "store")) {}

  knast::ResolvedImage import(const std::string& bytes, const ImportOptions& options = {}) {
    spit(dir / "rootfs.tar", bytes);
    return store.import_rootfs(dir / "rootfs.tar", reference("imported:1"), options);
  }

  knast::Error import_error(const std::string& bytes, const ImportOptions& options = {}) {
    return error_from([&] { import(bytes, options); });
  }

  // Nothing named, nothing half-written.
  void expect_store_untouched() {
    EXPECT_TRUE(names_in(store).empty());
    EXPECT_EQ(ingest_files(store.root()), 0u);
  }

  TempDir dir;
  ImageStore store;
  const std::string tar = rootfs_tar("rootfs");
};

TEST_F(ArchiveImport, UncompressedTarballIsStoredAsItIs) {
  ImportOptions options;
  options.platform = Platform::parse("freebsd/amd64");
  options.changes = {"ENTRYPOINT [\"/bin/app\"]", "CMD --serve", "ENV PATH=/bin LANG=C.UTF-8", "WORKDIR /srv",
                     "USER www:www", "EXPOSE 80 53/udp", "LABEL org.example.name=\"my app\""};
  options.created = "2024-05-01T12:00:00Z";
  options.comment = "from a jail";
  const auto image = import(tar, options);

  ASSERT_EQ(image.manifest.layers.size(), 1u);
  const auto& layer = image.manifest.layers[0];
  EXPECT_EQ(layer.media_type, mt::oci_layer_tar);
  EXPECT_EQ(layer.digest, Digest::of(tar));
  EXPECT_EQ(image.config.diff_ids, std::vector{Digest::of(tar)});
  EXPECT_EQ(slurp(store.blob_path(layer.digest)), tar);
  EXPECT_EQ(image.config.os, "freebsd");
  EXPECT_EQ(image.config.architecture, "amd64");
  EXPECT_EQ(image.config.created, "2024-05-01T12:00:00Z");
  const auto& c = image.config.config;
  EXPECT_EQ(c.entrypoint, std::vector<std::string>{"/bin/app"});
  EXPECT_EQ(c.cmd, (std::vector<std::string>{"/bin/sh", "-c", "--serve"}));
  EXPECT_THAT(c.env, ElementsAre("PATH=/bin", "LANG=C.UTF-8"));
  EXPECT_EQ(c.working_dir, "/srv");
  EXPECT_EQ(c.user, "www:www");
  EXPECT_THAT(c.exposed_ports, ElementsAre("53/udp", "80/tcp"));
  EXPECT_EQ(c.labels.at("org.example.name"), "my app");
  ASSERT_EQ(image.config.history.size(), 1u);
  EXPECT_EQ(image.config.history[0].comment, "from a jail");

  // What the store now holds is what import_rootfs returned.
  const auto resolved = store.resolve("imported:1");
  EXPECT_EQ(resolved.manifest_descriptor.digest, image.manifest_descriptor.digest);
  EXPECT_EQ(resolved.manifest, image.manifest);
  EXPECT_EQ(resolved.config, image.config);
  EXPECT_EQ(image.name, "docker.io/library/imported:1");
}

TEST_F(ArchiveImport, GzipTarballKeepsItsCompressionAndGetsTheUncompressedDiffId) {
  const auto gz = compressed(tar, Filter::gzip);
  const auto image = import(gz);
  const auto& layer = image.manifest.layers.at(0);
  EXPECT_EQ(layer.media_type, mt::oci_layer_gzip);
  EXPECT_EQ(layer.digest, Digest::of(gz));
  EXPECT_EQ(layer.size, static_cast<std::int64_t>(gz.size()));
  EXPECT_EQ(image.config.diff_ids, std::vector{Digest::of(tar)});
  // The same tree imported uncompressed is the same image config (diff_id, not blob digest).
  ImportOptions same_time;
  same_time.created = image.config.created;
  EXPECT_EQ(import(tar, same_time).manifest.config.digest, image.manifest.config.digest);
}

TEST_F(ArchiveImport, XzTarballIsStoredDecompressed) {
  const auto image = import(compressed(tar, Filter::xz));
  EXPECT_EQ(image.manifest.layers.at(0).media_type, mt::oci_layer_tar);
  EXPECT_EQ(image.manifest.layers.at(0).digest, Digest::of(tar));
}

TEST_F(ArchiveImport, DefaultsCreatedToNowAndCommentsTheFileName) {
  const auto image = import(tar);
  ASSERT_TRUE(image.config.created);
  EXPECT_TRUE(knast::detail::is_rfc3339(*image.config.created)) << *image.config.created;
  EXPECT_TRUE(image.config.created->ends_with("Z"));
  EXPECT_GE(*image.config.created, "2025");
  EXPECT_EQ(image.config.history.at(0).comment, "Imported from rootfs.tar");
  EXPECT_EQ(image.config.platform(), Platform::host().normalized());
}

TEST_F(ArchiveImport, AnEmptyTarIsAnEmptyLayer) {
  const auto empty = tar_of({});
  const auto image = import(empty);
  EXPECT_EQ(image.config.diff_ids, std::vector{Digest::of(empty)});
}

TEST_F(ArchiveImport, RefusesWhatIsNotATar) {
  auto e = import_error(std::string(3000, 'x'));
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), HasSubstr("import " + (dir / "rootfs.tar").string() + ": tar: "));
  e = import_error(compressed("just text, compressed", Filter::gzip));
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  expect_store_untouched();
}

TEST_F(ArchiveImport, RefusesATruncatedTarball) {
  const auto big = make_tar({{"big", std::string(100000, 'b')}}, false);
  auto e = import_error(big.substr(0, big.size() / 2));
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), HasSubstr("runcated"));
  const auto gz = compressed(big, Filter::gzip);
  e = import_error(gz.substr(0, gz.size() / 2));
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  expect_store_untouched();
}

// libarchive answers a header whose checksum is wrong with ARCHIVE_RETRY (it could skip
// ahead to the next good one); for an image layer that is damage, not something to skip.
TEST_F(ArchiveImport, RefusesAHeaderWithABadChecksum) {
  auto damaged = make_tar({{"first", "1"}, {"second", "2"}, {"third", "3"}}, false);
  damaged[1024] = 'X';  // the second header's name: its checksum no longer matches
  const auto e = import_error(damaged);
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), HasSubstr("tar: read header"));
  expect_store_untouched();
}

TEST_F(ArchiveImport, RefusesBadOptionsBeforeReadingAnything) {
  ImportOptions options;
  options.changes = {"ENV A=1", "RUN make"};
  const auto e = error_from([&] { store.import_rootfs(dir / "missing.tar", reference("x:1"), options); });
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);  // not not_found: the change is looked at first
  EXPECT_THAT(e.what(), HasSubstr("change \"RUN make\": unknown or unsupported instruction \"RUN\""));
  const auto digest_name = reference("x@sha256:" + std::string(64, 'a'));
  spit(dir / "rootfs.tar", tar);
  EXPECT_THAT(error_from([&] { store.import_rootfs(dir / "rootfs.tar", digest_name); }).what(), HasSubstr("has a digest"));
  EXPECT_EQ(error_from([&] { store.import_rootfs(dir / "missing.tar", reference("x:1")); }).kind(), ErrorCode::not_found);
  expect_store_untouched();
}

TEST_F(ArchiveImport, ImportedImagesSurviveADockerRoundTrip) {
  const auto image = import(compressed(tar, Filter::gzip));
  store.save({reference("imported:1")}, dir / "saved.tar", knast::ArchiveFormat::docker);
  auto other = ImageStore::open(dir / "other");
  other.load(dir / "saved.tar");
  const auto loaded = other.resolve("imported:1");
  EXPECT_EQ(loaded.manifest.config.digest, image.manifest.config.digest);
  EXPECT_EQ(loaded.manifest_descriptor.digest, image.manifest_descriptor.digest);
}

}  // namespace
