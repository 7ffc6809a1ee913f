// ELF branding on real binaries of this machine, in a tree of its own: Debian's
// busybox-static (glibc, static, with the GNU ABI-tag note and, because glibc uses
// IFUNCs, EI_OSABI already 3 = ELFOSABI_GNU), the same binary with the note removed and
// EI_OSABI 0 (as musl, uclibc and Go static binaries are), /bin/ls (dynamic glibc), a static
// PIE and a note-less static program built with gcc when present, 32-bit files (the
// i386 loader from libc6-i386 when installed; crafted headers otherwise — there is no
// gcc-multilib here), symlinks to outside the tree, truncated and fake ELF files,
// read-only files and a read-only mount.
#include "../unit/linuxulator_elf_builder.hpp"
#include "brand_test_support.hpp"

#include <knast/error.hpp>
#include <knast/linuxulator.hpp>

#include <sys/mount.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>

namespace {

namespace fs = std::filesystem;
using knast::BrandMode;
using knast::BrandOperation;
using knast::BrandOptions;
using brand_test::osabi;
using knast::BrandReport;
using store_test::slurp;
using store_test::TempDir;


void set_osabi(const fs::path& file, char value) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(7);
  f.put(value);
}

void write_file(const fs::path& path, const std::string& bytes, fs::perms perms = fs::perms(0755)) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
  fs::permissions(path, perms);
}

struct timespec mtime_of(const fs::path& path) {
  struct stat st{};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mtim;
}

mode_t mode_of(const fs::path& path) {
  struct stat st{};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

bool same_time(const struct timespec& a, const struct timespec& b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

std::string run(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buffer[256];
    while (std::fgets(buffer, sizeof buffer, p)) out += buffer;
    ::pclose(p);
  }
  return out;
}

bool have(const std::string& tool) { return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0; }

BrandOptions options(BrandMode mode, BrandOperation op = BrandOperation::brand) {
  BrandOptions o;
  o.mode = mode;
  o.operation = op;
  o.kernel = knast::KernelFacts{-1, -1};  // a FreeBSD kernel with its defaults
  return o;
}

bool skipped_with(const BrandReport& r, const std::string& path, const std::string& reason_part) {
  for (const auto& s : r.skips)
    if (s.path == path && s.reason.find(reason_part) != std::string::npos) return true;
  return false;
}

// A tree resembling an unpacked Linux image, with the binaries the tests look at.
class BrandTree : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "tree";
    fs::create_directories(root_ / "bin");
    fs::copy_file("/bin/busybox", root_ / "bin/busybox");
    fs::copy_file("/bin/ls", root_ / "bin/ls");
    ASSERT_EQ(std::system(("objcopy -R .note.ABI-tag /bin/busybox " + (root_ / "bin/busybox-nonote").string()).c_str()), 0)
        << "objcopy (binutils) is needed";
    set_osabi(root_ / "bin/busybox-nonote", 0);
    fs::copy_file("/bin/busybox", root_ / "bin/busybox-sysv");  // the note, but EI_OSABI 0
    set_osabi(root_ / "bin/busybox-sysv", 0);
    fs::create_symlink("busybox", root_ / "bin/sh");
    fs::create_symlink("/bin/busybox", root_ / "bin/outside-abs");     // an absolute link leaving the tree
    fs::create_symlink("../../../../bin/ls", root_ / "bin/outside-rel");
    write_file(root_ / "etc/profile", "export PATH=/bin\n", fs::perms(0644));
    write_file(root_ / "bin/script", "#!/bin/sh\necho hi\n");
    knast::test::ElfSpec static32;
    static32.bits = 32;
    static32.machine = 3;
    write_file(root_ / "usr/lib32/crafted-static32", knast::test::build_elf(static32));
    const std::string full = knast::test::build_elf(knast::test::ElfSpec{});
    write_file(root_ / "junk/truncated", full.substr(0, 30));
    write_file(root_ / "junk/fake", std::string("\x7f" "ELF", 4) + "this is not really an ELF file at all, just text");
  }

  void TearDown() override {
    if (mounted_) ::umount2(mounted_->c_str(), MNT_DETACH);
  }

  TempDir dir_;
  fs::path root_;
  std::optional<fs::path> mounted_;
};

