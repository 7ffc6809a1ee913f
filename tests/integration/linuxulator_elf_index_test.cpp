// brand_tree() with the ELF index apply_layer() wrote: the same result as without it,
// fewer files opened, and never a missed file — a file changed or replaced after the
// unpack is opened as if there were no index. Also the walk's split of large directories.
#include "brand_test_support.hpp"

#include "linuxulator/elf_inspect.hpp"
#include "linuxulator/tree_walk.hpp"
#include "rootfs/elf_index.hpp"
#include "rootfs/tree_copy.hpp"

#include <knast/error.hpp>
#include <knast/linuxulator.hpp>
#include <knast/rootfs.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>

namespace {

namespace fs = std::filesystem;
using knast::BrandOptions;
using brand_test::osabi;
using knast::BrandReport;
using store_test::slurp;
using store_test::TempDir;


void write_file(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

struct stat stat_of(const fs::path& path) {
  struct stat st{};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st;
}

BrandOptions brand_all(const fs::path& index = {}) {
  BrandOptions o;
  o.mode = knast::BrandMode::all;
  o.kernel = knast::KernelFacts{-1, -1};  // a FreeBSD kernel with its defaults
  o.elf_index = index;
  return o;
}

// A small image tree (two ELF binaries, a shared library, text files, a symlink) packed
// as one layer, unpacked twice: with an ELF index and without.
class ElfIndexBrand : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path source = dir_ / "source";
    fs::create_directories(source / "bin");
    fs::copy_file("/bin/busybox", source / "bin/busybox");
    fs::copy_file("/bin/ls", source / "bin/ls");
    write_file(source / "etc/profile", "export PATH=/bin\n");
    write_file(source / "etc/motd", "welcome\n");
    write_file(source / "empty", "");
    fs::create_symlink("busybox", source / "bin/sh");
    layer_ = dir_ / "layer.tar";
    ASSERT_EQ(std::system(("tar -C " + source.string() + " -cf " + layer_.string() + " .").c_str()), 0);
    indexed_ = unpack("indexed", index_ = dir_ / "indexed.elf-index");
    plain_ = unpack("plain", {});
  }

  fs::path unpack(const std::string& name, const fs::path& index) {
    const fs::path root = dir_ / name;
    fs::create_directories(root);
    knast::ApplyOptions options;
    options.elf_index = index;
    knast::apply_layer(root, layer_, options);
    return root;
  }

  TempDir dir_;
  fs::path layer_, index_, indexed_, plain_;
};

TEST_F(ElfIndexBrand, BrandsAsWithoutTheIndexOpeningOnlyTheElfFiles) {
  const BrandReport with = knast::brand_tree(indexed_, brand_all(index_));
  const BrandReport without = knast::brand_tree(plain_, brand_all());
  EXPECT_EQ(with.known_not_elf, 3u);  // profile, motd, empty
  EXPECT_EQ(without.known_not_elf, 0u);
  EXPECT_EQ(with.scanned, without.scanned);
  EXPECT_EQ(with.elf, without.elf);
  EXPECT_EQ(with.branded, without.branded);
  EXPECT_EQ(with.branded, 1u) << "bin/ls (busybox is GNU-branded already)";
  EXPECT_EQ(osabi(indexed_ / "bin/ls"), 3);
  EXPECT_EQ(slurp(indexed_ / "etc/motd"), "welcome\n");
  // Undo needs no index: the record has the bytes.
  BrandOptions undo = brand_all();
  undo.operation = knast::BrandOperation::undo;
  EXPECT_EQ(knast::brand_tree(indexed_, undo).restored, 1u);
  EXPECT_EQ(osabi(indexed_ / "bin/ls"), 0);
}

// The unpack records what each ELF file's header says, as inspect_elf() reads it.
TEST_F(ElfIndexBrand, TheUnpackRecordsTheHeaderOfEachElfFile) {
  const auto index = knast::detail::ElfIndex::load(index_);
  for (const char* name : {"bin/busybox", "bin/ls"}) {
    const std::string bytes = slurp(indexed_ / name);
    const knast::detail::ElfFacts facts = knast::detail::inspect_elf(
        [&](void* buffer, std::size_t size, std::uint64_t offset) -> std::size_t {
          const std::size_t n = offset >= bytes.size() ? 0 : std::min<std::size_t>(size, bytes.size() - offset);
          std::memcpy(buffer, bytes.data() + offset, n);
          return n;
        },
        false);
    const auto content = index.look_up(stat_of(indexed_ / name));
    ASSERT_TRUE(content) << name;
    EXPECT_EQ(content->header, (knast::detail::ElfHeaderFacts{static_cast<std::uint8_t>(facts.bits), facts.osabi,
                                                              facts.type}))
        << name;
  }
  EXPECT_EQ(index.look_up(stat_of(indexed_ / "etc/profile")), (knast::detail::IndexedContent{false, std::nullopt}));
  // An ELF file's first page is written on its own (apply_layer.cpp): the bytes are the same.
  EXPECT_EQ(slurp(indexed_ / "bin/busybox"), slurp("/bin/busybox"));
  EXPECT_EQ(slurp(indexed_ / "bin/ls"), slurp("/bin/ls"));
}

