// Round trip against a real tool: an image built with umoci (init, new, unpack, change the
// bundle, repack — umoci writes the whiteouts for what was deleted) is unpacked by
// `umoci unpack` and by applying its layers with apply_layer(); both trees must be the
// same (files, modes, owners, times, symlinks, hardlinks), compared with lstat.
#include "rootfs_test_support.hpp"

#include <nlohmann/json.hpp>

namespace {

using namespace rootfs_test;

class UmociTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!archive_test::have_tool("umoci")) GTEST_SKIP() << "umoci is not installed";
    if (::geteuid() != 0) GTEST_SKIP() << "umoci unpack keeps owners only as root";
    layout_ = scratch_ / "layout";
    sh("umoci init --layout " + layout_.string());
    sh("umoci new --image " + image());
  }
  std::string image() const { return layout_.string() + ":test"; }
  fs::path bundle() const { return scratch_ / "bundle"; }
  fs::path rootfs() const { return bundle() / "rootfs"; }

  static void sh(const std::string& command) {
    std::string output;
    ASSERT_EQ(store_test::run(command, &output), 0) << command << "\n" << output;
  }
  void unpack_bundle() { sh("umoci unpack --image " + image() + " " + bundle().string()); }
  void repack_bundle() {
    sh("umoci repack --image " + image() + " " + bundle().string());
    knast::detail::delete_tree(bundle());
  }

  /// The layer blobs of the image, bottom first.
  std::vector<fs::path> layers() const {
    using Json = nlohmann::json;
    const auto index = Json::parse(store_test::slurp(layout_ / "index.json"));
    const auto blob = [&](const std::string& digest) {
      return layout_ / "blobs" / "sha256" / digest.substr(std::string("sha256:").size());
    };
    const auto manifest = Json::parse(store_test::slurp(blob(index["manifests"][0]["digest"].get<std::string>())));
    std::vector<fs::path> out;
    for (const auto& layer : manifest["layers"]) out.push_back(blob(layer["digest"].get<std::string>()));
    return out;
  }

  /// Names in a layer that are whiteouts.
  static std::vector<std::string> whiteouts_in(const fs::path& layer) {
    std::vector<std::string> out;
    for (const auto& [name, content] : archive_test::read_tar(layer))
      if (name.find(".wh.") != std::string::npos) out.push_back(name);
    return out;
  }

  ScratchDir scratch_;
  fs::path layout_;
};

