// Hostile layers: names, links and whiteouts that try to reach outside the root. Each
// case runs next to a canary folder outside the root whose every file, mode, owner and
// time must be unchanged afterwards, and checks whether the layer was refused (with an
// error naming the entry) or confined to the root (as docker confines it).
#include "rootfs_test_support.hpp"

#include <gmock/gmock.h>

namespace {

using namespace rootfs_test;
using testing::HasSubstr;

class HostileTest : public ::testing::Test {
 protected:
  HostileTest() : canary_(scratch_ / "canary") { fs::create_directory(root()); }
  void TearDown() override { EXPECT_TRUE(canary_.untouched()) << canary_.changes(); }

  fs::path root() const { return scratch_ / "root"; }
  /// The canary's absolute path, as a hostile link would name it.
  std::string host_path(const std::string& rest = {}) const {
    return rest.empty() ? canary_.path().string() : (canary_.path() / rest).string();
  }
  /// Where the canary's absolute path lands when resolved inside the root.
  fs::path confined(const std::string& rest = {}) const {
    return root() / fs::path(host_path(rest)).relative_path();
  }

  /// Applies @p layers in order; the last must be refused with @p kind and a message
  /// holding @p fragment.
  void expect_refused(const std::vector<std::vector<Entry>>& layers, ErrorCode kind, const std::string& fragment) {
    for (std::size_t i = 0; i + 1 < layers.size(); ++i) apply_bytes(root(), scratch_, layer_bytes(layers[i]));
    const auto e = oci_test::error_from([&] { apply_bytes(root(), scratch_, layer_bytes(layers.back())); });
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_THAT(e.what(), HasSubstr(fragment));
  }
  /// Applies @p layers in order; all must be accepted.
  void expect_confined(const std::vector<std::vector<Entry>>& layers, const ApplyOptions& options = {}) {
    for (const auto& layer : layers) apply_bytes(root(), scratch_, layer_bytes(layer), options);
  }

