#include "linuxulator/elf_inspect.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

// The constants of elf(5), spelled out so the code does not depend on <elf.h> (FreeBSD's
// and glibc's differ in names).
constexpr std::uint8_t elfclass32 = 1;
constexpr std::uint8_t elfclass64 = 2;
constexpr std::uint8_t elfdata_lsb = 1;
constexpr std::uint8_t elfdata_msb = 2;
constexpr std::uint16_t et_exec = 2;
constexpr std::uint16_t et_dyn = 3;
constexpr std::uint32_t pt_interp = 3;
constexpr std::uint32_t pt_note = 4;
constexpr std::uint32_t nt_abi_tag = 1;  // NT_GNU_ABI_TAG and NT_FREEBSD_ABI_TAG
constexpr std::uint32_t gnu_abi_os_linux = 0;
constexpr std::size_t ehdr32_size = 52;
constexpr std::size_t ehdr64_size = 64;
constexpr std::size_t phdr32_size = 32;
constexpr std::size_t phdr64_size = 56;
// The kernel reads the program headers within its first page; real files have a few
// dozen. More than this is treated as malformed rather than read.
constexpr std::size_t max_program_headers = 512;
constexpr std::size_t max_note_bytes = 4096;
constexpr std::size_t max_interpreter_bytes = 1024;

// Little- or big-endian fields of a byte buffer.
class Fields {
 public:
  Fields(const std::uint8_t* data, bool msb) : data_(data), msb_(msb) {}
  std::uint16_t u16(std::size_t at) const { return static_cast<std::uint16_t>(get(at, 2)); }
  std::uint32_t u32(std::size_t at) const { return static_cast<std::uint32_t>(get(at, 4)); }
  std::uint64_t u64(std::size_t at) const { return get(at, 8); }

 private:
  std::uint64_t get(std::size_t at, std::size_t size) const {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < size; ++i) {
      const std::size_t byte = msb_ ? i : size - 1 - i;
      value = (value << 8) | data_[at + byte];
    }
    return value;
  }
  const std::uint8_t* data_;
  bool msb_;
};

struct Segment {
  std::uint32_t type = 0;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::uint64_t align = 0;
};

ElfFacts malformed(ElfFacts facts, std::string problem) {
  facts.kind = ElfFacts::Kind::malformed;
  facts.problem = std::move(problem);
  return facts;
}

std::vector<std::uint8_t> read_range(const ReadAt& read, std::uint64_t offset, std::size_t size) {
  std::vector<std::uint8_t> bytes(size);
  bytes.resize(read(bytes.data(), size, offset));
  return bytes;
}

Segment segment_at(const Fields& f, std::size_t at, unsigned bits) {
  Segment s;
  s.type = f.u32(at);
  if (bits == 64) {
    s.offset = f.u64(at + 8);
    s.size = f.u64(at + 32);
    s.align = f.u64(at + 48);
  } else {
    s.offset = f.u32(at + 4);
    s.size = f.u32(at + 16);
    s.align = f.u32(at + 28);
  }
  return s;
}

std::size_t round_up(std::size_t value, std::size_t align) { return (value + align - 1) / align * align; }

// Walks the notes of one PT_NOTE segment (elf(5): namesz, descsz, type, name, desc, each
// padded to the segment's alignment, 4 or 8) and records the ABI tags it finds.
void scan_notes(const std::vector<std::uint8_t>& notes, bool msb, std::size_t align, ElfFacts& facts) {
  const Fields f(notes.data(), msb);
  std::size_t at = 0;
  while (at + 12 <= notes.size()) {
    const std::size_t namesz = f.u32(at);
    const std::size_t descsz = f.u32(at + 4);
    const std::uint32_t type = f.u32(at + 8);
    const std::size_t name_at = at + 12;
    if (namesz > notes.size() || descsz > notes.size()) return;
    const std::size_t desc_at = name_at + round_up(namesz, align);
    if (desc_at + descsz > notes.size()) return;
    const std::string_view name(reinterpret_cast<const char*>(notes.data() + name_at), namesz);
    if (type == nt_abi_tag && name == std::string_view("GNU\0", 4) && descsz >= 4 &&
        f.u32(desc_at) == gnu_abi_os_linux)
      facts.linux_note = true;
    if (type == nt_abi_tag && name == std::string_view("FreeBSD\0", 8)) facts.freebsd_note = true;
    at = desc_at + round_up(descsz, align);
  }
}

}  // namespace

