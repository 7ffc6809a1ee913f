// Which images run where: a pure function of the image's platform, the host's platform and
// the host's kernel facts (the platform layer only supplies the facts of this host).
#include "platform/linuxulator.hpp"

#include <knast/error.hpp>
#include <knast/linuxulator.hpp>

#include <fmt/format.h>

namespace knast {
inline namespace v0 {
namespace {

constexpr int elfosabi_linux = 3;

// What a FreeBSD host of @p host_arch runs from a Linux image of @p image_arch: the ABI
// module, or "" when the Linuxulator has none for it (FREEBSD.md §4; linux(4): linux64
// on amd64 and arm64, the 32-bit `linux` module on amd64 only).
std::string linux_abi_module(const std::string& host_arch, const std::string& image_arch) {
  if (image_arch == host_arch && (host_arch == "amd64" || host_arch == "arm64")) return "linux64";
  if (host_arch == "amd64" && image_arch == "386") return "linux";
  return {};
}

[[noreturn]] void refuse(const Platform& image, const Platform& host, std::string_view why) {
  throw Error(ErrorCode::unsupported,
              fmt::format("cannot run a {} image on a {} host: {}", image.string(), host.string(), why));
}

}  // namespace

bool KernelFacts::linux_fallback(bool also_32bit) const noexcept {
  const bool elf64 = elf64_fallback_brand == elfosabi_linux;
  return also_32bit ? elf64 && elf32_fallback_brand == elfosabi_linux : elf64;
}

KernelFacts KernelFacts::current() {
  return KernelFacts{platform::elf_fallback_brand(64), platform::elf_fallback_brand(32)};
}

HostFacts HostFacts::current() { return HostFacts{Platform::host().normalized(), KernelFacts::current()}; }

HostFacts HostFacts::freebsd(std::string_view architecture) {
  Platform platform;
  platform.os = "freebsd";
  platform.architecture = std::string(architecture);
  // The kernel's default: no fallback brand (sys/kern/imgact_elf.c, -1).
  return HostFacts{platform.normalized(), KernelFacts{-1, -1}};
}

std::string_view to_string(RunMethod method) noexcept {
  switch (method) {
    case RunMethod::freebsd_jail: return "freebsd-jail";
    case RunMethod::linuxulator_jail: return "linuxulator-jail";
    case RunMethod::linux_namespaces: return "linux-namespaces";
  }
  return "unknown";
}

RunDecision decide_run(const Platform& image_platform, const HostFacts& host_facts) {
  if (image_platform.os.empty() || image_platform.architecture.empty())
    throw Error(ErrorCode::invalid_argument,
                "the image's platform \"" + image_platform.string() + "\" lacks an os or architecture: its config is incomplete");
  RunDecision d;
  d.image = image_platform.normalized();
  d.host = host_facts.platform.normalized();
  const std::string& os = d.image.os;
  const PlatformMatcher native(d.host);

  if (d.host.os == "freebsd") {
    if (os == "freebsd") {
      if (!native.matches(d.image))
        refuse(d.image, d.host, "FreeBSD runs FreeBSD images of its own architecture (and 386 on amd64) only");
      d.method = RunMethod::freebsd_jail;
      d.explanation = fmt::format("{} image on {} host: native jail", d.image.string(), d.host.string());
      return d;
    }
    if (os == "linux") {
      d.abi_module = linux_abi_module(d.host.architecture, d.image.architecture);
      if (d.abi_module.empty())
        refuse(d.image, d.host,
               "the Linuxulator runs amd64 and 386 Linux binaries on an amd64 host and arm64 ones on an arm64 host");
      d.method = RunMethod::linuxulator_jail;
      const bool is_32bit = d.image.architecture == "386";
      const std::optional<int> fallback =
          is_32bit ? host_facts.kernel.elf32_fallback_brand : host_facts.kernel.elf64_fallback_brand;
      d.branding_needed = fallback != elfosabi_linux;
      d.explanation = fmt::format("{} image on {} host: jail through the Linuxulator ({}); {}", d.image.string(),
                                  d.host.string(), d.abi_module,
                                  d.branding_needed ? "static binaries get branded"
                                                    : "the kernel's fallback brand is Linux, nothing to brand");
      return d;
    }
    refuse(d.image, d.host, fmt::format("{} images need a {} host", os, os));
  }
  if (d.host.os == "linux") {
    if (os == "linux") {
      if (!native.matches(d.image))
        refuse(d.image, d.host, "Linux runs Linux images of its own architecture (and 386 on amd64) only; knast does not emulate CPUs");
      d.method = RunMethod::linux_namespaces;
      d.explanation = fmt::format("{} image on {} host: namespaces", d.image.string(), d.host.string());
      return d;
    }
    if (os == "freebsd")
      refuse(d.image, d.host, "FreeBSD binaries need a FreeBSD kernel; run it on a FreeBSD host");
    refuse(d.image, d.host, fmt::format("{} images need a {} host", os, os));
  }
  refuse(d.image, d.host, "knast runs containers on FreeBSD and Linux hosts only");
}

std::optional<Platform> choose_image_platform(const std::vector<Platform>& available, const HostFacts& host) {
  const Platform host_platform = host.platform.normalized();
  if (auto best = PlatformMatcher(host_platform).best(available)) return available[*best];
  if (host_platform.os != "freebsd") return std::nullopt;
  // The Linuxulator's choice: the host's own architecture first, then 386 on amd64.
  for (const std::string& arch : {host_platform.architecture, std::string("386")}) {
    for (const Platform& candidate : available) {
      const Platform c = candidate.normalized();
      if (c.os == "linux" && c.architecture == arch && !linux_abi_module(host_platform.architecture, arch).empty())
        return candidate;
    }
  }
  return std::nullopt;
}

}  // namespace v0
}  // namespace knast