TEST_F(UmociTest, SameTreeAsUmociUnpack) {
  // Layer 1: files of every kind, owners, modes.
  unpack_bundle();
  fs::create_directories(rootfs() / "etc/app/conf.d");
  fs::create_directories(rootfs() / "usr/lib/app");
  fs::create_directories(rootfs() / "var/empty");
  fs::create_directories(rootfs() / "srv/data/sub");
  store_test::spit(rootfs() / "etc/app/main.conf", "main\n");
  store_test::spit(rootfs() / "etc/app/conf.d/10-a.conf", "a\n");
  store_test::spit(rootfs() / "usr/lib/app/lib.so", std::string(100000, 'L'));
  store_test::spit(rootfs() / "usr/lib/app/suid", "#!/bin/sh\n");
  store_test::spit(rootfs() / "srv/data/sub/x", "x\n");
  store_test::spit(rootfs() / "srv/data/y", "y\n");
  fs::create_hard_link(rootfs() / "usr/lib/app/lib.so", rootfs() / "usr/lib/app/lib.so.1");
  fs::create_symlink("lib.so", rootfs() / "usr/lib/app/lib.so.2");
  fs::create_symlink("/etc/app/main.conf", rootfs() / "etc/main.conf");
  fs::create_symlink("usr/lib", rootfs() / "lib");
  ASSERT_EQ(::chmod((rootfs() / "usr/lib/app/suid").c_str(), 04755), 0);
  ASSERT_EQ(::chmod((rootfs() / "var/empty").c_str(), 01733), 0);
  ASSERT_EQ(::chown((rootfs() / "srv/data").c_str(), 1000, 1000), 0);
  ASSERT_EQ(::lchown((rootfs() / "srv/data/y").c_str(), 1000, 100), 0);
  ASSERT_EQ(::lchown((rootfs() / "etc/main.conf").c_str(), 7, 8), 0);
  ASSERT_EQ(::mkfifo((rootfs() / "var/empty/fifo").c_str(), 0600), 0);
  repack_bundle();

  // Layer 2: deletions (whiteouts), a folder that becomes a file, a file that becomes a
  // folder, changed content and modes, additions.
  unpack_bundle();
  fs::remove(rootfs() / "etc/app/conf.d/10-a.conf");
  fs::remove_all(rootfs() / "srv/data/sub");
  fs::remove(rootfs() / "usr/lib/app/lib.so.2");
  fs::remove_all(rootfs() / "etc/app/conf.d");
  store_test::spit(rootfs() / "etc/app/conf.d", "now a file\n");
  fs::remove(rootfs() / "srv/data/y");
  fs::create_directories(rootfs() / "srv/data/y/inner");
  store_test::spit(rootfs() / "srv/data/y/inner/z", "z\n");
  store_test::spit(rootfs() / "etc/app/main.conf", "main, changed\n");
  ASSERT_EQ(::chmod((rootfs() / "usr/lib/app/suid").c_str(), 02750), 0);
  fs::create_directories(rootfs() / "opt");
  fs::copy_file(rootfs() / "usr/lib/app/suid", rootfs() / "opt/sgid");
  ASSERT_EQ(::chmod((rootfs() / "opt/sgid").c_str(), 06711), 0);
  store_test::spit(rootfs() / "new-file", "new\n");
  repack_bundle();

  // Layer 3: a folder emptied and refilled (umoci writes whiteouts or an opaque marker).
  unpack_bundle();
  fs::remove_all(rootfs() / "usr/lib/app");
  fs::create_directories(rootfs() / "usr/lib/app");
  store_test::spit(rootfs() / "usr/lib/app/only", "only\n");
  repack_bundle();

  const auto blobs = layers();
  ASSERT_EQ(blobs.size(), 3u);
  EXPECT_FALSE(whiteouts_in(blobs[1]).empty()) << "umoci wrote no whiteouts: the test proves nothing";

  const fs::path theirs = scratch_ / "umoci-bundle";
  sh("umoci unpack --image " + image() + " " + theirs.string());
  const fs::path ours = scratch_ / "ours";
  fs::create_directory(ours);
  ApplyReport report;
  for (const auto& blob : blobs)
    report += knast::apply_layer(ours, blob, {}, "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_GT(report.whiteouts, 0u);

  // Directory times included: both set them after the layer's contents.
  EXPECT_EQ(tree(ours, true, true), tree(theirs / "rootfs", true, true));
  const auto got = tree(ours);
  for (const auto& [path, text] : got) EXPECT_EQ(path.find(".wh."), std::string::npos) << path;
  EXPECT_FALSE(got.contains("srv/data/sub"));
  EXPECT_EQ(got.at("etc/app/conf.d").substr(0, 4), "file");
  EXPECT_TRUE(got.contains("usr/lib/app/only"));
  EXPECT_FALSE(got.contains("usr/lib/app/lib.so"));
  // What the comparison covers, seen on our side.
  EXPECT_EQ(got.at("srv/data"), "dir mode=0755 owner=1000:1000");
  EXPECT_EQ(got.at("etc/main.conf").substr(0, 45), "symlink -> /etc/app/main.conf owner=7:8 mtime");
  EXPECT_EQ(got.at("var/empty"), "dir mode=1733 owner=0:0");
  EXPECT_NE(got.at("opt/sgid").find("mode=6711 owner=0:0"), std::string::npos) << got.at("opt/sgid");
  EXPECT_EQ(got.at("var/empty/fifo").substr(0, 25), "fifo mode=0600 owner=0:0 ");
}

}  // namespace
