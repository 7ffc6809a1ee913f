// Diffs by round trip: apply(diff(base, changed)) onto a copy of base gives changed —
// contents, modes, owners, mtimes (directories too), symlinks, hardlinks, xattrs,
// devices, fifos, removed files and folders, a file replaced by a folder and back — for
// two trees (directory driver, write_layer_diff) and for an overlay's upper directory.
#include "rootfs_snap_support.hpp"

#include "rootfs/tree_copy.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <fstream>
#include <random>

namespace {

using namespace rootfs_snap;
using knast::LayerCompression;
using knast::Rootfs;
using knast::SnapshotDriver;
using knast::StateLayout;

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(gen());
  return out;
}

/// A base with something for every kind of change.
std::vector<Entry> base_entries() {
  return {dir("bin"), file("bin/tool", "tool"), sym("bin/sh", "tool"), dir("etc"), file("etc/hostname", "base\n"),
          file("etc/passwd", "root:x:0:0\n"), file("etc/attrs", "a").xattr("user.one", "1"), file("etc/gone", "bye"),
          dir("olddir"), file("olddir/a", "a"), dir("olddir/sub"), file("olddir/sub/b", "b"), file("f2d", "file"),
          dir("d2f"), file("d2f/x", "x"), dir("data"), file("data/big", random_bytes(200000, 1)),
          file("data/keep", random_bytes(300000, 2)), dir("home"), file("home/.profile", "p")};
}

void write_file(const fs::path& path, const std::string& data) { std::ofstream(path, std::ios::binary) << data; }

