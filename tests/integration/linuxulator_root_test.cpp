// Preparing a Linux root for its plan: mount points and files, never through a symlink;
// and preflight, which needs a FreeBSD host.
#include "image_store_test_support.hpp"

#include <knast/error.hpp>
#include <knast/linuxulator.hpp>

#include <sys/stat.h>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;
using store_test::slurp;
using store_test::TempDir;

knast::LinuxEmulationPlan plan() {
  knast::LinuxEmulationOptions o;
  o.hostname = "web1";
  o.resolv_conf = "nameserver 192.0.2.53\n";
  return knast::make_linux_emulation_plan(knast::Platform::parse("linux/amd64"), o);
}

TEST(LinuxulatorRoot, CreatesMountPointsAndWritesFiles) {
  TempDir dir;
  const fs::path root = dir / "root";
  fs::create_directories(root / "etc");
  fs::create_directories(root / "proc");
  // Ubuntu's resolv.conf is a symlink; here one aims outside the root.
  const fs::path outside = dir / "host-resolv.conf";
  std::ofstream(outside) << "host file\n";
  fs::create_symlink(outside, root / "etc/resolv.conf");

  const knast::PreflightReport r = knast::prepare_linux_root(plan(), root);
  EXPECT_EQ(r.created, (std::vector<std::string>{"/dev", "/sys"})) << "/proc existed; /dev/fd and /dev/shm come from devfs";
  EXPECT_EQ(r.files_written, (std::vector<std::string>{"/etc/hostname", "/etc/hosts", "/etc/resolv.conf"}));
  EXPECT_TRUE(fs::is_directory(root / "dev"));
  EXPECT_FALSE(fs::exists(root / "dev/shm"));
  EXPECT_EQ(slurp(root / "etc/hostname"), "web1\n");
  EXPECT_NE(slurp(root / "etc/hosts").find("127.0.1.1\tweb1\n"), std::string::npos);
  EXPECT_FALSE(fs::is_symlink(root / "etc/resolv.conf")) << "the link is replaced, not followed";
  EXPECT_EQ(slurp(root / "etc/resolv.conf"), "nameserver 192.0.2.53\n");
  EXPECT_EQ(slurp(outside), "host file\n");
  struct stat st{};
  ASSERT_EQ(::stat((root / "etc/hosts").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);

  const knast::PreflightReport again = knast::prepare_linux_root(plan(), root);
  EXPECT_TRUE(again.created.empty()) << "idempotent";
  for (const auto& entry : fs::directory_iterator(root / "etc"))
    EXPECT_EQ(entry.path().filename().string().rfind(".knast-", 0), std::string::npos) << "no temporary file left";
}

TEST(LinuxulatorRoot, RefusesSymlinksOnTheWay) {
  TempDir dir;
  const fs::path root = dir / "root";
  fs::create_directories(root);
  fs::create_directories(dir / "elsewhere");
  fs::create_symlink(dir / "elsewhere", root / "proc");
  try {
    knast::prepare_linux_root(plan(), root);
    FAIL() << "a symlinked mount point was accepted";
  } catch (const knast::Error& e) {
    EXPECT_EQ(e.kind(), knast::ErrorCode::invalid_argument);
    EXPECT_EQ(std::string(e.what()), "prepare Linux root " + root.string() +
                                         ": inside the root, /proc is a symlink: refusing to follow it (it could lead "
                                         "outside the root)");
  }
  EXPECT_TRUE(fs::is_empty(dir / "elsewhere"));

  fs::remove(root / "proc");
  fs::create_symlink(dir / "elsewhere", root / "etc");
  EXPECT_THROW(knast::prepare_linux_root(plan(), root), knast::Error);
  EXPECT_TRUE(fs::is_empty(dir / "elsewhere")) << "nothing written through /etc";
}

TEST(LinuxulatorRoot, PreflightNeedsAFreeBSDHost) {
  if (knast::Platform::host().os == "freebsd") GTEST_SKIP() << "this is the FreeBSD case";
  TempDir dir;
  try {
    knast::preflight(plan(), dir.path());
    FAIL();
  } catch (const knast::Error& e) {
    EXPECT_EQ(e.kind(), knast::ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("checks a FreeBSD host's kernel modules; this host is linux/"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
