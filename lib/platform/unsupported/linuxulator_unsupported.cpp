// Systems without executors: no fallback brand, no kernel modules to check.
#include "platform/linuxulator.hpp"

#include <knast/error.hpp>

namespace knast::platform {

std::optional<int> elf_fallback_brand(int) { return std::nullopt; }

bool has_kernel_modules() noexcept { return false; }

bool kernel_module_present(const std::string& file, const std::string&) {
  throw Error(ErrorCode::unsupported, "checking kernel module " + file + " needs a FreeBSD host");
}

void load_kernel_module(const std::string& file) {
  throw Error(ErrorCode::unsupported, "loading kernel module " + file + " needs a FreeBSD host");
}

}  // namespace knast::platform