// In mode `all` the header the index holds is trusted as the file's, like its "not ELF":
// an index that says bin/ls is branded already leaves it unread and unwritten.
TEST_F(ElfIndexBrand, ModeAllTakesAnElfFilesHeaderFromTheIndex) {
  const auto real = knast::detail::ElfIndex::load(index_);
  std::vector<knast::detail::ElfIndexEntry> entries;
  for (const char* name : {"bin/busybox", "bin/ls", "etc/profile", "etc/motd", "empty"}) {
    const struct stat st = stat_of(indexed_ / name);
    auto content = real.look_up(st);
    ASSERT_TRUE(content) << name;
    if (std::string(name) == "bin/ls") content->header->osabi = 3;
    entries.push_back({knast::detail::identity_of(st), *content});
  }
  const fs::path told = dir_ / "told.elf-index";
  knast::detail::append_elf_index(told, entries);
  const BrandReport r = knast::brand_tree(indexed_, brand_all(told));
  EXPECT_EQ(r.elf, 2u);
  EXPECT_EQ(r.branded, 0u);
  EXPECT_EQ(r.already_branded, 2u);
  EXPECT_EQ(osabi(indexed_ / "bin/ls"), 0);
}

TEST_F(ElfIndexBrand, AFileReplacedOrRewrittenSinceTheUnpackIsOpened) {
  // Replaced: another inode.
  fs::remove(indexed_ / "etc/profile");
  fs::copy_file("/bin/ls", indexed_ / "etc/profile");
  // Rewritten in place, to the same size as before: same inode, new ctime.
  const std::string ls = slurp("/bin/ls");
  {
    std::fstream f(indexed_ / "etc/motd", std::ios::in | std::ios::out | std::ios::binary);
    f.write(ls.data(), 8);
  }
  ASSERT_EQ(fs::file_size(indexed_ / "etc/motd"), 8u);
  const BrandReport r = knast::brand_tree(indexed_, brand_all(index_));
  EXPECT_EQ(r.known_not_elf, 1u) << "only empty is unchanged";
  EXPECT_EQ(osabi(indexed_ / "etc/profile"), 3);
  EXPECT_TRUE(r.skips.size() == 1 && r.skips[0].path == "etc/motd") << "8 bytes of ELF magic: malformed, reported";
}

// A file the index lists as ELF is opened by its inode before any stat; the fstat of the
// descriptor must still match, or the file is read like any other.
TEST_F(ElfIndexBrand, AnElfFileRewrittenInPlaceIsReadAgain) {
  { std::ofstream(indexed_ / "bin/ls", std::ios::binary | std::ios::trunc) << "not a program any more\n"; }
  const BrandReport r = knast::brand_tree(indexed_, brand_all(index_));
  EXPECT_EQ(r.known_not_elf, 3u);
  EXPECT_EQ(r.elf, 1u) << "busybox only";
  EXPECT_EQ(r.branded, 0u);
  EXPECT_TRUE(r.skips.empty());
  EXPECT_EQ(slurp(indexed_ / "bin/ls"), "not a program any more\n");
}

TEST_F(ElfIndexBrand, AnIndexOfAnotherTreeOnlySavesNothing) {
  const BrandReport r = knast::brand_tree(plain_, brand_all(index_));
  EXPECT_EQ(r.known_not_elf, 0u);
  EXPECT_EQ(r.branded, 1u);
}

TEST_F(ElfIndexBrand, AMissingOrForeignIndexIsAClearErrorAndATornOneIsUsed) {
  auto brand_error = [&](const fs::path& index) {
    try {
      knast::brand_tree(indexed_, brand_all(index));
    } catch (const knast::Error& e) {
      return std::pair(e.kind(), std::string(e.what()));
    }
    return std::pair(knast::ErrorCode::ok, std::string());
  };
  EXPECT_EQ(brand_error(dir_ / "missing").first, knast::ErrorCode::not_found);
  const auto [kind, message] = brand_error(layer_);
  EXPECT_EQ(kind, knast::ErrorCode::invalid_argument);
  EXPECT_NE(message.find("is not an ELF index"), std::string::npos) << message;
  EXPECT_EQ(osabi(indexed_ / "bin/ls"), 0) << "nothing written after a refused index";

  // An apply killed before its first append reached the disk: an empty index.
  std::ofstream(dir_ / "empty.elf-index", std::ios::binary) << "knast-elf";
  EXPECT_EQ(knast::brand_tree(plain_, brand_all(dir_ / "empty.elf-index")).known_not_elf, 0u);

  // An apply killed in the middle of an append leaves a torn last record: dropped.
  const std::string whole = slurp(index_);
  std::ofstream(index_, std::ios::binary | std::ios::trunc) << whole.substr(0, whole.size() - 5);
  const BrandReport r = knast::brand_tree(indexed_, brand_all(index_));
  EXPECT_EQ(r.branded, 1u);
  EXPECT_LE(r.known_not_elf, 3u);
}

