// The chain cache: unpack builds a chain once, reuses the longest cached prefix, checks
// diff_ids, caches nothing for a refused layer, survives two unpackers at once; prune
// removes only chains no container uses.
#include "rootfs_snap_support.hpp"

#include <knast/linuxulator.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <thread>

namespace {

using namespace rootfs_snap;
using knast::Digest;
using knast::Error;
using knast::Rootfs;
using knast::StateLayout;

class RootfsCache : public ::testing::Test {
 protected:
  ScratchDir scratch;
  StateLayout layout{scratch / "state"};
  knast::ImageStore store = knast::ImageStore::open(layout.store());

  bool tmp_is_empty() const { return fs::is_empty(layout.rootfs() / "tmp"); }

  // Unpacking @p image fails with an Error of @p kind saying each of @p says, and
  // leaves no chain and no build behind.
  void expect_refused(const knast::ResolvedImage& image, knast::ErrorCode kind, const std::vector<std::string>& says) {
    Rootfs rootfs = Rootfs::open(layout);
    try {
      rootfs.unpack(store, image);
      FAIL() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), kind) << e.what();
      for (const auto& part : says) EXPECT_THAT(e.what(), ::testing::HasSubstr(part));
    }
    EXPECT_TRUE(rootfs.list().empty());
    EXPECT_TRUE(tmp_is_empty());
  }
};

TEST_F(RootfsCache, UnpackBuildsTheChainOnceAndReusesIt) {
  const auto image = put_image(store, "test/a:1", three_layers());
  Rootfs rootfs = Rootfs::open(layout);
  std::vector<std::pair<std::size_t, bool>> progress;
  knast::UnpackOptions options;
  options.progress = [&](std::size_t i, std::size_t n, const Digest& diff_id, bool cached) {
    EXPECT_EQ(n, 3u);
    EXPECT_EQ(diff_id, image.config.diff_ids[i]);
    progress.emplace_back(i, cached);
  };
  const auto first = rootfs.unpack(store, image, options);
  EXPECT_FALSE(first.reused);
  EXPECT_EQ(first.layers_applied, 3u);
  EXPECT_EQ(progress, (std::vector<std::pair<std::size_t, bool>>{{0, false}, {1, false}, {2, false}}));
  EXPECT_EQ(first.chain.chain_id, knast::chain_id(image.config.diff_ids));
  EXPECT_EQ(first.chain.diff_ids, image.config.diff_ids);
  EXPECT_EQ(first.chain.path, layout.rootfs() / "sha256" / first.chain.chain_id.hex() / "tree");
  EXPECT_THAT(first.chain.created, ::testing::MatchesRegex("20[0-9-]+T[0-9:]+Z"));
  // 10 + 26 + 7 ("layer2\n") + 100000 + 11: the whited-out hardlink shares its inode.
  EXPECT_EQ(first.chain.size, 10u + 26u + 7u + 100000u + 11u);
  const auto files = tree(first.chain.path);
  EXPECT_THAT(files.at("etc/hostname"), ::testing::HasSubstr("size=7"));
  EXPECT_THAT(files.at("bin/tool"), ::testing::HasSubstr("mode=4755"));
  EXPECT_THAT(files.at("home/user/.profile"), ::testing::HasSubstr("owner=1000:1000"));
  EXPECT_EQ(files.count("etc/passwd-"), 0u);
  EXPECT_TRUE(tmp_is_empty());

  progress.clear();
  const auto again = rootfs.unpack(store, "test/a:1", options);
  EXPECT_TRUE(again.reused);
  EXPECT_EQ(again.layers_applied, 0u);
  EXPECT_EQ(again.chain.chain_id, first.chain.chain_id);
  EXPECT_EQ(progress, (std::vector<std::pair<std::size_t, bool>>{{0, true}, {1, true}, {2, true}}));

  const auto chains = rootfs.list();
  ASSERT_EQ(chains.size(), 1u);
  EXPECT_EQ(chains[0].chain_id, first.chain.chain_id);
  EXPECT_EQ(rootfs.find(first.chain.chain_id)->size, first.chain.size);
  EXPECT_FALSE(rootfs.find(Digest::of(std::string_view("nope"))));
}

