// Reading what the FreeBSD image activator looks at in an ELF file — the ELF header, the
// program headers, PT_INTERP and PT_NOTE — and deciding whether a file needs the Linux
// brand. Pure: the bytes come through a ReadAt function, so unit tests feed buffers and
// brand_tree() feeds pread(2).
#pragma once

#include "rootfs/elf_index.hpp"

#include <knast/linuxulator.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace detail {

/// Offset of EI_OSABI in e_ident, the one byte branding changes.
inline constexpr std::size_t elf_osabi_offset = 7;
/// ELFOSABI_LINUX (also ELFOSABI_GNU), the brand FreeBSD's Linux ABI registers.
inline constexpr std::uint8_t elf_osabi_linux = 3;
/// ELFOSABI_FREEBSD.
inline constexpr std::uint8_t elf_osabi_freebsd = 9;
/// How many bytes of a file inspect_elf() asks for first: the ELF header and, for most
/// files, all their program headers.
inline constexpr std::size_t elf_first_read = 1024;

/// Reads up to @p size bytes at @p offset into @p buffer and returns how many it read
/// (fewer only at the end of the file). Throws on an I/O error.
using ReadAt = std::function<std::size_t(void* buffer, std::size_t size, std::uint64_t offset)>;

/// What inspect_elf() found.
struct ElfFacts {
  enum class Kind {
    not_elf,    ///< No ELF magic: not our business.
    malformed,  ///< ELF magic, but a header the kernel would refuse (see problem).
    elf,        ///< A well-formed ELF file.
  };
  Kind kind = Kind::not_elf;
  std::string problem;             ///< Why it is malformed ("truncated ELF header", ...).
  unsigned bits = 0;               ///< 32 or 64.
  std::uint16_t type = 0;          ///< e_type: ET_EXEC 2, ET_DYN 3, ...
  std::uint16_t machine = 0;       ///< e_machine.
  std::uint8_t osabi = 0;          ///< e_ident[EI_OSABI].
  std::optional<std::string> interpreter;  ///< PT_INTERP's path.
  bool linux_note = false;         ///< A GNU ABI tag note naming Linux (NT_GNU_ABI_TAG, os 0).
  bool freebsd_note = false;       ///< A FreeBSD ABI tag note (NT_FREEBSD_ABI_TAG).
};

/// Inspects a file through @p read. Reads the first elf_first_read bytes, the program
/// headers beyond them and, for executables and shared objects, their PT_NOTE segments
/// (at most 4 KiB each) and PT_INTERP. A short read means the end of the file, so no
/// file size is needed (the caller stats only files that turn out to be ELF). With
/// @p read_segments false the notes and interpreter are not read (mode `all` needs only
/// the header: one pread per file).
ElfFacts inspect_elf(const ReadAt& read, bool read_segments = true);

/// What the ELF index records of a file (apply_layer() calls this as it writes one; a
/// copy carries its source's entry) from @p head, its first bytes: the whole file of @p size bytes, or at least
/// its first elf_first_read. The header's facts are set for a file that inspect_elf()
/// without segments finds well-formed within @p head; they stay unset for any other file,
/// and for one whose program headers lie beyond @p head (branding then reads it).
IndexedContent index_content(std::span<const std::uint8_t> head, std::uint64_t size);

/// What inspect_elf() without segments says of a file whose header facts the ELF index
/// holds (e_machine excepted: the index does not keep it, and branding does not use it).
ElfFacts facts_of(const ElfHeaderFacts& header);

/// Whether @p path is an interpreter FreeBSD's Linux brands register for themselves, so
/// that a dynamic executable using it is recognised without a note (FREEBSD.md §4: the
/// amd64 Linux brands register /lib64/ld-linux-x86-64.so.2, /lib64/ld-linux.so.2 and
/// /lib/ld-musl-x86_64.so.1; others are not confirmed, so their users get branded,
/// which is harmless).
bool known_linux_interpreter(std::string_view path) noexcept;

/// What branding does with one ELF file.
enum class BrandNeed {
  leave,    ///< The mode does not select it (or the kernel recognises it anyway).
  brand,    ///< Selected and its EI_OSABI is not 3: write 3.
  already,  ///< Selected and already 3.
};

/// Decides for one well-formed ELF file. @p executable: some execute bit is set (tells a
/// static PIE, which needs the brand, from a shared library, which is never exec'ed).
/// @p fallback_brand: the kernel's fallback brand for the file's class, when known.
BrandNeed brand_need(const ElfFacts& facts, BrandMode mode, bool executable, std::optional<int> fallback_brand);

/// Whether the FreeBSD kernel would pick a brand for the file by itself: a Linux or
/// FreeBSD ABI note, a known Linux interpreter, or an EI_OSABI that names a brand.
bool kernel_recognises(const ElfFacts& facts) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace knast