void set_mtime(const fs::path& path, std::int64_t sec, long nsec) {
  const struct timespec times[2] = {{sec, nsec}, {sec, nsec}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

/// Every kind of change, made with plain system calls under @p root.
void mutate(const fs::path& root) {
  write_file(root / "new.txt", "new file\n");
  write_file(root / "etc/hostname", "changed host\n");
  ASSERT_EQ(::chmod((root / "etc/passwd").c_str(), 0600), 0);
  ASSERT_EQ(::lchown((root / "home/.profile").c_str(), 2000, 2001), 0);
  set_mtime(root / "bin/tool", 1600000000, 123456789);
  ASSERT_EQ(::lsetxattr((root / "etc/attrs").c_str(), "user.one", "2", 1, 0), 0);
  ASSERT_EQ(::lsetxattr((root / "etc/attrs").c_str(), "user.two", "x", 1, 0), 0);
  fs::remove(root / "etc/gone");
  fs::remove_all(root / "olddir");  // libstdc++ does not follow links; nothing to follow here
  fs::remove(root / "f2d");
  fs::create_directory(root / "f2d");
  write_file(root / "f2d/inner", "inner");
  fs::remove_all(root / "d2f");
  write_file(root / "d2f", "now a file");
  fs::remove(root / "bin/sh");
  fs::create_symlink("/bin/other", root / "bin/sh");
  fs::create_directory(root / "hl");
  write_file(root / "hl/a", "linked");
  fs::create_hard_link(root / "hl/a", root / "hl/b");
  fs::create_hard_link(root / "data/big", root / "data/big-link");  // to an unchanged file
  ASSERT_EQ(::mkfifo((root / "hl/fifo").c_str(), 0640), 0);
  ASSERT_EQ(::mknod((root / "hl/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  set_mtime(root / "hl", 1650000000, 5);
}

class RootfsDiff : public ::testing::TestWithParam<LayerCompression> {
 protected:
  ScratchDir scratch;
  ApplyOptions apply_options() const {
    ApplyOptions o;
    o.allow_devices = true;
    return o;
  }
};

TEST_P(RootfsDiff, TwoTreesRoundTrip) {
  const fs::path base = scratch / "base";
  fs::create_directory(base);
  apply_bytes(base, scratch, layer_bytes(base_entries()), apply_options());
  const fs::path changed = scratch / "changed";
  knast::detail::copy_tree(base, changed);
  ASSERT_EQ(full_tree(changed), full_tree(base)) << "copy_tree is not faithful";
  mutate(changed);

  const fs::path layer = scratch / "diff.layer";
  const auto diff = knast::write_layer_diff(base, changed, layer, GetParam());
  const std::string bytes = store_test::slurp(layer);
  EXPECT_EQ(diff.descriptor.digest, knast::Digest::of(bytes));
  EXPECT_EQ(diff.descriptor.size, static_cast<std::int64_t>(bytes.size()));
  EXPECT_EQ(diff.descriptor.media_type, std::string(media_type_of(GetParam() == LayerCompression::gzip ? Filter::gzip
                                                                   : GetParam() == LayerCompression::zstd ? Filter::zstd
                                                                                                          : Filter::none)));
  if (GetParam() == LayerCompression::none) {
    EXPECT_EQ(diff.diff_id, diff.descriptor.digest);
  }
  EXPECT_LT(bytes.size(), 290000u) << "data/keep did not change and must not be in the layer";
  EXPECT_GT(diff.changes, 15u);

  const fs::path target = scratch / "target";
  knast::detail::copy_tree(base, target);
  knast::apply_layer(target, layer, apply_options(), diff.descriptor.media_type);
  const auto want = full_tree(changed);
  const auto got = full_tree(target);
  EXPECT_EQ(got, want) << tree_difference(want, got);
}

TEST_P(RootfsDiff, NoChangesGiveAnEmptyLayer) {
  const fs::path base = scratch / "base";
  fs::create_directory(base);
  apply_bytes(base, scratch, layer_bytes(base_entries()), apply_options());
  const fs::path same = scratch / "same";
  knast::detail::copy_tree(base, same);
  const auto diff = knast::write_layer_diff(base, same, scratch / "empty.layer", GetParam());
  EXPECT_EQ(diff.changes, 0u);
}

INSTANTIATE_TEST_SUITE_P(Compressions, RootfsDiff,
                         ::testing::Values(LayerCompression::none, LayerCompression::gzip, LayerCompression::zstd),
                         [](const auto& param_info) {
                           return std::string(param_info.param == LayerCompression::none   ? "none"
                                              : param_info.param == LayerCompression::gzip ? "gzip"
                                                                                     : "zstd");
                         });

TEST(RootfsDiffErrors, MissingTreesAreNotFound) {
  ScratchDir scratch;
  try {
    knast::write_layer_diff(scratch / "nope", scratch.path(), scratch / "out");
    FAIL() << "no error";
  } catch (const knast::Error& e) {
    EXPECT_EQ(e.kind(), knast::ErrorCode::not_found) << e.what();
  }
  EXPECT_FALSE(fs::exists(scratch / "out"));
}

/// Rootfs::diff() of a container, per driver: the overlay's from its upper directory.
class RootfsContainerDiff : public ::testing::TestWithParam<SnapshotDriver> {};

TEST_P(RootfsContainerDiff, RoundTrip) {
  ScratchDir scratch;
  const StateLayout layout(scratch / "state");
  knast::ImageStore store = knast::ImageStore::open(layout.store());
  knast::RootfsOptions options;
  options.driver = GetParam();
  options.apply.allow_devices = true;
  Rootfs rootfs = Rootfs::open(layout, options);
  const auto chain = rootfs.unpack(store, put_image(store, "test/base:1", {{base_entries(), Filter::gzip}})).chain;
  const auto c = rootfs.create(chain.chain_id, "c1");
  struct RemoveAtEnd {  // even when an assertion fails: no mount may outlive the test
    Rootfs& rootfs;
    ~RemoveAtEnd() { rootfs.remove("c1"); }
  } remove_at_end{rootfs};
  mutate(c.path);
  const auto diff = rootfs.diff("c1", scratch / "c1.layer", LayerCompression::gzip);
  const fs::path target = scratch / "target";
  knast::detail::copy_tree(chain.path, target);
  knast::apply_layer(target, scratch / "c1.layer", options.apply, diff.descriptor.media_type);
  const auto want = full_tree(c.path);
  const auto got = full_tree(target);
  EXPECT_EQ(got, want) << tree_difference(want, got);
  EXPECT_LT(diff.descriptor.size, 290000) << "data/keep did not change and must not be in the layer";
}

INSTANTIATE_TEST_SUITE_P(Drivers, RootfsContainerDiff, ::testing::Values(SnapshotDriver::directory, SnapshotDriver::overlay),
                         [](const auto& param_info) { return std::string(knast::to_string(param_info.param)); });

}  // namespace