ElfFacts inspect_elf(const ReadAt& read, bool read_segments) {
  ElfFacts facts;
  std::array<std::uint8_t, elf_first_read> head{};
  const std::size_t got = read(head.data(), head.size(), 0);
  if (got < 4 || std::memcmp(head.data(), "\x7f" "ELF", 4) != 0) return facts;

  if (got < 16) return malformed(facts, "truncated ELF identification");
  const std::uint8_t elf_class = head[4];
  const std::uint8_t data = head[5];
  if (elf_class != elfclass32 && elf_class != elfclass64)
    return malformed(facts, "unknown ELF class " + std::to_string(elf_class));
  if (data != elfdata_lsb && data != elfdata_msb)
    return malformed(facts, "unknown ELF data encoding " + std::to_string(data));
  facts.bits = elf_class == elfclass64 ? 64 : 32;
  const bool msb = data == elfdata_msb;
  const std::size_t ehdr_size = facts.bits == 64 ? ehdr64_size : ehdr32_size;
  if (got < ehdr_size) return malformed(facts, "truncated ELF header");

  const Fields f(head.data(), msb);
  facts.osabi = head[elf_osabi_offset];
  facts.type = f.u16(16);
  facts.machine = f.u16(18);
  const std::uint64_t phoff = facts.bits == 64 ? f.u64(32) : f.u32(28);
  const std::size_t phentsize = f.u16(facts.bits == 64 ? 54 : 42);
  const std::size_t phnum = f.u16(facts.bits == 64 ? 56 : 44);
  const std::size_t want_phentsize = facts.bits == 64 ? phdr64_size : phdr32_size;
  if (phnum > 0 && phentsize != want_phentsize)
    return malformed(facts, "program header size " + std::to_string(phentsize) + " (expected " +
                                std::to_string(want_phentsize) + ")");
  if (phnum > max_program_headers) return malformed(facts, "too many program headers (" + std::to_string(phnum) + ")");
  const std::uint64_t phdrs_bytes = static_cast<std::uint64_t>(phnum) * want_phentsize;
  std::vector<std::uint8_t> phdrs;
  if (phoff <= got && phdrs_bytes <= got - phoff) {
    phdrs.assign(head.begin() + static_cast<std::ptrdiff_t>(phoff),
                 head.begin() + static_cast<std::ptrdiff_t>(phoff + phdrs_bytes));
  } else {
    phdrs = read_range(read, phoff, static_cast<std::size_t>(phdrs_bytes));
    if (phdrs.size() != phdrs_bytes) return malformed(facts, "program headers beyond the end of the file");
  }
  facts.kind = ElfFacts::Kind::elf;
  if (!read_segments) return facts;

  const Fields pf(phdrs.data(), msb);
  std::vector<Segment> segments;
  for (std::size_t i = 0; i < phnum; ++i) segments.push_back(segment_at(pf, i * want_phentsize, facts.bits));

  // Only an executable or shared object can be exec'ed; the contents of notes and the
  // interpreter matter only for those.
  if (facts.type != et_exec && facts.type != et_dyn) return facts;
  for (const Segment& s : segments) {
    if (s.type != pt_note || s.size == 0) continue;
    const std::size_t size = static_cast<std::size_t>(std::min<std::uint64_t>(s.size, max_note_bytes));
    scan_notes(read_range(read, s.offset, size), msb, s.align == 8 ? 8 : 4, facts);
  }
  for (const Segment& s : segments) {
    if (s.type != pt_interp) continue;
    const std::size_t size = static_cast<std::size_t>(std::min<std::uint64_t>(s.size, max_interpreter_bytes));
    std::vector<std::uint8_t> bytes = size == 0 ? std::vector<std::uint8_t>{} : read_range(read, s.offset, size);
    if (bytes.empty()) return malformed(facts, "PT_INTERP outside the file");
    std::string path(bytes.begin(), bytes.end());
    path.resize(std::strlen(path.c_str()));  // stop at the NUL
    facts.interpreter = std::move(path);
    break;
  }
  return facts;
}

IndexedContent index_content(std::span<const std::uint8_t> head, std::uint64_t size) {
  IndexedContent content;
  content.elf = head.size() >= 4 && std::memcmp(head.data(), "\x7f" "ELF", 4) == 0;
  if (!content.elf) return content;
  struct BeyondTheHead {};  // a read the head cannot answer: the file goes on past it
  ElfFacts facts;
  try {
    facts = inspect_elf(
        [&](void* buffer, std::size_t want, std::uint64_t offset) -> std::size_t {
          if (offset >= size) return 0;
          const std::uint64_t end = std::min<std::uint64_t>(size, offset + want);
          if (end > head.size()) throw BeyondTheHead{};
          std::memcpy(buffer, head.data() + offset, static_cast<std::size_t>(end - offset));
          return static_cast<std::size_t>(end - offset);
        },
        false);
  } catch (const BeyondTheHead&) {
    return content;
  }
  if (facts.kind == ElfFacts::Kind::elf)
    content.header = ElfHeaderFacts{static_cast<std::uint8_t>(facts.bits), facts.osabi, facts.type};
  return content;
}

ElfFacts facts_of(const ElfHeaderFacts& header) {
  ElfFacts facts;
  facts.kind = ElfFacts::Kind::elf;
  facts.bits = header.bits;
  facts.osabi = header.osabi;
  facts.type = header.type;
  return facts;
}

bool known_linux_interpreter(std::string_view path) noexcept {
  static constexpr std::string_view known[] = {"/lib64/ld-linux-x86-64.so.2", "/lib64/ld-linux.so.2",
                                               "/lib/ld-musl-x86_64.so.1"};
  return std::find(std::begin(known), std::end(known), path) != std::end(known);
}

bool kernel_recognises(const ElfFacts& facts) noexcept {
  if (facts.linux_note || facts.freebsd_note) return true;
  if (facts.osabi == elf_osabi_linux || facts.osabi == elf_osabi_freebsd) return true;
  return facts.interpreter && known_linux_interpreter(*facts.interpreter);
}

BrandNeed brand_need(const ElfFacts& facts, BrandMode mode, bool executable, std::optional<int> fallback_brand) {
  if (facts.kind != ElfFacts::Kind::elf || mode == BrandMode::none) return BrandNeed::leave;
  const bool already = facts.osabi == elf_osabi_linux;
  if (mode == BrandMode::all) return already ? BrandNeed::already : BrandNeed::brand;

  // automatic: only what the kernel would refuse to exec.
  const bool exec_candidate = facts.type == et_exec || (facts.type == et_dyn && executable);
  if (!exec_candidate) return BrandNeed::leave;
  if (already) return BrandNeed::already;
  if (kernel_recognises(facts)) return BrandNeed::leave;
  if (fallback_brand == static_cast<int>(elf_osabi_linux)) return BrandNeed::leave;
  return BrandNeed::brand;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
