// Snapshot drivers for real: a container root made from a chain is a faithful, writable
// copy (directory) or overlay (Linux) of it; removing it leaves no file and no mount
// behind and never follows a link inside it; records let another Rootfs remove it.
// zfs runs only where /sbin/zfs exists (GTEST_SKIP elsewhere).
#include "rootfs_snap_support.hpp"

#include "rootfs/tree_remove.hpp"

#include <knast/linuxulator.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

namespace {

using namespace rootfs_snap;
using knast::Error;
using knast::ErrorCode;
using knast::Rootfs;
using knast::SnapshotDriver;
using knast::StateLayout;

class RootfsDriver : public ::testing::TestWithParam<SnapshotDriver> {
 protected:
  void SetUp() override {
    if (GetParam() == SnapshotDriver::zfs) {
      if (!fs::exists("/sbin/zfs") || !std::getenv("KNAST_TEST_ZFS_DATASET"))
        GTEST_SKIP() << "zfs: needs /sbin/zfs and KNAST_TEST_ZFS_DATASET (a dataset the test may fill)";
      options.zfs_dataset = std::getenv("KNAST_TEST_ZFS_DATASET");
    }
    options.driver = GetParam();
    options.apply.allow_devices = true;
    rootfs.emplace(Rootfs::open(layout, options));
    auto layers = three_layers();
    layers[0].entries.push_back(fifo("run/fifo"));
    layers[0].entries.push_back(chardev("dev/null", 1, 3));
    layers[0].entries.push_back(file("etc/attrs", "x").xattr("user.knast", "value"));
    chain = rootfs->unpack(store, put_image(store, "test/a:1", layers)).chain;
  }

  // Whatever a test left (a failed one, or one that keeps its container) is removed here,
  // before the scratch folder goes: an overlay mount must not outlive its test.
  void TearDown() override {
    if (!rootfs) return;
    for (const auto& c : rootfs->containers()) rootfs->remove(c.id);
    EXPECT_EQ(mount_points().count((layout.containers() / "c1" / "rootfs").string()), 0u);
  }

  ScratchDir scratch;
  StateLayout layout{scratch / "state"};
  knast::ImageStore store = knast::ImageStore::open(layout.store());
  knast::RootfsOptions options;
  std::optional<Rootfs> rootfs;
  knast::ChainInfo chain;
};

TEST_P(RootfsDriver, AContainerRootIsTheChainAndItsWritesStayItsOwn) {
  const auto chain_tree = full_tree(chain.path);
  const auto c = rootfs->create(chain.chain_id, "c1");
  EXPECT_EQ(c.id, "c1");
  EXPECT_EQ(c.driver, GetParam());
  EXPECT_EQ(c.chain_id, chain.chain_id);
  EXPECT_EQ(c.path, layout.containers() / "c1" / "rootfs");
  EXPECT_EQ(full_tree(c.path), chain_tree) << tree_difference(chain_tree, full_tree(c.path));
  struct stat root {}, chain_root {};
  ASSERT_EQ(::lstat(c.path.c_str(), &root), 0);
  ASSERT_EQ(::lstat(chain.path.c_str(), &chain_root), 0);
  EXPECT_EQ(root.st_mode, chain_root.st_mode);
  // The root's ELF index (below) matches its files as create() left them.
  knast::BrandOptions scan;
  scan.mode = knast::BrandMode::all;
  scan.operation = knast::BrandOperation::scan;
  scan.elf_index = c.elf_index;
  const knast::BrandReport scanned = knast::brand_tree(c.path, scan);
  EXPECT_GT(scanned.known_not_elf, 0u);
  EXPECT_EQ(scanned.known_not_elf + 1, scanned.scanned) << "all but etc/passwd (see rootfs_cache_test)";

  std::ofstream(c.path / "etc" / "hostname") << "changed\n";
  fs::remove(c.path / "bin" / "tool");
  fs::create_directories(c.path / "new" / "dir");
  EXPECT_EQ(full_tree(chain.path), chain_tree);  // the chain is never written

  const auto listed = rootfs->containers();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, "c1");
  // The ELF index that describes the root: the chain's where the root shows the chain's
  // files as they are, one of its own for a copy.
  ASSERT_FALSE(chain.elf_index.empty());
  if (GetParam() == SnapshotDriver::directory) EXPECT_EQ(c.elf_index, layout.containers() / "c1" / "elf-index");
  else EXPECT_EQ(c.elf_index, chain.elf_index);
  EXPECT_EQ(listed[0].elf_index, c.elf_index);
  EXPECT_EQ(rootfs->find(chain.chain_id)->containers, std::vector<std::string>{"c1"});
}

TEST_P(RootfsDriver, CreateAndRemoveLeaveNothingBehind) {
  const auto files_before = inventory(layout.root());
  const auto mounts_before = mount_points();
  const auto c = rootfs->create(chain.chain_id, "c1");
  EXPECT_NE(inventory(layout.root()), files_before);
  if (GetParam() == SnapshotDriver::overlay) {
    EXPECT_EQ(mount_points().count(c.path.string()), 1u);
  }
  std::ofstream(c.path / "written") << "data";
  // Another Rootfs (another process) removes it from its record alone.
  Rootfs other = Rootfs::open(layout);
  EXPECT_TRUE(other.remove("c1"));
  EXPECT_EQ(inventory(layout.root()), files_before);
  EXPECT_EQ(mount_points(), mounts_before);
  EXPECT_FALSE(rootfs->remove("c1"));  // idempotent
  EXPECT_TRUE(rootfs->containers().empty());
}

