// What the Linuxulator asks of the host kernel, answered by
// lib/platform/<os>/linuxulator_<os>.cpp: the ELF fallback brands and kernel modules.
// Only FreeBSD has either; elsewhere the answers are "none" and "unsupported".
#pragma once

#include <optional>
#include <string>

namespace knast::platform {

/// `kern.elf64.fallback_brand` (@p bits 64) or `kern.elf32.fallback_brand` (32); nothing
/// where the sysctl does not exist (every OS but FreeBSD, or a kernel without it).
std::optional<int> elf_fallback_brand(int bits);

/// Whether this OS has kernel modules the Linuxulator can check and load.
bool has_kernel_modules() noexcept;

/// Whether the module file @p file (kldfind(2)) is loaded or the module @p module
/// (modfind(2)) is in the kernel. @throws Error unsupported where has_kernel_modules()
/// is false.
bool kernel_module_present(const std::string& file, const std::string& module);

/// Loads the module file @p file (kldload(2)); an already loaded one is not an error.
/// @throws Error unsupported where has_kernel_modules() is false; not_found (no such
///         module file), permission_denied (not root), io.
void load_kernel_module(const std::string& file);

}  // namespace knast::platform
