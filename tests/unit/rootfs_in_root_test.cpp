// Resolving paths inside a root with chroot semantics: the portable walk against a table
// of trees with absolute and relative links, loops and `..`, the kernel's fast path
// against the same table, entry-name cleaning, and removal that never follows a link.
#include "platform/fs.hpp"
#include "rootfs/in_root.hpp"
#include "rootfs/tree_remove.hpp"

#include <knast/error.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using knast::Error;
using knast::ErrorCode;
using knast::detail::clean_layer_path;
using knast::detail::MissingDirs;
using knast::detail::open_dir_in_root;
using knast::detail::delete_tree;
using knast::detail::split_parent;
using knast::detail::UniqueFd;
using knast::detail::walk_dir_in_root;

TEST(RootfsCleanPath, DockerStyleCleaning) {
  const std::vector<std::pair<std::string, std::optional<std::string>>> cases{
      {"etc/passwd", "etc/passwd"},
      {"./etc//passwd", "etc/passwd"},
      {"etc/", "etc"},
      {"/etc/passwd", "etc/passwd"},  // absolute: confined to the root
      {"//etc/./x/", "etc/x"},
      {"a/../b", "b"},
      {"a/b/../../c", "c"},
      {".", ""},
      {"/", ""},
      {"", ""},
      {"./", ""},
      {"a/..", ""},
      {"..", std::nullopt},  // climbs above the root: refused
      {"../x", std::nullopt},
      {"a/../../x", std::nullopt},
      {"/../etc/passwd", std::nullopt},
      {"./a/./../..", std::nullopt},
      {"...", "..."},  // only exactly ".." climbs
      {"..a/b", "..a/b"},
  };
  for (const auto& [name, expected] : cases) EXPECT_EQ(clean_layer_path(name), expected) << name;
}

TEST(RootfsCleanPath, SplitsParentAndName) {
  EXPECT_EQ(split_parent("a/b/c"), std::make_pair(std::string_view("a/b"), std::string_view("c")));
  EXPECT_EQ(split_parent("c"), std::make_pair(std::string_view(), std::string_view("c")));
  EXPECT_EQ(split_parent(""), std::make_pair(std::string_view(), std::string_view()));
}

/// A root (and a sibling "outside" folder) built from a table of links.
class InRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "knast-inroot.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    base_ = pattern;
    root_ = base_ / "root";
    fs::create_directories(root_ / "a/b/c");
    fs::create_directories(base_ / "outside/x");
    std::ofstream(root_ / "file") << "f";
    std::ofstream(base_ / "outside/secret") << "s";
    link("/a", "abs");
    link("a/b", "rel");
    link("../../..", "up");
    link("/../../..", "escape_abs");
    link("../outside", "out");
    link("/outside/x", "out_abs");
    link("loop2", "loop1");
    link("loop1", "loop2");
    link("self", "self");
    link("file", "tofile");
    link("nowhere", "dangling");
    link("../../a", "a/b/back");
    link("/a/b/c/../..", "dotdot_abs");
    link("a/b/c/../../b", "dotdot_rel");
    link("/proc/self/root", "magic");
    // A chain of 40 links ends in a: accepted (the kernel's limit); 41 is a loop.
    for (int i = 0; i < 41; ++i) link(i == 0 ? "a" : "chain" + std::to_string(i - 1), "chain" + std::to_string(i));
    root_fd_ = UniqueFd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root_fd_);
  }
  void TearDown() override { delete_tree(base_); }

  void link(const std::string& target, const std::string& name) { fs::create_symlink(target, root_ / name); }

  /// The path (relative to the root) of the directory @p fd, found by identity.
  std::string where(const UniqueFd& fd) const {
    struct stat st {};
    EXPECT_EQ(::fstat(fd.get(), &st), 0);
    for (const auto& candidate : {fs::path(""), fs::path("a"), fs::path("a/b"), fs::path("a/b/c"), fs::path("outside"),
                                  fs::path("outside/x"), fs::path("nowhere")}) {
      struct stat other {};
      if (::stat((root_ / candidate).c_str(), &other) == 0 && other.st_dev == st.st_dev && other.st_ino == st.st_ino)
        return candidate.string();
    }
    return "<not a directory of the root>";
  }

  /// "dir:<where>", "none" (empty result) or "error:<kind>".
  template <typename Resolve>
  std::string outcome(Resolve resolve, std::string_view path, MissingDirs missing) {
    try {
      const UniqueFd fd = resolve(root_fd_.get(), path, missing, {});
      return fd ? "dir:" + where(fd) : "none";
    } catch (const Error& e) {
      return "error:" + std::string(knast::to_string(e.kind()));
    }
  }

  fs::path base_;
  fs::path root_;
  UniqueFd root_fd_;
};

struct Case {
  std::string path;
  std::string expected;  ///< With MissingDirs::fail.
};