TEST_F(BrandTree, AutoBrandsOnlyStaticBinariesWithoutALinuxNote) {
  const auto busybox_mtime = mtime_of(root_ / "bin/busybox-nonote");
  const BrandReport r = knast::brand_tree(root_, options(BrandMode::automatic));
  EXPECT_EQ(osabi(root_ / "bin/busybox-nonote"), 3) << "static, no note: the kernel would refuse it";
  EXPECT_EQ(osabi(root_ / "usr/lib32/crafted-static32"), 3) << "32-bit static without a note";
  EXPECT_EQ(osabi(root_ / "bin/busybox-sysv"), 0) << "glibc static carries the GNU ABI tag: recognised";
  EXPECT_EQ(osabi(root_ / "bin/busybox"), 3) << "Debian's is ELFOSABI_GNU already";
  EXPECT_EQ(osabi(root_ / "bin/ls"), 0) << "dynamic glibc: recognised";
  EXPECT_EQ(r.branded, 2u);
  EXPECT_EQ(r.needs_brand, 2u);
  EXPECT_EQ(r.already_branded, 1u);
  // busybox, busybox-nonote, busybox-sysv, ls, script, profile, static32, truncated, fake
  EXPECT_EQ(r.scanned, 9u);
  EXPECT_EQ(r.elf, 5u);
  EXPECT_EQ(r.elf32, 1u);
  EXPECT_EQ(r.skipped, 2u);
  EXPECT_TRUE(skipped_with(r, "junk/truncated", "malformed ELF: truncated ELF header"));
  EXPECT_TRUE(skipped_with(r, "junk/fake", "malformed ELF"));
  EXPECT_TRUE(same_time(mtime_of(root_ / "bin/busybox-nonote"), busybox_mtime)) << "mtime kept";
  EXPECT_EQ(mode_of(root_ / "bin/busybox-nonote"), 0755u);
  EXPECT_EQ(slurp("/bin/busybox"), slurp(root_ / "bin/busybox")) << "the symlink target outside the tree is untouched";
  EXPECT_EQ(osabi("/bin/ls"), 0);
  EXPECT_TRUE(fs::is_symlink(root_ / "bin/sh"));
  EXPECT_EQ(r.record, knast::default_brand_record(root_));
  EXPECT_TRUE(fs::exists(dir_ / "tree.knast-brand.json"));
  EXPECT_FALSE(r.kernel_fallback);
}

TEST_F(BrandTree, ABrandedStaticBusyboxStillRunsOnLinux) {
  knast::brand_tree(root_, options(BrandMode::all));
  ASSERT_EQ(osabi(root_ / "bin/busybox-sysv"), 3);
  fs::rename(root_ / "bin/busybox-sysv", dir_ / "busybox");  // busybox picks its applet by argv[0]
  EXPECT_EQ(run((dir_ / "busybox").string() + " echo branded-and-running"), "branded-and-running\n");
  fs::create_directories(dir_ / "nonote");
  ASSERT_EQ(osabi(root_ / "bin/busybox-nonote"), 3);
  fs::rename(root_ / "bin/busybox-nonote", dir_ / "nonote/busybox");
  EXPECT_EQ(run((dir_ / "nonote/busybox").string() + " echo also-running"), "also-running\n");
  EXPECT_NE(run((root_ / "bin/ls").string() + " /"), "") << "a branded dynamic glibc program runs too";
}

