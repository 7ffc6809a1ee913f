// The FreeBSD side of the Linuxulator: two sysctls and the module calls (kldfind(2),
// modfind(2), kldload(2)). Facts: FREEBSD.md §4 (sys/kern/imgact_elf.c, rc.d/linux).
#include "platform/linuxulator.hpp"

#include <knast/error.hpp>

#include <sys/param.h>
#include <sys/linker.h>
#include <sys/module.h>
#include <sys/sysctl.h>

#include <cerrno>
#include <cstring>

namespace knast::platform {

std::optional<int> elf_fallback_brand(int bits) {
  const char* name = bits == 32 ? "kern.elf32.fallback_brand" : "kern.elf64.fallback_brand";
  int value = 0;
  size_t size = sizeof value;
  if (::sysctlbyname(name, &value, &size, nullptr, 0) != 0 || size != sizeof value) return std::nullopt;
  return value;
}

bool has_kernel_modules() noexcept { return true; }

bool kernel_module_present(const std::string& file, const std::string& module) {
  // A loaded file (linux64.ko) or a module compiled into the kernel (tmpfs in GENERIC).
  if (::kldfind(file.c_str()) >= 0) return true;
  return !module.empty() && ::modfind(module.c_str()) >= 0;
}

void load_kernel_module(const std::string& file) {
  if (::kldload(file.c_str()) >= 0 || errno == EEXIST) return;
  const int err = errno;
  if (err == ENOENT)
    throw Error(ErrorCode::not_found, "kldload " + file + ": no such kernel module in the module path (kern.module_path)");
  throw Error(err, "kldload " + file + ": " + std::strerror(err));
}

}  // namespace knast::platform
