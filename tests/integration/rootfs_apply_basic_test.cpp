// apply_layer(): every kind of entry, compressions, metadata, and whiteout and opaque
// semantics layer by layer against the expected tree.
#include "rootfs_test_support.hpp"

#include <sys/xattr.h>

namespace {

using namespace rootfs_test;
using oci_test::error_from;

/// How kinds() shows a file holding @p content.
std::string file_of(std::string_view content) {
  return fmt::format("file {} size={}", knast::Digest::of(content).hex().substr(0, 16), content.size());
}

class ApplyTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directory(root()); }
  fs::path root() const { return scratch_ / "root"; }
  ApplyReport apply(const std::vector<Entry>& entries, Filter filter = Filter::none, const ApplyOptions& options = {}) {
    return apply_bytes(root(), scratch_, layer_bytes(entries, filter), options);
  }
  std::map<std::string, std::string> kinds() const {
    // Kind and content only: what whiteout tests care about.
    std::map<std::string, std::string> out;
    for (const auto& [path, text] : tree(root(), false)) out[path] = text.substr(0, text.find(" mode="));
    return out;
  }
  ScratchDir scratch_;
};

TEST_F(ApplyTest, EveryCompressionGivesTheSameTree) {
  const std::vector<Entry> entries{dir("etc"), file("etc/hostname", "box\n"), sym("etc/link", "hostname"),
                                   hard("etc/hard", "etc/hostname"), file("bin/sh", "#!sh").with_mode(0755)};
  std::map<std::string, std::string> expected;
  for (const auto filter : {Filter::none, Filter::gzip, Filter::zstd}) {
    ScratchDir other;
    const auto report = apply_bytes(other.path(), scratch_, layer_bytes(entries, filter));
    EXPECT_EQ(report.entries, 5u);
    EXPECT_EQ(report.bytes, 8u);
    const auto got = tree(other.path());
    if (expected.empty()) expected = got;
    EXPECT_EQ(got, expected);
  }
  EXPECT_EQ(expected.at("etc/hostname").substr(0, 4), "file");
  EXPECT_NE(expected.at("etc/hard").find("link#etc/hard"), std::string::npos);  // one inode, two names
  EXPECT_EQ(expected.at("etc/link"), "symlink -> hostname owner=0:0 mtime=1700000000");
  EXPECT_NE(expected.at("bin").find("dir mode=0755"), std::string::npos);  // a missing parent, made as docker does
}

TEST_F(ApplyTest, MediaTypeMustAgreeWithTheBytes) {
  const auto bytes = layer_bytes({file("a", "x")}, Filter::gzip);
  EXPECT_NO_THROW(apply_bytes(root(), scratch_, bytes, {}, "application/vnd.oci.image.layer.v1.tar+gzip"));
  EXPECT_NO_THROW(apply_bytes(root(), scratch_, bytes, {}, "application/vnd.docker.image.rootfs.diff.tar.gzip"));
  const auto e = error_from([&] { apply_bytes(root(), scratch_, bytes, {}, "application/vnd.oci.image.layer.v1.tar+zstd"); });
  EXPECT_EQ(e.kind(), ErrorCode::integrity) << e.what();
  EXPECT_NE(std::string(e.what()).find("zstd"), std::string::npos) << e.what();
  const auto plain = layer_bytes({file("a", "x")});
  EXPECT_EQ(error_from([&] { apply_bytes(root(), scratch_, plain, {}, "application/vnd.oci.image.layer.v1.tar+gzip"); }).kind(),
            ErrorCode::integrity);
  EXPECT_EQ(error_from([&] { apply_bytes(root(), scratch_, plain, {}, "application/json"); }).kind(),
            ErrorCode::invalid_argument);
  const auto xz = layer_bytes({file("a", "x")}, Filter::xz);
  EXPECT_EQ(error_from([&] { apply_bytes(root(), scratch_, xz); }).kind(), ErrorCode::unsupported);
}