  ScratchDir scratch_;
  Canary canary_;
};

// ---- Refused -----------------------------------------------------------------------------

TEST_F(HostileTest, DotDotNameIsRefused) {
  expect_refused({{file("../canary/passwd", "pwned")}}, ErrorCode::invalid_argument, "entry \"../canary/passwd\"");
}

TEST_F(HostileTest, DotDotInsideANameIsRefused) {
  expect_refused({{dir("a"), file("a/../../canary/passwd", "pwned")}}, ErrorCode::invalid_argument,
                 "entry \"a/../../canary/passwd\": its name climbs above the root");
}

TEST_F(HostileTest, WhiteoutNamingDotDotIsRefused) {
  expect_refused({{whiteout("../canary/passwd")}}, ErrorCode::invalid_argument, "entry \"../canary/.wh.passwd\"");
}

TEST_F(HostileTest, HardlinkToAHostFileIsRefused) {
  // Resolved inside the root, the host path names nothing: the hardlink has no target.
  expect_refused({{hard("stolen", host_path("passwd"))}}, ErrorCode::invalid_argument, "does not exist in the root");
  EXPECT_FALSE(fs::exists(fs::symlink_status(root() / "stolen")));
}

TEST_F(HostileTest, HardlinkClimbingOutIsRefused) {
  expect_refused({{hard("stolen", "../canary/passwd")}}, ErrorCode::invalid_argument, "climbs above the root");
}

TEST_F(HostileTest, HardlinkThroughASymlinkOutIsRefused) {
  expect_refused({{sym("evil", host_path())}, {hard("stolen", "evil/passwd")}}, ErrorCode::invalid_argument,
                 "entry \"stolen\": hardlink target \"evil/passwd\" does not exist in the root");
}

TEST_F(HostileTest, SymlinkLoopIsRefused) {
  expect_refused({{sym("l1", "l2"), sym("l2", "l1"), file("l1/x", "x")}}, ErrorCode::invalid_argument,
                 "symbolic links (a loop?)");
}

TEST_F(HostileTest, EntriesNamingTheRootAreRefused) {
  expect_refused({{file(".", "x")}}, ErrorCode::invalid_argument, "names the root itself");
  expect_refused({{sym("/", "etc")}}, ErrorCode::invalid_argument, "names the root itself");
  expect_refused({{file(".wh..", "")}}, ErrorCode::invalid_argument, "names no entry");
  expect_refused({{hard("x", "/")}}, ErrorCode::invalid_argument, "hardlink to the root");
}

// ---- Confined ----------------------------------------------------------------------------

TEST_F(HostileTest, AbsoluteNameIsConfined) {
  expect_confined({{file(host_path("passwd"), "confined")}});
  EXPECT_EQ(store_test::slurp(confined("passwd")), "confined");
}

TEST_F(HostileTest, FileThroughAnAbsoluteSymlinkIsConfined) {
  expect_confined({{sym("evil", host_path()), file("evil/passwd", "confined"), dir("evil/sub").with_mode(0777)}});
  EXPECT_EQ(store_test::slurp(confined("passwd")), "confined");
}

TEST_F(HostileTest, FileThroughASymlinkOfALowerLayerIsConfined) {
  expect_confined({{sym("etc", host_path())}, {file("etc/passwd", "confined"), file("etc/sub/data", "c")}});
  EXPECT_EQ(store_test::slurp(confined("passwd")), "confined");
  EXPECT_EQ(store_test::slurp(confined("sub/data")), "c");
}

TEST_F(HostileTest, FileThroughARelativeSymlinkClimbingOutIsConfined) {
  expect_confined({{sym("evil", "../../../../../../../../.." + host_path()), file("evil/passwd", "confined")}});
  EXPECT_EQ(store_test::slurp(confined("passwd")), "confined");
}

TEST_F(HostileTest, FileThroughASymlinkToSlashIsConfined) {
  expect_confined({{sym("slash", "/"), file("slash" + host_path("passwd"), "confined")}});
  EXPECT_EQ(store_test::slurp(confined("passwd")), "confined");
}

TEST_F(HostileTest, FileThroughAChainOfSymlinksIsConfined) {
  expect_confined({{sym("a", "b"), sym("b", host_path("sub")), file("a/data", "confined")}});
  EXPECT_EQ(store_test::slurp(confined("sub/data")), "confined");
}

TEST_F(HostileTest, FileThroughProcSelfRootIsConfined) {
  // A magic link on the host; inside the root only a path like any other.
  expect_confined({{sym("p", "/proc/self/root"), file("p" + host_path("passwd"), "confined")}});
  EXPECT_EQ(store_test::slurp(root() / "proc/self/root" / fs::path(host_path("passwd")).relative_path()), "confined");
}

TEST_F(HostileTest, EntryReplacesASymlinkInsteadOfWritingThroughIt) {
  expect_confined({{sym("passwd", host_path("passwd")), sym("d", host_path("sub"))},
                   {file("passwd", "replaced"), dir("d").with_mode(0700)}});
  EXPECT_EQ(tree(root(), false).at("passwd").substr(0, 4), "file");
  EXPECT_EQ(tree(root(), false).at("d"), "dir mode=0700 owner=0:0");
}

TEST_F(HostileTest, HardlinkToASymlinkLinksTheSymlinkItself) {
  expect_confined({{sym("s", host_path("passwd")), hard("h", "s")}, {file("h", "replaced")}});
  EXPECT_EQ(fs::read_symlink(root() / "s"), host_path("passwd"));
}

TEST_F(HostileTest, WhiteoutThroughASymlinkRemovesNothingOutside) {
  expect_confined({{sym("evil", host_path())}, {whiteout("evil/passwd"), whiteout("evil/sub")}});
  EXPECT_TRUE(fs::is_symlink(root() / "evil"));
}

TEST_F(HostileTest, WhiteoutOfASymlinkRemovesTheLinkOnly) {
  expect_confined({{sym("evil", host_path()), sym("evil_file", host_path("passwd"))}, {whiteout("evil"), whiteout("evil_file")}});
  EXPECT_FALSE(fs::exists(fs::symlink_status(root() / "evil")));
}

TEST_F(HostileTest, OpaqueMarkerThroughASymlinkStaysInside) {
  expect_confined({{sym("evil", host_path())}, {opaque("evil")}});
  EXPECT_TRUE(fs::is_directory(confined()));
}

TEST_F(HostileTest, DeviceNodesAreSkippedUnlessAllowed) {
  const auto report = apply_bytes(root(), scratch_, layer_bytes({chardev("dev/mem", 1, 1), Entry(chardev("disk", 8, 0))}));
  EXPECT_EQ(report.skipped_devices, 2u);
  EXPECT_FALSE(fs::exists(fs::symlink_status(root() / "dev/mem")));
}

}  // namespace

namespace {

TEST(HostileHarness, CanaryNoticesAChange) {
  rootfs_test::ScratchDir scratch;
  rootfs_test::Canary canary(scratch / "canary");
  EXPECT_TRUE(canary.untouched());
  store_test::spit(canary.path() / "sub/data", "changed\n");
  EXPECT_FALSE(canary.untouched());
  EXPECT_EQ(canary.changes(), "changed/added sub/data\n");
}

}  // namespace
