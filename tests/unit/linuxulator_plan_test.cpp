// The Linux-emulation plan: golden files for amd64 and i386 images (JSON and text) and
// the options it refuses. Regenerate the golden files after an intended change with
// KNAST_UPDATE_GOLDEN=1 knast_unit_tests --gtest_filter='LinuxulatorPlan.*', then review
// and commit the diff.
#include "golden.hpp"
#include <knast/error.hpp>
#include <knast/linuxulator.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace knast {
namespace {

const std::string golden_dir = std::string(KNAST_TESTDATA_DIR) + "/linuxulator/";

void expect_golden(const std::string& name, const std::string& actual) {
  const std::string path = golden_dir + name;
  golden_test::expect_golden_file(path, actual);
}

LinuxEmulationOptions options() {
  LinuxEmulationOptions o;
  o.hostname = "web1";
  o.resolv_conf = "nameserver 192.0.2.53\nsearch example.org";
  return o;
}

TEST(LinuxulatorPlan, Amd64GoldenJson) {
  expect_golden("plan-linux-amd64.json.golden", to_json(make_linux_emulation_plan(Platform::parse("linux/amd64"), options())));
}

TEST(LinuxulatorPlan, Amd64GoldenText) {
  expect_golden("plan-linux-amd64.txt.golden", to_text(make_linux_emulation_plan(Platform::parse("linux/amd64"), options())));
}

TEST(LinuxulatorPlan, I386GoldenJson) {
  expect_golden("plan-linux-386.json.golden", to_json(make_linux_emulation_plan(Platform::parse("linux/386"), options())));
}

TEST(LinuxulatorPlan, I386GoldenText) {
  expect_golden("plan-linux-386.txt.golden", to_text(make_linux_emulation_plan(Platform::parse("linux/386"), options())));
}

TEST(LinuxulatorPlan, MountsInOrder) {
  const LinuxEmulationPlan plan = make_linux_emulation_plan(Platform::parse("linux/amd64"));
  ASSERT_EQ(plan.mounts.size(), 5u);
  EXPECT_EQ(plan.mounts[0], (MountStep{"devfs", "devfs", "/dev", {{"ruleset", "40"}}, MountFlags::nosuid}));
  EXPECT_EQ(plan.mounts[1], (MountStep{"fdescfs", "fdescfs", "/dev/fd", {{"linrdlnk", ""}}, MountFlags::none}));
  EXPECT_EQ(plan.mounts[2].fstype, "linprocfs");
  EXPECT_EQ(plan.mounts[2].target, "/proc");
  EXPECT_EQ(plan.mounts[3].fstype, "linsysfs");
  EXPECT_EQ(plan.mounts[3].target, "/sys");
  EXPECT_EQ(plan.mounts[4], (MountStep{"tmpfs", "tmpfs", "/dev/shm", {{"mode", "1777"}},
                                       MountFlags::nosuid | MountFlags::noexec}));
  EXPECT_EQ(plan.devfs_ruleset.include, 4u);
  EXPECT_EQ(plan.devfs_ruleset.rules, (std::vector<DevfsRule>{{"shm", "unhide"}, {"shm/*", "unhide"}}));
  EXPECT_EQ(std::get<std::string>(plan.jail_params.at("linux.osrelease")), "5.15.0");
  EXPECT_EQ(std::get<std::int64_t>(plan.jail_params.at("devfs_ruleset")), 40);
  EXPECT_EQ(plan.files.size(), 2u) << "no resolv.conf without content";
}

TEST(LinuxulatorPlan, ModulesPerArchitecture) {
  auto files = [](const LinuxEmulationPlan& p) {
    std::vector<std::string> out;
    for (const auto& m : p.kernel_modules) out.push_back(m.file);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(files(make_linux_emulation_plan(Platform::parse("linux/amd64"))),
            (V{"linux64", "linprocfs", "linsysfs", "fdescfs", "tmpfs"}));
  EXPECT_EQ(files(make_linux_emulation_plan(Platform::parse("linux/386"))),
            (V{"linux", "linprocfs", "linsysfs", "fdescfs", "tmpfs"}));
  EXPECT_EQ(files(make_linux_emulation_plan(Platform::parse("linux/arm64"))),
            (V{"linux64", "linprocfs", "linsysfs", "fdescfs", "tmpfs"}));
  LinuxEmulationOptions with32;
  with32.include_32bit = true;
  EXPECT_EQ(files(make_linux_emulation_plan(Platform::parse("linux/amd64"), with32)),
            (V{"linux64", "linux", "linprocfs", "linsysfs", "fdescfs", "tmpfs"}));
}

TEST(LinuxulatorPlan, MountFlagNames) {
  EXPECT_EQ(to_string(MountFlags::none), "");
  EXPECT_EQ(to_string(MountFlags::read_only | MountFlags::noexec), "ro,noexec");
  EXPECT_TRUE(has_flag(MountFlags::nosuid | MountFlags::noexec, MountFlags::noexec));
  EXPECT_FALSE(has_flag(MountFlags::nosuid, MountFlags::read_only));
}

void expect_refused(const Platform& image, const LinuxEmulationOptions& o, ErrorCode code, const std::string& message) {
  try {
    make_linux_emulation_plan(image, o);
    ADD_FAILURE() << "not refused: " << message;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), code);
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(LinuxulatorPlan, RefusesWhatCannotWork) {
  const Platform amd64 = Platform::parse("linux/amd64");
  expect_refused(Platform::parse("freebsd/amd64"), {}, ErrorCode::invalid_argument,
                 "a Linux-emulation plan is for Linux images; this one is freebsd/amd64");
  expect_refused(Platform::parse("linux/ppc64le"), {}, ErrorCode::unsupported,
                 "the Linuxulator runs amd64, 386 and arm64 Linux binaries; this image is linux/ppc64le");
  LinuxEmulationOptions o;
  o.osrelease = "latest";
  expect_refused(amd64, o, ErrorCode::invalid_argument, "linux.osrelease \"latest\" is not a kernel version such as 5.15.0");
  o.osrelease = "5";
  expect_refused(amd64, o, ErrorCode::invalid_argument, "linux.osrelease \"5\" is not a kernel version such as 5.15.0");
  o.osrelease = "6.1.0-knast";
  EXPECT_NO_THROW(make_linux_emulation_plan(amd64, o));
  o = {};
  o.hostname = "bad host";
  expect_refused(amd64, o, ErrorCode::invalid_argument,
                 "hostname \"bad host\" is not a host name (letters, digits, '-' and '.', at most 255)");
  o = {};
  o.devfs_ruleset = 4;
  expect_refused(amd64, o, ErrorCode::invalid_argument,
                 "devfs ruleset 4 cannot be knast's: use 6-65535 (1-5 are FreeBSD's defaults)");
}

}  // namespace
}  // namespace knast