const std::vector<Case> walk_table{
    {"", "dir:"},
    {"a", "dir:a"},
    {"a/b/c", "dir:a/b/c"},
    {"abs", "dir:a"},               // absolute link: from the root
    {"abs/b", "dir:a/b"},
    {"rel", "dir:a/b"},
    {"rel/c", "dir:a/b/c"},
    {"up", "dir:"},                 // ".." stops at the root
    {"up/a", "dir:a"},
    {"escape_abs", "dir:"},
    {"a/b/back/b", "dir:a/b"},
    {"dotdot_abs", "dir:a"},
    {"dotdot_rel", "dir:a/b"},
    {"out", "error:not_found"},     // ../outside is root/outside, which does not exist
    {"out_abs", "error:not_found"}, // /outside/x likewise
    {"magic", "error:not_found"},   // /proc/self/root inside the root: nothing there
    {"loop1", "error:invalid_argument"},
    {"self", "error:invalid_argument"},
    {"file", "error:invalid_argument"},   // not a directory
    {"tofile", "error:invalid_argument"},
    {"dangling", "error:not_found"},
    {"missing/deeper", "error:not_found"},
    {"chain39", "dir:a"},           // 40 links
    {"chain40", "error:invalid_argument"},  // 41
};

TEST_F(InRootTest, PortableWalkTable) {
  for (const auto& [path, expected] : walk_table)
    EXPECT_EQ(outcome(walk_dir_in_root, path, MissingDirs::fail), expected) << path;
}

TEST_F(InRootTest, KernelFastPathAgreesWithTheWalk) {
  for (const auto& [path, expected] : walk_table)
    EXPECT_EQ(outcome(open_dir_in_root, path, MissingDirs::fail), expected) << path;
}

TEST_F(InRootTest, KernelFastPathIsUsedWhereAvailable) {
  if (!knast::platform::has_fast_in_root()) GTEST_SKIP() << "no " << knast::platform::in_root_mechanism() << " here";
  int fd = -1;
  ASSERT_EQ(knast::platform::open_dir_in_root_fast(root_fd_.get(), "abs/b", fd), knast::platform::FastResolve::opened);
  EXPECT_EQ(where(UniqueFd(fd)), "a/b");
}

TEST_F(InRootTest, AbsentOkGivesNothingForMissingOrNonDirectories) {
  for (const auto* path : {"dangling", "missing/deeper", "file", "tofile/x", "out"})
    EXPECT_EQ(outcome(walk_dir_in_root, path, MissingDirs::absent_ok), "none") << path;
  EXPECT_EQ(outcome(walk_dir_in_root, "loop1", MissingDirs::absent_ok), "error:invalid_argument");
}

TEST_F(InRootTest, CreatingFollowsLinksInsideTheRootOnly) {
  std::vector<std::string> made;
  const auto record = [&](int, std::string_view name) { made.emplace_back(name); };
  // ../outside resolves to root/outside: created there, the real sibling untouched.
  const UniqueFd out = walk_dir_in_root(root_fd_.get(), "out/new", MissingDirs::create, record);
  EXPECT_TRUE(fs::is_directory(root_ / "outside/new"));
  EXPECT_FALSE(fs::exists(base_ / "outside/new"));
  EXPECT_EQ(made, (std::vector<std::string>{"outside", "new"}));
  // A dangling link gets its target made, inside the root.
  made.clear();
  const UniqueFd dangling = walk_dir_in_root(root_fd_.get(), "dangling", MissingDirs::create, record);
  EXPECT_EQ(where(dangling), "nowhere");
  EXPECT_EQ(made, (std::vector<std::string>{"nowhere"}));
  // A file in the way is not replaced.
  EXPECT_EQ(outcome(walk_dir_in_root, "file/x", MissingDirs::create), "error:invalid_argument");
}

TEST_F(InRootTest, ErrorsNameThePath) {
  try {
    (void)walk_dir_in_root(root_fd_.get(), "loop1/x", MissingDirs::fail);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"loop1/x\""), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("symbolic links"), std::string::npos) << e.what();
  }
}

TEST_F(InRootTest, RemoveTreeNeverFollowsLinks) {
  fs::create_directories(root_ / "victim/inner");
  fs::create_symlink(base_ / "outside", root_ / "victim/to_outside");
  fs::create_symlink(base_ / "outside", root_ / "victim/inner/abs");
  std::ofstream(root_ / "victim/inner/f") << "x";
  EXPECT_TRUE(knast::detail::delete_tree_at(root_fd_.get(), "victim"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(root_ / "victim")));
  EXPECT_TRUE(fs::exists(base_ / "outside/secret"));
  EXPECT_TRUE(fs::exists(base_ / "outside/x"));
  EXPECT_FALSE(knast::detail::delete_tree_at(root_fd_.get(), "victim"));  // already gone
  // A link given as the tree itself is removed, not followed.
  EXPECT_TRUE(delete_tree(root_ / "out"));
  EXPECT_TRUE(fs::exists(base_ / "outside/secret"));
  EXPECT_TRUE(delete_tree(root_ / "a/"));
  EXPECT_FALSE(fs::exists(root_ / "a"));
}

}  // namespace