TEST_F(BrandTree, AllBrandsEveryElfFile) {
  const BrandReport r = knast::brand_tree(root_, options(BrandMode::all));
  EXPECT_EQ(osabi(root_ / "bin/busybox-sysv"), 3);
  EXPECT_EQ(osabi(root_ / "bin/ls"), 3);
  EXPECT_EQ(r.branded, 4u);
  EXPECT_EQ(r.already_branded, 1u);
  EXPECT_EQ(osabi("/bin/ls"), 0);
  EXPECT_EQ(slurp(root_ / "bin/script"), "#!/bin/sh\necho hi\n") << "non-ELF files untouched";
}

TEST_F(BrandTree, NoneWritesNothing) {
  const BrandReport r = knast::brand_tree(root_, options(BrandMode::none));
  EXPECT_EQ(r.branded, 0u);
  EXPECT_EQ(r.elf, 5u);
  EXPECT_FALSE(fs::exists(dir_ / "tree.knast-brand.json"));
}

TEST_F(BrandTree, ScanReportsWithoutWriting) {
  const std::string before = slurp(root_ / "bin/busybox-nonote");
  const BrandReport r = knast::brand_tree(root_, options(BrandMode::all, BrandOperation::scan));
  EXPECT_EQ(r.needs_brand, 4u);
  EXPECT_EQ(r.branded, 0u);
  EXPECT_EQ(slurp(root_ / "bin/busybox-nonote"), before);
  EXPECT_FALSE(fs::exists(dir_ / "tree.knast-brand.json"));
}

// Reading headers is not a use of a file: on a mount with relatime, a read of a file whose
// atime is older than its mtime (as tar leaves it) would otherwise write every inode.
TEST_F(BrandTree, InspectingLeavesAccessTimesAlone) {
  const struct timespec old_atime{1000000000, 0};
  const struct timespec keep_mtime{0, UTIME_OMIT};
  for (const char* file : {"bin/ls", "etc/profile", "bin/busybox-sysv"}) {
    const struct timespec times[2] = {old_atime, keep_mtime};
    ASSERT_EQ(::utimensat(AT_FDCWD, (root_ / file).c_str(), times, 0), 0) << file;
  }
  const BrandReport r = knast::brand_tree(root_, options(BrandMode::automatic));
  EXPECT_EQ(r.elf, 5u);
  for (const char* file : {"bin/ls", "etc/profile", "bin/busybox-sysv"}) {
    struct stat st{};
    ASSERT_EQ(::lstat((root_ / file).c_str(), &st), 0);
    EXPECT_TRUE(same_time(st.st_atim, old_atime)) << file << " atime " << st.st_atim.tv_sec;
  }
}

TEST_F(BrandTree, IdempotentAndUndoRestoresTheOriginalBytes) {
  const auto mtime = mtime_of(root_ / "bin/ls");
  const std::string original_ls = slurp(root_ / "bin/ls");
  BrandReport first = knast::brand_tree(root_, options(BrandMode::all));
  EXPECT_EQ(first.branded, 4u);
  BrandReport second = knast::brand_tree(root_, options(BrandMode::all));
  EXPECT_EQ(second.branded, 0u);
  EXPECT_EQ(second.already_branded, 5u);

  const BrandReport undone = knast::brand_tree(root_, options(BrandMode::all, BrandOperation::undo));
  EXPECT_EQ(undone.restored, 4u);
  EXPECT_EQ(undone.skipped, 0u);
  EXPECT_EQ(slurp(root_ / "bin/ls"), original_ls);
  EXPECT_EQ(osabi(root_ / "bin/busybox-nonote"), 0);
  EXPECT_TRUE(same_time(mtime_of(root_ / "bin/ls"), mtime));
  EXPECT_FALSE(fs::exists(dir_ / "tree.knast-brand.json")) << "undo removes the record";

  try {
    knast::brand_tree(root_, options(BrandMode::all, BrandOperation::undo));
    FAIL() << "undo without a record";
  } catch (const knast::Error& e) {
    EXPECT_EQ(e.kind(), knast::ErrorCode::not_found);
    EXPECT_NE(std::string(e.what()).find("no brand record at"), std::string::npos) << e.what();
  }
}