TEST_F(RootfsCache, TheLongestCachedPrefixIsReused) {
  auto layers = three_layers();
  put_image(store, "test/base:1", {layers[0], layers[1]});
  Rootfs rootfs = Rootfs::open(layout);
  const auto base = rootfs.unpack(store, "test/base:1");
  EXPECT_EQ(base.layers_applied, 2u);
  const auto image = put_image(store, "test/full:1", layers);
  std::vector<bool> cached;
  knast::UnpackOptions options;
  options.progress = [&](std::size_t, std::size_t, const Digest&, bool c) { cached.push_back(c); };
  const auto full = rootfs.unpack(store, image, options);
  EXPECT_EQ(full.layers_applied, 1u);
  EXPECT_EQ(cached, (std::vector<bool>{true, true, false}));
  EXPECT_EQ(rootfs.list().size(), 2u);
  // Same tree as unpacking from scratch in another cache (directory mtimes aside: those
  // the layers do not set are the time of the apply).
  ScratchDir other;
  Rootfs fresh = Rootfs::open(StateLayout(other / "state"));
  EXPECT_EQ(tree(fresh.unpack(store, image).chain.path), tree(full.chain.path));
  // The prefix's tree was copied, not changed.
  EXPECT_EQ(tree(base.chain.path).count("srv/data.txt"), 0u);
}

// Each chain lists the files its own layers wrote (its ELF index). brand_tree() with the
// index of a chain built from scratch opens none of its (text) files; a chain built on a
// cached prefix has copies of the prefix's files, which its index does not know.
TEST_F(RootfsCache, EachChainKeepsAnElfIndexThatBrandUses) {
  auto layers = three_layers();
  put_image(store, "test/base:1", {layers[0], layers[1]});
  put_image(store, "test/full:1", layers);
  Rootfs rootfs = Rootfs::open(layout);
  const auto base = rootfs.unpack(store, "test/base:1").chain;
  const auto full = rootfs.unpack(store, "test/full:1").chain;
  EXPECT_EQ(base.elf_index, layout.rootfs() / "sha256" / base.chain_id.hex() / "elf-index");
  ASSERT_TRUE(fs::exists(base.elf_index));
  ASSERT_TRUE(fs::exists(full.elf_index));
  EXPECT_EQ(rootfs.find(full.chain_id)->elf_index, full.elf_index);

  knast::BrandOptions scan;
  scan.mode = knast::BrandMode::all;
  scan.operation = knast::BrandOperation::scan;
  scan.elf_index = base.elf_index;
  const auto from_scratch = knast::brand_tree(base.path, scan);
  EXPECT_GT(from_scratch.scanned, 0u);
  EXPECT_EQ(from_scratch.known_not_elf, from_scratch.scanned);
  EXPECT_EQ(from_scratch.elf, 0u);
  scan.elf_index = full.elf_index;
  const auto on_a_prefix = knast::brand_tree(full.path, scan);
  // The prefix's files come with its index; all but etc/passwd, whose ctime moved when
  // the third layer's whiteout removed its other name (etc/passwd-): it is opened.
  EXPECT_EQ(on_a_prefix.known_not_elf, on_a_prefix.scanned - 1);

  // A container root copied from the chain gets an index of its own; removing the
  // container removes it.
  const auto root = rootfs.create(full.chain_id, "indexed");
  EXPECT_EQ(root.elf_index, layout.containers() / "indexed" / "elf-index");
  EXPECT_EQ(rootfs.containers().at(0).elf_index, root.elf_index);
  scan.elf_index = root.elf_index;
  const auto on_the_copy = knast::brand_tree(root.path, scan);
  EXPECT_EQ(on_the_copy.scanned, on_a_prefix.scanned);
  EXPECT_EQ(on_the_copy.known_not_elf, on_a_prefix.known_not_elf);
  EXPECT_TRUE(rootfs.remove("indexed"));
  EXPECT_FALSE(fs::exists(layout.containers() / "indexed"));
}

// The ELF index only saves brand some opens: a damaged one does not stop a copy, which
// then simply has no index of its own.
TEST_F(RootfsCache, ADamagedChainIndexDoesNotStopACopy) {
  put_image(store, "test/base:1", three_layers());
  Rootfs rootfs = Rootfs::open(layout);
  const auto chain = rootfs.unpack(store, "test/base:1").chain;
  ASSERT_TRUE(fs::exists(chain.elf_index));
  std::ofstream(chain.elf_index, std::ios::binary | std::ios::trunc) << "not an index at all";
  const auto root = rootfs.create(chain.chain_id, "plain");
  EXPECT_TRUE(root.elf_index.empty());
  EXPECT_TRUE(fs::exists(root.path / "etc/passwd"));
  EXPECT_TRUE(rootfs.remove("plain"));
}

TEST_F(RootfsCache, AWrongDiffIdCachesNothing) {
  auto layers = three_layers();
  std::vector<std::string> ids;
  for (const auto& layer : layers) ids.push_back(Digest::of(layer_blobs(layer).first).string());
  ids[2] = Digest::of(std::string_view("something else")).string();
  expect_refused(put_image(store, "test/lies:1", layers, ids), knast::ErrorCode::integrity, {"diff_id", "layer 3 of 3"});
}