TEST(ElfIndex, RecordsWhatStatShowsAndMissesAnythingElse) {
  TempDir dir;
  const fs::path file = dir / "file", index = dir / "index";
  write_file(file, "text");
  struct stat st{};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  knast::detail::ElfIndexEntry entries[] = {{knast::detail::identity_of(st), {false, std::nullopt}}};
  knast::detail::append_elf_index(index, entries);
  knast::detail::append_elf_index(index, entries);  // listed twice: harmless
  const auto loaded = knast::detail::ElfIndex::load(index);
  EXPECT_EQ(loaded.look_up(st), (knast::detail::IndexedContent{false, std::nullopt}));
  struct stat touched = st;
  touched.st_ctim.tv_nsec ^= 1;
  EXPECT_EQ(loaded.look_up(touched), std::nullopt);
  struct stat directory = st;
  directory.st_mode = S_IFDIR | 0755;
  EXPECT_EQ(loaded.look_up(directory), std::nullopt);
  EXPECT_TRUE(knast::detail::ElfIndex().empty());
  EXPECT_EQ(slurp(index).substr(0, 18), "knast-elf-index 1\n");
}

// The lookup of a directory's files at once answers as one lookup per file would.
TEST(ElfIndex, LooksUpManyFilesAtOnceAsOneByOne) {
  TempDir dir;
  std::vector<struct stat> stats;
  std::vector<knast::detail::ElfIndexEntry> entries;
  for (int i = 0; i < 300; ++i) {
    const fs::path file = dir / ("f" + std::to_string(i));
    write_file(file, i % 3 == 0 ? "\x7f" "ELF" : "text");
    stats.push_back(stat_of(file));
    if (i % 10 != 0)  // every tenth is not in the index
      entries.push_back({knast::detail::identity_of(stats.back()), {i % 3 == 0, std::nullopt}});
  }
  stats.push_back({});  // no stat taken
  knast::detail::append_elf_index(dir / "index", entries);
  const auto index = knast::detail::ElfIndex::load(dir / "index");
  const auto together = index.look_up(stats);
  ASSERT_EQ(together.size(), stats.size());
  std::size_t found = 0;
  for (std::size_t i = 0; i < stats.size(); ++i) {
    EXPECT_EQ(together[i], index.look_up(stats[i])) << i;
    found += together[i].has_value();
  }
  EXPECT_EQ(found, entries.size());
  EXPECT_EQ(knast::detail::ElfIndex().look_up(stats).size(), stats.size()) << "an empty index answers nothing";
}

// A copy has new inodes and ctimes: copy_tree() carries the index over, listing each
// copied file as the copy stands (a hard link's second name moves the ctime again).
TEST(ElfIndex, CopyTreeCarriesTheIndexToTheCopy) {
  TempDir dir;
  const fs::path source = dir / "source";
  write_file(source / "bin/prog", "\x7f" "ELF and the rest");
  write_file(source / "etc/conf", "text");
  write_file(source / "etc/unlisted", "not in the index");
  fs::create_hard_link(source / "bin/prog", source / "bin/prog-link");
  std::vector<knast::detail::ElfIndexEntry> entries;
  const knast::detail::ElfHeaderFacts header{64, 0, 2};
  for (const char* name : {"bin/prog", "etc/conf"}) {
    struct stat st{};
    ASSERT_EQ(::stat((source / name).c_str(), &st), 0);
    const bool prog = std::string(name) == "bin/prog";
    entries.push_back({knast::detail::identity_of(st), {prog, prog ? std::optional(header) : std::nullopt}});
  }
  knast::detail::append_elf_index(dir / "source.idx", entries);
  const auto from = knast::detail::ElfIndex::load(dir / "source.idx");
  const knast::detail::ElfIndexCarry carry{from, dir / "copy.idx"};
  const auto stats = knast::detail::copy_tree(source, dir / "copy", &carry);
  EXPECT_EQ(stats.indexed, 3u) << "prog, its second name, conf";

  const auto copied = knast::detail::ElfIndex::load(dir / "copy.idx");
  auto says = [&](const char* name) {
    struct stat st{};
    EXPECT_EQ(::stat((dir / "copy" / name).c_str(), &st), 0) << name;
    return copied.look_up(st);
  };
  const knast::detail::IndexedContent elf{true, header}, text{false, std::nullopt};
  EXPECT_EQ(says("bin/prog"), elf) << "with the header the source's entry holds";
  EXPECT_EQ(says("bin/prog-link"), elf);
  EXPECT_EQ(says("etc/conf"), text);
  EXPECT_EQ(says("etc/unlisted"), std::nullopt);
  struct stat original{};
  ASSERT_EQ(::stat((source / "etc/conf").c_str(), &original), 0);
  EXPECT_EQ(copied.look_up(original), std::nullopt) << "the source's files are not the copy's";
}