TEST_F(ApplyTest, OwnersModesAndTimes) {
  apply({dir("d").with_mode(0555).owned(12, 34).at(1600000000), file("d/suid", "x").with_mode(04755).owned(1000, 1000),
         file("d/sgid", "x").with_mode(02711).owned(5, 6), dir("tmp").with_mode(01777), sym("d/l", "suid").owned(7, 8).at(1500000000),
         file("d/old", "x").at(1000)});
  const auto t = tree(root());
  // The directory's mtime survives the files created in it after it (fixed up at the end).
  struct stat st {};
  ASSERT_EQ(::lstat((root() / "d").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1600000000);
  EXPECT_EQ(t.at("d"), "dir mode=0555 owner=12:34");
  EXPECT_EQ(t.at("d/suid"), "file 2d711642b726b044 size=1 mode=4755 owner=1000:1000 mtime=1700000000");
  EXPECT_EQ(t.at("d/sgid"), "file 2d711642b726b044 size=1 mode=2711 owner=5:6 mtime=1700000000");
  EXPECT_EQ(t.at("tmp"), "dir mode=1777 owner=0:0");
  EXPECT_EQ(t.at("d/l"), "symlink -> suid owner=7:8 mtime=1500000000");
  EXPECT_EQ(t.at("d/old"), "file 2d711642b726b044 size=1 mode=0644 owner=0:0 mtime=1000");
}

TEST_F(ApplyTest, OwnersKeptOnlyWhenAsked) {
  ApplyOptions options;
  options.preserve_owners = false;
  apply({file("f", "x").owned(1000, 1000)}, Filter::none, options);
  EXPECT_EQ(tree(root()).at("f"), fmt::format("file 2d711642b726b044 size=1 mode=0644 owner={}:{} mtime=1700000000",
                                             ::geteuid(), ::getegid()));
}

TEST_F(ApplyTest, LongNamesAndGnuTar) {
  const std::string deep = std::string(120, 'a') + "/" + std::string(150, 'b') + "/" + std::string(200, 'c');
  const std::string target = std::string(130, 't');
  for (const auto format : {TarFormat::pax_restricted, TarFormat::gnu}) {
    ScratchDir other;
    apply_bytes(other.path(), scratch_, layer_bytes({file(deep, "deep"), sym("l", target), file(target, "t")}, Filter::none, format));
    EXPECT_EQ(store_test::slurp(other / deep), "deep");
    EXPECT_EQ(fs::read_symlink(other / "l").string(), target);
  }
}

TEST_F(ApplyTest, SparseFilesKeepTheirHoles) {
  std::string content(2 << 20, '\0');
  std::fill_n(content.begin(), 4096, 'S');
  std::fill_n(content.begin() + (1 << 20), 4096, 'S');
  Entry sparse = file("sparse", content);
  sparse.sparse = {{0, 4096}, {1 << 20, 4096}};
  const auto report = apply({sparse}, Filter::gzip);
  struct stat st {};
  ASSERT_EQ(::stat((root() / "sparse").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 2 << 20);
  EXPECT_EQ(report.bytes, 8192u);  // holes are not content
  EXPECT_EQ(store_test::slurp(root() / "sparse"), content);
  EXPECT_LT(st.st_blocks * 512, 1 << 20);  // the hole is a hole
}

TEST_F(ApplyTest, ExtendedAttributes) {
  const auto report = apply({file("f", "x").xattr("user.knast", "value"), dir("d").xattr("user.dir", "dv")});
  char buffer[64] = {};
  const auto n = ::getxattr((root() / "f").c_str(), "user.knast", buffer, sizeof buffer);
  if (n < 0 && errno == ENOTSUP) {
    EXPECT_EQ(report.skipped_xattrs, 2u);  // tmpfs without user xattrs: counted, not fatal
    GTEST_SKIP() << "no user xattrs on " << root();
  }
  EXPECT_EQ(std::string(buffer, static_cast<std::size_t>(std::max<ssize_t>(n, 0))), "value");
  EXPECT_GT(::getxattr((root() / "d").c_str(), "user.dir", buffer, sizeof buffer), 0);
  EXPECT_EQ(report.skipped_xattrs, 0u);
  ApplyOptions off;
  off.xattrs = false;
  ScratchDir other;
  const auto skipped = apply_bytes(other.path(), scratch_, layer_bytes({file("f", "x").xattr("user.knast", "v")}), off);
  EXPECT_LT(::getxattr((other / "f").c_str(), "user.knast", buffer, sizeof buffer), 0);
  EXPECT_EQ(skipped.skipped_xattrs, 0u);
}

TEST_F(ApplyTest, FifosAreMadeNeverOpened) {
  // A reader opening the FIFO would block; apply_layer must return promptly.
  apply({fifo("run/pipe").with_mode(0620), file("after", "ok")});
  EXPECT_EQ(tree(root()).at("run/pipe"), "fifo mode=0620 owner=0:0 mtime=1700000000");
  EXPECT_EQ(store_test::slurp(root() / "after"), "ok");
}

TEST_F(ApplyTest, DevicesOnlyWhenAllowedAndRoot) {
  const std::vector<Entry> entries{chardev("dev/null", 1, 3), chardev("dev/zero", 1, 5), file("dev/after", "x")};
  const auto skipped = apply(entries);
  EXPECT_EQ(skipped.skipped_devices, 2u);
  EXPECT_EQ(skipped.warnings.size(), 2u);
  EXPECT_FALSE(fs::exists(fs::symlink_status(root() / "dev/null")));
  EXPECT_TRUE(fs::exists(root() / "dev/after"));
  if (::geteuid() != 0) GTEST_SKIP() << "device nodes need root";
  ApplyOptions allow;
  allow.allow_devices = true;
  ScratchDir other;
  const auto made = apply_bytes(other.path(), scratch_, layer_bytes(entries), allow);
  EXPECT_EQ(made.skipped_devices, 0u);
  EXPECT_EQ(tree(other.path()).at("dev/null"), "chardev 1:3 mode=0666 owner=0:0 mtime=1700000000");
}

// ---- Across layers ---------------------------------------------------------------------

TEST_F(ApplyTest, FileReplacesDirectoryAndBack) {
  apply({dir("a"), file("a/inner", "1"), file("b", "2"), sym("c", "/etc")});
  apply({file("a", "now a file"), dir("b"), file("b/x", "3"), dir("c")});
  EXPECT_EQ(kinds(), (std::map<std::string, std::string>{
                         {"a", file_of("now a file")}, {"b", "dir"}, {"b/x", file_of("3")}, {"c", "dir"}}));
}

TEST_F(ApplyTest, DirectoryOverDirectoryMergesAndTakesTheNewMetadata) {
  apply({dir("d").with_mode(0700), file("d/old", "o")});
  apply({dir("d").with_mode(0751).owned(3, 4), file("d/new", "n")});
  const auto t = tree(root());
  EXPECT_EQ(t.at("d"), "dir mode=0751 owner=3:4");
  EXPECT_TRUE(t.contains("d/old"));
  EXPECT_TRUE(t.contains("d/new"));
}

TEST_F(ApplyTest, FileOverFileDoesNotWriteThroughAHardlink) {
  apply({file("a", "lower"), hard("b", "a")});
  apply({file("b", "upper")});
  EXPECT_EQ(store_test::slurp(root() / "a"), "lower");
  EXPECT_EQ(store_test::slurp(root() / "b"), "upper");
}

TEST_F(ApplyTest, WhiteoutsRemoveLowerEntries) {
  apply({dir("etc"), file("etc/a", "a"), file("etc/b", "b"), dir("etc/sub"), file("etc/sub/x", "x"),
         sym("etc/link", "/etc/a"), file("keep", "k")});
  const auto report = apply({whiteout("etc/a"), whiteout("etc/sub"), whiteout("etc/link"), whiteout("nothing-here"),
                             whiteout("missing/dir/x")});
  EXPECT_EQ(report.whiteouts, 5u);
  EXPECT_EQ(kinds(), (std::map<std::string, std::string>{
                         {"etc", "dir"}, {"etc/b", file_of("b")}, {"keep", file_of("k")}}));
  EXPECT_FALSE(fs::exists(root() / "missing"));  // a whiteout creates nothing
}

TEST_F(ApplyTest, WhiteoutOfALinkRemovesTheLinkNotItsTarget) {
  apply({dir("real"), file("real/f", "f"), sym("alias", "real"), sym("abs", "/real")});
  apply({whiteout("alias"), whiteout("abs")});
  EXPECT_EQ(kinds(), (std::map<std::string, std::string>{{"real", "dir"}, {"real/f", file_of("f")}}));
}

TEST_F(ApplyTest, WhiteoutDoesNotHideItsOwnLayer) {
  apply({file("x", "lower")});
  apply({file("x", "same layer"), whiteout("x")});  // the spec: whiteouts apply to lower layers only
  EXPECT_EQ(store_test::slurp(root() / "x"), "same layer");
}

TEST_F(ApplyTest, OpaqueDirectoryMarkerBeforeAndAfterTheLayersOwnEntries) {
  const std::vector<Entry> lower{dir("d"), file("d/lower1", "1"), dir("d/sub"), file("d/sub/lower2", "2"), file("other", "o")};
  // Marker first (the order the spec recommends).
  apply(lower);
  apply({dir("d"), opaque("d"), file("d/new", "n"), dir("d/sub"), file("d/sub/new2", "m")});
  const std::map<std::string, std::string> expected{{"d", "dir"},
                                                    {"d/new", file_of("n")},
                                                    {"d/sub", "dir"},
                                                    {"d/sub/new2", file_of("m")},
                                                    {"other", file_of("o")}};
  EXPECT_EQ(kinds(), expected);
  // Marker last: what the layer added before it stays, lower content under a re-listed
  // directory goes.
  ScratchDir other;
  apply_bytes(other.path(), scratch_, layer_bytes(lower));
  apply_bytes(other.path(), scratch_, layer_bytes({dir("d"), file("d/new", "n"), dir("d/sub"), file("d/sub/new2", "m"), opaque("d")}));
  std::map<std::string, std::string> got;
  for (const auto& [path, text] : tree(other.path(), false)) got[path] = text.substr(0, text.find(" mode="));
  EXPECT_EQ(got, expected);
}

TEST_F(ApplyTest, OpaqueMarkerWithoutItsDirectoryMakesIt) {
  apply({opaque("fresh")});
  EXPECT_EQ(kinds(), (std::map<std::string, std::string>{{"fresh", "dir"}}));
}

TEST_F(ApplyTest, WhiteoutEntriesNeverAppear) {
  apply({dir("d"), file("d/x", "x")});
  apply({whiteout("d/x"), opaque("d"), file(".wh..wh.plnk/123.4", "aufs"), whiteout("gone")});
  for (const auto& [path, text] : tree(root())) EXPECT_EQ(path.find(".wh."), std::string::npos) << path;
}

TEST_F(ApplyTest, ThreeLayersAgainstTheExpectedTree) {
  apply({dir("bin"), file("bin/sh", "sh1").with_mode(0755), dir("etc"), file("etc/passwd", "p1"), file("etc/group", "g1"),
         dir("usr"), dir("usr/lib"), file("usr/lib/a.so", "a"), file("usr/lib/b.so", "b")},
        Filter::gzip);
  apply({whiteout("etc/group"), file("etc/passwd", "p2"), opaque("usr/lib"), file("usr/lib/c.so", "c"),
         sym("lib", "usr/lib")},
        Filter::zstd);
  apply({file("lib/d.so", "d"), whiteout("bin"), dir("bin"), file("bin/busybox", "bb")});
  EXPECT_EQ(kinds(), (std::map<std::string, std::string>{
                         {"bin", "dir"},
                         {"bin/busybox", file_of("bb")},
                         {"etc", "dir"},
                         {"etc/passwd", file_of("p2")},
                         {"lib", "symlink -> usr/lib owner=0:0"},
                         {"usr", "dir"},
                         {"usr/lib", "dir"},
                         {"usr/lib/c.so", file_of("c")},
                         {"usr/lib/d.so", file_of("d")}}));
}

TEST_F(ApplyTest, ReportsAdd) {
  ApplyReport a;
  a.entries = 2;
  a.bytes = 10;
  a.warnings = {"one"};
  ApplyReport b;
  b.entries = 3;
  b.whiteouts = 1;
  b.skipped_devices = 4;
  b.skipped_xattrs = 5;
  b.bytes = 1;
  b.warnings = std::vector<std::string>(120, "w");
  a += b;
  EXPECT_EQ(a.entries, 5u);
  EXPECT_EQ(a.bytes, 11u);
  EXPECT_EQ(a.whiteouts, 1u);
  EXPECT_EQ(a.skipped_devices, 4u);
  EXPECT_EQ(a.skipped_xattrs, 5u);
  EXPECT_EQ(a.warnings.size(), 100u);
  EXPECT_EQ(a.warnings.front(), "one");
}

}  // namespace