// A store file changed on disk so that it still decompresses to the same tar (here the
// gzip header's MTIME, which no checksum covers): the one read that applies the layer
// also hashes it, and the digest no longer matches.
TEST_F(RootfsCache, ADamagedStoreFileIsCaughtWhileApplying) {
  const auto image = put_image(store, "test/damaged:1", three_layers());
  const auto& gzip_layer = image.manifest.layers.at(0);
  const fs::path blob = store.blob_path(gzip_layer.digest);
  std::string bytes;
  {
    std::ifstream in(blob, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(bytes.size(), 8u);
  bytes[4] = static_cast<char>(bytes[4] ^ 0x5a);
  fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
  std::ofstream(blob, std::ios::binary | std::ios::trunc) << bytes;
  expect_refused(image, knast::ErrorCode::integrity, {"the store is damaged", "layer " + gzip_layer.digest.string()});
}

TEST_F(RootfsCache, ARefusedLayerCachesNothing) {
  auto layers = three_layers();
  layers[1].entries.push_back(file("../../escape", "x"));
  const auto image = put_image(store, "test/hostile:1", layers);
  Rootfs rootfs = Rootfs::open(layout);
  EXPECT_THROW(rootfs.unpack(store, image), Error);
  EXPECT_TRUE(rootfs.list().empty());
  EXPECT_TRUE(tmp_is_empty());
  EXPECT_FALSE(fs::exists(scratch / "escape"));
}

TEST_F(RootfsCache, CountsMustMatchAndLayersMustBeThere) {
  auto layers = three_layers();
  const auto image = put_image(store, "test/short:1", layers, std::vector<std::string>{Digest::of(std::string_view("a")).string()});
  expect_refused(image, knast::ErrorCode::integrity, {});
  auto good = put_image(store, "test/good:1", layers);
  fs::remove(store.blob_path(good.manifest.layers[1].digest));
  expect_refused(good, knast::ErrorCode::not_found, {});
}

TEST_F(RootfsCache, TwoUnpackersAtOnceLeaveOneChain) {
  const auto image = put_image(store, "test/a:1", three_layers());
  std::vector<knast::UnpackResult> results(4);
  std::vector<std::thread> threads;
  for (auto& result : results)
    threads.emplace_back([&] {
      Rootfs rootfs = Rootfs::open(layout);  // one per "process"
      result = rootfs.unpack(store, image);
    });
  for (auto& t : threads) t.join();
  for (const auto& result : results) EXPECT_EQ(result.chain.chain_id, results[0].chain.chain_id);
  EXPECT_EQ(Rootfs::open(layout).list().size(), 1u);
  EXPECT_TRUE(tmp_is_empty());
  EXPECT_EQ(std::distance(fs::directory_iterator(layout.rootfs() / "sha256"), fs::directory_iterator()), 1);
}

TEST_F(RootfsCache, PruneRemovesOnlyChainsNoContainerUses) {
  auto layers = three_layers();
  Rootfs rootfs = Rootfs::open(layout);
  const auto used = rootfs.unpack(store, put_image(store, "test/used:1", {layers[0]})).chain;
  const auto unused = rootfs.unpack(store, put_image(store, "test/unused:1", {layers[0], layers[1]})).chain;
  rootfs.create(used.chain_id, "c1");
  // Leftovers of a crashed unpack.
  fs::create_directories(layout.rootfs() / "tmp" / "123-4-dead" / "tree" / "x");

  const auto dry = rootfs.prune(true);
  EXPECT_EQ(dry.removed, std::vector<Digest>{unused.chain_id});
  EXPECT_EQ(dry.bytes_freed, unused.size);
  EXPECT_EQ(rootfs.list().size(), 2u);

  const auto report = rootfs.prune();
  EXPECT_EQ(report.removed, std::vector<Digest>{unused.chain_id});
  const auto left = rootfs.list();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].chain_id, used.chain_id);
  EXPECT_EQ(left[0].containers, std::vector<std::string>{"c1"});
  EXPECT_TRUE(tmp_is_empty());

  EXPECT_TRUE(rootfs.remove("c1"));
  EXPECT_EQ(rootfs.prune().removed, std::vector<Digest>{used.chain_id});
  EXPECT_TRUE(rootfs.list().empty());
  EXPECT_TRUE(fs::is_empty(layout.rootfs() / "sha256"));
}

TEST_F(RootfsCache, OpenRefusesWhatTheHostCannotRun) {
  knast::RootfsOptions zfs;
  zfs.driver = knast::SnapshotDriver::zfs;
  try {
    Rootfs::open(layout, zfs);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), knast::ErrorCode::invalid_argument) << e.what();
  }
}

}  // namespace
