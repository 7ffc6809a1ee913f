// Which images run where: every combination of image and host platform, and the exact
// refusal messages.
#include <knast/error.hpp>
#include <knast/linuxulator.hpp>

#include <gtest/gtest.h>

namespace knast {
namespace {

HostFacts host(const std::string& platform, std::optional<int> fallback64 = -1, std::optional<int> fallback32 = -1) {
  return HostFacts{Platform::parse(platform), KernelFacts{fallback64, fallback32}};
}

RunDecision decide(const std::string& image, const HostFacts& h) { return decide_run(Platform::parse(image), h); }

std::string refusal(const std::string& image, const HostFacts& h) {
  try {
    decide(image, h);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::unsupported);
    return e.what();
  }
  ADD_FAILURE() << image << " on " << h.platform.string() << " was not refused";
  return {};
}

TEST(LinuxulatorRun, FreeBSDImagesRunNativelyOnFreeBSD) {
  RunDecision d = decide("freebsd/amd64", host("freebsd/amd64"));
  EXPECT_EQ(d.method, RunMethod::freebsd_jail);
  EXPECT_TRUE(d.abi_module.empty());
  EXPECT_FALSE(d.branding_needed);
  EXPECT_EQ(d.explanation, "freebsd/amd64 image on freebsd/amd64 host: native jail");
  EXPECT_EQ(decide("freebsd/386", host("freebsd/amd64")).method, RunMethod::freebsd_jail);
  EXPECT_EQ(decide("freebsd/arm64", host("freebsd/arm64")).method, RunMethod::freebsd_jail);
}

TEST(LinuxulatorRun, LinuxImagesRunThroughTheLinuxulatorOnFreeBSD) {
  RunDecision d = decide("linux/amd64", host("freebsd/amd64"));
  EXPECT_EQ(d.method, RunMethod::linuxulator_jail);
  EXPECT_EQ(d.abi_module, "linux64");
  EXPECT_TRUE(d.branding_needed);
  EXPECT_EQ(d.explanation,
            "linux/amd64 image on freebsd/amd64 host: jail through the Linuxulator (linux64); static binaries get branded");

  d = decide("linux/386", host("freebsd/amd64"));
  EXPECT_EQ(d.abi_module, "linux");
  EXPECT_TRUE(d.branding_needed);

  d = decide("linux/arm64/v8", host("freebsd/arm64"));
  EXPECT_EQ(d.method, RunMethod::linuxulator_jail);
  EXPECT_EQ(d.abi_module, "linux64");
}

TEST(LinuxulatorRun, TheFallbackBrandMakesBrandingUnneeded) {
  EXPECT_FALSE(decide("linux/amd64", host("freebsd/amd64", 3, -1)).branding_needed);
  EXPECT_TRUE(decide("linux/386", host("freebsd/amd64", 3, -1)).branding_needed);
  EXPECT_FALSE(decide("linux/386", host("freebsd/amd64", -1, 3)).branding_needed);
  EXPECT_EQ(decide("linux/amd64", host("freebsd/amd64", 3, 3)).explanation,
            "linux/amd64 image on freebsd/amd64 host: jail through the Linuxulator (linux64); the kernel's fallback "
            "brand is Linux, nothing to brand");
}

TEST(LinuxulatorRun, LinuxImagesRunInNamespacesOnLinux) {
  RunDecision d = decide("linux/amd64", host("linux/amd64", std::nullopt, std::nullopt));
  EXPECT_EQ(d.method, RunMethod::linux_namespaces);
  EXPECT_FALSE(d.branding_needed);
  EXPECT_EQ(decide("linux/386", host("linux/amd64")).method, RunMethod::linux_namespaces);
}

TEST(LinuxulatorRun, RefusalsNameBothPlatforms) {
  EXPECT_EQ(refusal("freebsd/amd64", host("linux/amd64")),
            "cannot run a freebsd/amd64 image on a linux/amd64 host: FreeBSD binaries need a FreeBSD kernel; run it on a "
            "FreeBSD host");
  EXPECT_EQ(refusal("linux/arm64", host("freebsd/amd64")),
            "cannot run a linux/arm64 image on a freebsd/amd64 host: the Linuxulator runs amd64 and 386 Linux binaries on "
            "an amd64 host and arm64 ones on an arm64 host");
  EXPECT_EQ(refusal("linux/amd64", host("freebsd/arm64")),
            "cannot run a linux/amd64 image on a freebsd/arm64 host: the Linuxulator runs amd64 and 386 Linux binaries on "
            "an amd64 host and arm64 ones on an arm64 host");
  EXPECT_EQ(refusal("linux/arm/v7", host("freebsd/arm64")),
            "cannot run a linux/arm/v7 image on a freebsd/arm64 host: the Linuxulator runs amd64 and 386 Linux binaries "
            "on an amd64 host and arm64 ones on an arm64 host");
  EXPECT_EQ(refusal("freebsd/arm64", host("freebsd/amd64")),
            "cannot run a freebsd/arm64 image on a freebsd/amd64 host: FreeBSD runs FreeBSD images of its own "
            "architecture (and 386 on amd64) only");
  EXPECT_EQ(refusal("windows/amd64", host("freebsd/amd64")),
            "cannot run a windows/amd64 image on a freebsd/amd64 host: windows images need a windows host");
  EXPECT_EQ(refusal("windows/amd64", host("linux/amd64")),
            "cannot run a windows/amd64 image on a linux/amd64 host: windows images need a windows host");
  EXPECT_EQ(refusal("linux/arm64", host("linux/amd64")),
            "cannot run a linux/arm64 image on a linux/amd64 host: Linux runs Linux images of its own architecture (and "
            "386 on amd64) only; knast does not emulate CPUs");
  EXPECT_EQ(refusal("linux/amd64", host("darwin/arm64")),
            "cannot run a linux/amd64 image on a darwin/arm64 host: knast runs containers on FreeBSD and Linux hosts only");
  EXPECT_EQ(refusal("freebsd/amd64", host("windows/amd64")),
            "cannot run a freebsd/amd64 image on a windows/amd64 host: knast runs containers on FreeBSD and Linux hosts "
            "only");
}

TEST(LinuxulatorRun, IncompletePlatformIsInvalid) {
  Platform empty;
  empty.os = "linux";
  try {
    decide_run(empty, host("freebsd/amd64"));
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  }
}

TEST(LinuxulatorRun, FreeBSDHostFactsAreTheKernelDefaults) {
  const HostFacts f = HostFacts::freebsd();
  EXPECT_EQ(f.platform.string(), "freebsd/amd64");
  EXPECT_EQ(f.kernel.elf64_fallback_brand, -1);
  EXPECT_FALSE(f.kernel.linux_fallback());
  EXPECT_TRUE((KernelFacts{3, 3}.linux_fallback(true)));
  EXPECT_FALSE((KernelFacts{3, -1}.linux_fallback(true)));
}

TEST(LinuxulatorRun, ThisHostHasNoFallbackBrandOffFreeBSD) {
  const HostFacts here = HostFacts::current();
  if (here.platform.os == "freebsd") GTEST_SKIP() << "a FreeBSD host has the sysctls";
  EXPECT_FALSE(here.kernel.elf64_fallback_brand);
  EXPECT_FALSE(here.kernel.elf32_fallback_brand);
}

TEST(LinuxulatorRun, ChoosesTheImagePlatformAHostRuns) {
  const std::vector<Platform> multi = {Platform::parse("linux/arm64"), Platform::parse("linux/386"),
                                       Platform::parse("linux/amd64"), Platform::parse("freebsd/amd64")};
  EXPECT_EQ(choose_image_platform(multi, host("freebsd/amd64"))->string(), "freebsd/amd64");
  EXPECT_EQ(choose_image_platform(multi, host("linux/amd64"))->string(), "linux/amd64");
  const std::vector<Platform> linux_only(multi.begin(), multi.begin() + 3);
  EXPECT_EQ(choose_image_platform(linux_only, host("freebsd/amd64"))->string(), "linux/amd64");
  EXPECT_EQ(choose_image_platform(linux_only, host("freebsd/arm64"))->string(), "linux/arm64");
  const std::vector<Platform> i386_only = {Platform::parse("linux/386")};
  EXPECT_EQ(choose_image_platform(i386_only, host("freebsd/amd64"))->string(), "linux/386");
  EXPECT_FALSE(choose_image_platform(i386_only, host("freebsd/arm64")));
  EXPECT_FALSE(choose_image_platform({Platform::parse("windows/amd64")}, host("freebsd/amd64")));
}

TEST(LinuxulatorRun, MethodNames) {
  EXPECT_EQ(to_string(RunMethod::freebsd_jail), "freebsd-jail");
  EXPECT_EQ(to_string(RunMethod::linuxulator_jail), "linuxulator-jail");
  EXPECT_EQ(to_string(RunMethod::linux_namespaces), "linux-namespaces");
}

}  // namespace
}  // namespace knast
