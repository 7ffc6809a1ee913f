// Linux has no Linuxulator: no fallback brand, no FreeBSD modules. Branding and plans
// still work here (they are portable); preflight is refused.
#include "platform/linuxulator.hpp"

#include <knast/error.hpp>

namespace knast::platform {

std::optional<int> elf_fallback_brand(int) { return std::nullopt; }

bool has_kernel_modules() noexcept { return false; }

bool kernel_module_present(const std::string& file, const std::string&) {
  throw Error(ErrorCode::unsupported,
              "checking kernel module " + file + " needs a FreeBSD host (this is Linux, which runs Linux images natively)");
}

void load_kernel_module(const std::string& file) {
  throw Error(ErrorCode::unsupported,
              "loading kernel module " + file + " needs a FreeBSD host (this is Linux, which runs Linux images natively)");
}

}  // namespace knast::platform