TEST_P(RootfsDriver, RemoveNeverFollowsALinkInsideTheRoot) {
  Canary canary(scratch / "canary");
  const auto c = rootfs->create(chain.chain_id, "c1");
  fs::create_symlink(canary.path(), c.path / "evil-dir");
  fs::create_symlink(canary.path() / "passwd", c.path / "evil-file");
  fs::create_directories(c.path / "deep");
  fs::create_symlink("/", c.path / "deep" / "root");
  ::chmod((c.path / "deep").c_str(), 0555);  // an unwritable directory in the way
  EXPECT_TRUE(rootfs->remove("c1"));
  EXPECT_TRUE(canary.untouched()) << canary.changes();
  EXPECT_FALSE(fs::exists(layout.containers() / "c1"));
}

TEST_P(RootfsDriver, AContainerRootAtAPathOfTheCallersChoice) {
  const auto files_before = inventory(scratch.path());
  const auto c = rootfs->create(chain.chain_id, "new-path", {scratch / "out"});
  EXPECT_EQ(c.path, scratch / "out");
  EXPECT_EQ(tree(c.path), tree(chain.path));
  EXPECT_TRUE(rootfs->remove("new-path"));
  EXPECT_EQ(inventory(scratch.path()), files_before);

  fs::create_directory(scratch / "empty");
  const auto files_with_empty = inventory(scratch.path());
  rootfs->create(chain.chain_id, "empty-path", {scratch / "empty"});
  EXPECT_TRUE(fs::exists(scratch / "empty" / "etc" / "hostname"));
  EXPECT_TRUE(rootfs->remove("empty-path"));
  EXPECT_EQ(inventory(scratch.path()), files_with_empty);  // the empty folder stays

  std::ofstream(scratch / "empty" / "file") << "x";
  try {
    rootfs->create(chain.chain_id, "full-path", {scratch / "empty"});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << e.what();
  }
  EXPECT_TRUE(rootfs->containers().empty());
}

TEST_P(RootfsDriver, CreateRefusesBadIdsTakenIdsAndUnknownChains) {
  const auto expect_error = [](ErrorCode code, auto&& f) {
    try {
      f();
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), code) << e.what();
    }
  };
  expect_error(ErrorCode::invalid_argument, [&] { rootfs->create(chain.chain_id, "../escape"); });
  expect_error(ErrorCode::invalid_argument, [&] { rootfs->remove("a/b"); });
  expect_error(ErrorCode::not_found,
               [&] { rootfs->create(knast::Digest::of(std::string_view("no chain")), "c1"); });
  rootfs->create(chain.chain_id, "c1");
  expect_error(ErrorCode::already_exists, [&] { rootfs->create(chain.chain_id, "c1"); });
  EXPECT_EQ(rootfs->containers().size(), 1u);
  EXPECT_TRUE(rootfs->remove("c1"));
  EXPECT_FALSE(fs::exists(scratch / "escape"));
}

TEST_P(RootfsDriver, ContainerFilesOfOthersAreKept) {
  // A runtime keeps its own files in containers/<id>/: remove() takes only its own.
  fs::create_directories(layout.containers() / "c1");
  std::ofstream(layout.containers() / "c1" / "config.json") << "{}";
  rootfs->create(chain.chain_id, "c1");
  EXPECT_TRUE(rootfs->remove("c1"));
  EXPECT_EQ(inventory(layout.containers() / "c1"), (std::set<std::string>{".", "config.json"}));
}

INSTANTIATE_TEST_SUITE_P(Drivers, RootfsDriver,
                         ::testing::Values(SnapshotDriver::directory, SnapshotDriver::overlay, SnapshotDriver::zfs),
                         [](const auto& param_info) { return std::string(knast::to_string(param_info.param)); });

}  // namespace

namespace {

TEST(RootfsPaths, ARelativeStateRootIsMadeAbsolute) {
  // Records and overlay options are read later, from any working directory.
  rootfs_test::ScratchDir scratch;
  const auto relative = fs::relative(scratch / "state");
  ASSERT_TRUE(relative.is_relative());
  knast::ImageStore store = knast::ImageStore::open(scratch / "state" / "store");
  Rootfs rootfs = Rootfs::open(StateLayout(relative));
  EXPECT_EQ(rootfs.layout().root(), scratch / "state");
  const auto chain = rootfs.unpack(store, rootfs_snap::put_image(store, "test/a:1", rootfs_snap::three_layers())).chain;
  EXPECT_TRUE(chain.path.is_absolute());
  const auto c = rootfs.create(chain.chain_id, "c1");
  EXPECT_EQ(c.path, scratch / "state" / "containers" / "c1" / "rootfs");
  EXPECT_TRUE(rootfs.remove("c1"));
}

}  // namespace