TEST_F(BrandTree, UndoKeepsTheFirstOriginalAndAnExplicitRecord) {
  // A file whose EI_OSABI was 9 (FreeBSD) before branding gets 9 back.
  knast::test::ElfSpec freebsd_abi;
  freebsd_abi.osabi = 9;
  write_file(root_ / "bin/odd", knast::test::build_elf(freebsd_abi));
  BrandOptions o = options(BrandMode::all);
  o.record = dir_ / "elsewhere.json";
  knast::brand_tree(root_, o);
  EXPECT_EQ(osabi(root_ / "bin/odd"), 3);
  knast::brand_tree(root_, o);  // records nothing new
  o.operation = BrandOperation::undo;
  const BrandReport r = knast::brand_tree(root_, o);
  EXPECT_EQ(r.restored, 5u);
  EXPECT_EQ(osabi(root_ / "bin/odd"), 9);
}

TEST_F(BrandTree, UndoLeavesFilesChangedSince) {
  knast::brand_tree(root_, options(BrandMode::all));
  fs::remove(root_ / "bin/ls");
  fs::create_symlink("/bin/ls", root_ / "bin/ls");  // now a link outside: must not be followed
  const BrandReport r = knast::brand_tree(root_, options(BrandMode::all, BrandOperation::undo));
  EXPECT_EQ(r.restored, 3u);
  EXPECT_TRUE(skipped_with(r, "bin/ls", "symlink"));
  EXPECT_EQ(osabi("/bin/ls"), 0);
}

TEST_F(BrandTree, ReadOnlyFilesAreBrandedByRootKeepingTheirMode) {
  fs::permissions(root_ / "bin/busybox-nonote", fs::perms(0555));
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (root may write a 0555 file)";
  const BrandReport r = knast::brand_tree(root_, options(BrandMode::automatic));
  EXPECT_EQ(osabi(root_ / "bin/busybox-nonote"), 3);
  EXPECT_EQ(mode_of(root_ / "bin/busybox-nonote"), 0555u);
  EXPECT_EQ(r.skipped, 2u);
}

TEST_F(BrandTree, SetIdBitsAreKept) {
  fs::permissions(root_ / "bin/busybox-nonote", fs::perms(04755));
  knast::brand_tree(root_, options(BrandMode::automatic));
  EXPECT_EQ(osabi(root_ / "bin/busybox-nonote"), 3);
  EXPECT_EQ(mode_of(root_ / "bin/busybox-nonote"), 04755u);
}