// An index is read whole before a walk: one larger than any tree's is refused unread.
TEST(ElfIndex, ATooLargeIndexIsRefused) {
  TempDir dir;
  write_file(dir / "index", "knast-elf-index 1\n");
  fs::resize_file(dir / "index", std::uintmax_t{300} << 20);  // sparse: nothing is written
  try {
    knast::detail::ElfIndex::load(dir / "index");
    ADD_FAILURE() << "a 300 MiB index was loaded";
  } catch (const knast::Error& e) {
    EXPECT_EQ(e.kind(), knast::ErrorCode::limit_exceeded) << e.what();
  }
}

// The inode hint brand opens files by: only inodes of entries that say ELF.
TEST(ElfIndex, ListsTheInodesOfItsElfEntries) {
  TempDir dir;
  write_file(dir / "program", "\x7f" "ELF");
  write_file(dir / "text", "text");
  struct stat program{}, text{};
  ASSERT_EQ(::stat((dir / "program").c_str(), &program), 0);
  ASSERT_EQ(::stat((dir / "text").c_str(), &text), 0);
  const knast::detail::ElfIndexEntry entries[] = {{knast::detail::identity_of(program), {true, std::nullopt}},
                                                  {knast::detail::identity_of(text), {false, std::nullopt}}};
  knast::detail::append_elf_index(dir / "index", entries);
  const auto loaded = knast::detail::ElfIndex::load(dir / "index");
  EXPECT_TRUE(loaded.lists_elf_inode(program.st_ino));
  EXPECT_FALSE(loaded.lists_elf_inode(text.st_ino));
  EXPECT_FALSE(knast::detail::ElfIndex().lists_elf_inode(program.st_ino));
}

// A directory of more files than one visit takes is split across visits; every file
// is seen exactly once.
TEST(TreeWalk, ALargeDirectoryIsVisitedInPartsEachFileOnce) {
  TempDir dir;
  constexpr int count = 1000;
  for (int i = 0; i < count; ++i) write_file(dir / "big" / ("f" + std::to_string(i)), "");
  write_file(dir / "small/one", "");
  const int root = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(root, 0);
  std::mutex mutex;
  std::multiset<std::string> seen;
  std::atomic<int> visits{0};
  knast::detail::walk_tree(
      root, 3,
      [&](int, const std::string& rel, const std::vector<knast::detail::WalkFile>& files) {
        ++visits;
        std::lock_guard lock(mutex);
        for (const auto& file : files) seen.insert(knast::detail::join_relative(rel, file.name));
      },
      [](const std::string& rel, const std::string& why) { ADD_FAILURE() << rel << ": " << why; });
  ::close(root);
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(count + 1));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), seen.size());
  EXPECT_GE(visits.load(), 4 + 1) << "1000 files in parts of at most 256, and small/";
}

// The walk opens a directory when it takes it, depth first, so it holds about one
// descriptor per level it is in: not one per directory waiting. (Holding every waiting
// directory open grew the descriptor table, and a threaded process waits an RCU grace
// period each time it grows on Linux.)
TEST(TreeWalk, HoldsFewDescriptorsHoweverManyDirectoriesWait) {
  TempDir dir;
  constexpr int directories = 300;
  for (int i = 0; i < directories; ++i) write_file(dir / "wide" / ("d" + std::to_string(i)) / "f", "");
  const int root = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(root, 0);
  // The lowest free descriptor: how many are open below it, since open takes the lowest.
  auto lowest_free = [] {
    const int fd = ::dup(0);
    ::close(fd);
    return fd;
  };
  const int before = lowest_free();
  std::atomic<int> highest{before};
  std::atomic<int> files{0};
  knast::detail::walk_tree(
      root, 3,
      [&](int, const std::string&, const std::vector<knast::detail::WalkFile>& names) {
        files += static_cast<int>(names.size());
        const int now = lowest_free();
        for (int seen = highest.load(); now > seen && !highest.compare_exchange_weak(seen, now);) {
        }
      },
      [](const std::string& rel, const std::string& why) { ADD_FAILURE() << rel << ": " << why; });
  ::close(root);
  EXPECT_EQ(files.load(), directories);
  EXPECT_LT(highest.load() - before, 32) << "descriptors held while " << directories << " directories waited";
}

}  // namespace