TEST_F(BrandTree, AReadOnlyMountIsSkippedAndNotCrossed) {
  const fs::path sub = root_ / "ro";
  fs::create_directories(sub);
  if (::mount("knast-test", sub.c_str(), "tmpfs", 0, "size=16m") != 0)
    GTEST_SKIP() << "cannot mount tmpfs here: " << std::strerror(errno);
  mounted_ = sub;
  fs::copy_file(root_ / "bin/busybox-nonote", sub / "static");
  ASSERT_EQ(::mount(nullptr, sub.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0) << std::strerror(errno);

  // The walk does not enter another file system...
  BrandReport r = knast::brand_tree(root_, options(BrandMode::automatic, BrandOperation::scan));
  EXPECT_TRUE(skipped_with(r, "ro", "another file system is mounted here"));
  // ...and a tree on a read-only one reports every file it cannot write.
  r = knast::brand_tree(sub, options(BrandMode::automatic));
  EXPECT_EQ(r.needs_brand, 1u);
  EXPECT_EQ(r.branded, 0u);
  EXPECT_TRUE(skipped_with(r, "static", "read-only file system"));
  EXPECT_EQ(osabi(sub / "static"), 0);
}

TEST_F(BrandTree, KernelFallbackMeansNothingToDoInAuto) {
  BrandOptions o = options(BrandMode::automatic);
  o.kernel = knast::KernelFacts{3, 3};
  const BrandReport r = knast::brand_tree(root_, o);
  EXPECT_TRUE(r.kernel_fallback);
  EXPECT_EQ(r.branded, 0u);
  EXPECT_EQ(osabi(root_ / "bin/busybox-nonote"), 0);
}

TEST_F(BrandTree, StaticPieAndNoteLessProgramsFromGcc) {
  if (!have("gcc")) GTEST_SKIP() << "gcc is not installed";
  write_file(dir_ / "hello.c", "int main(void) { return 0; }\n", fs::perms(0644));
  ASSERT_EQ(std::system(("gcc -static-pie -o " + (root_ / "bin/static-pie").string() + " " + (dir_ / "hello.c").string())
                            .c_str()),
            0);
  // A static program without the C library, so without the ABI-tag note glibc's start
  // files bring: what Go's and musl's static binaries look like to the kernel.
  write_file(dir_ / "bare.c",
             "void _start(void) { __asm__ volatile(\"mov $60, %eax\\n xor %edi, %edi\\n syscall\"); }\n",
             fs::perms(0644));
  ASSERT_EQ(std::system(("gcc -static -nostdlib -o " + (root_ / "bin/bare").string() + " " + (dir_ / "bare.c").string())
                            .c_str()),
            0);
  knast::brand_tree(root_, options(BrandMode::automatic));
  EXPECT_EQ(osabi(root_ / "bin/static-pie"), 3) << "glibc's static PIE carries the ABI tag and is ELFOSABI_GNU";
  EXPECT_EQ(osabi(root_ / "bin/bare"), 3);
  EXPECT_EQ(std::system((root_ / "bin/bare").c_str()), 0) << "still runs on Linux";
}

TEST_F(BrandTree, RealThirtyTwoBitFiles) {
  if (!fs::exists("/lib32/ld-linux.so.2")) GTEST_SKIP() << "libc6-i386 is not installed";
  fs::create_directories(root_ / "lib");
  fs::copy_file("/lib32/ld-linux.so.2", root_ / "lib/ld-linux.so.2");
  fs::copy_file("/lib32/libc.so.6", root_ / "lib/libc.so.6");
  fs::permissions(root_ / "lib/libc.so.6", fs::perms(0644));
  // Debian marks both ELFOSABI_GNU (3); as a musl or older build they would say 0.
  set_osabi(root_ / "lib/ld-linux.so.2", 0);
  set_osabi(root_ / "lib/libc.so.6", 0);
  const BrandReport r = knast::brand_tree(root_, options(BrandMode::automatic, BrandOperation::scan));
  EXPECT_EQ(r.elf32, 3u);  // the loader, libc and the crafted static file
  knast::brand_tree(root_, options(BrandMode::automatic));
  // The loader is an executable ET_DYN without an interpreter or note: the kernel would
  // not know it, so it is branded (harmless for a library, needed to run it directly).
  EXPECT_EQ(osabi(root_ / "lib/ld-linux.so.2"), 3);
  EXPECT_EQ(osabi(root_ / "lib/libc.so.6"), 0) << "a shared library without exec bits is left alone";
}

TEST(LinuxulatorBrand, RootMustBeADirectory) {
  try {
    knast::brand_tree("/nonexistent/knast-tree", options(BrandMode::automatic));
    FAIL();
  } catch (const knast::Error& e) {
    EXPECT_EQ(e.kind(), knast::ErrorCode::not_found);
    EXPECT_EQ(std::string(e.what()), "brand /nonexistent/knast-tree: open: No such file or directory");
  }
  try {
    knast::brand_tree("/bin/busybox", options(BrandMode::automatic));
    FAIL();
  } catch (const knast::Error& e) {
    EXPECT_EQ(e.kind(), knast::ErrorCode::invalid_argument);
  }
}

}  // namespace
