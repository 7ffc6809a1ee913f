// Builds small ELF files byte by byte for the Linuxulator tests: 32- or 64-bit, little- or
// big-endian, with or without PT_INTERP and a PT_NOTE ABI tag. The machine has no 32-bit
// toolchain (gcc-multilib is not installed), so 32-bit cases are made here; the layout
// follows elf(5): the ELF header, then the program headers, then the segments' bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace knast::test {

struct ElfSpec {
  unsigned bits = 64;
  bool msb = false;
  std::uint16_t type = 2;       // ET_EXEC
  std::uint16_t machine = 62;   // EM_X86_64
  std::uint8_t osabi = 0;
  std::optional<std::string> interpreter;
  std::optional<std::string> note_name;  // "GNU", "FreeBSD", "Go"
  std::uint32_t note_type = 1;           // NT_GNU_ABI_TAG
  std::uint32_t note_os = 0;             // ELF_NOTE_OS_LINUX
  std::uint16_t phentsize = 0;           // 0: the right size
  std::uint16_t extra_load_segments = 0; // PT_LOAD headers to add (pushes phdrs past 1 KiB)
};

class ByteWriter {
 public:
  ByteWriter(std::string& out, bool msb) : out_(out), msb_(msb) {}
  void put(std::uint64_t value, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
      const std::size_t shift = 8 * (msb_ ? size - 1 - i : i);
      out_.push_back(static_cast<char>((value >> shift) & 0xff));
    }
  }
  void word(std::uint64_t value, unsigned bits) { put(value, bits / 8); }

 private:
  std::string& out_;
  bool msb_;
};

inline std::string build_elf(const ElfSpec& spec) {
  const bool b64 = spec.bits == 64;
  const std::size_t ehsize = b64 ? 64 : 52;
  const std::size_t phentsize = b64 ? 56 : 32;
  struct Seg {
    std::uint32_t type;
    std::string bytes;
    std::uint64_t align;
  };
  std::vector<Seg> segs;
  if (spec.interpreter) segs.push_back({3, *spec.interpreter + std::string(1, '\0'), 1});
  if (spec.note_name) {
    std::string note;
    ByteWriter w(note, spec.msb);
    const std::string name = *spec.note_name + std::string(1, '\0');
    w.put(name.size(), 4);
    w.put(16, 4);
    w.put(spec.note_type, 4);
    note += name;
    while (note.size() % 4) note.push_back('\0');
    w.put(spec.note_os, 4);
    w.put(3, 4);
    w.put(2, 4);
    w.put(0, 4);
    segs.push_back({4, note, 4});
  }
  for (std::uint16_t i = 0; i < spec.extra_load_segments; ++i) segs.push_back({1, "", 0x1000});

  std::string out;
  ByteWriter w(out, spec.msb);
  out += "\x7f" "ELF";
  out.push_back(static_cast<char>(b64 ? 2 : 1));
  out.push_back(static_cast<char>(spec.msb ? 2 : 1));
  out.push_back(1);  // EV_CURRENT
  out.push_back(static_cast<char>(spec.osabi));
  out.append(8, '\0');
  w.put(spec.type, 2);
  w.put(spec.machine, 2);
  w.put(1, 4);                 // e_version
  w.word(0x401000, spec.bits);  // e_entry
  w.word(ehsize, spec.bits);    // e_phoff
  w.word(0, spec.bits);         // e_shoff
  w.put(0, 4);                 // e_flags
  w.put(ehsize, 2);
  w.put(spec.phentsize ? spec.phentsize : phentsize, 2);
  w.put(segs.size(), 2);
  w.put(b64 ? 64 : 40, 2);  // e_shentsize
  w.put(0, 2);
  w.put(0, 2);

  std::uint64_t data_at = ehsize + segs.size() * phentsize;
  for (const Seg& s : segs) {
    const std::uint64_t offset = s.bytes.empty() ? 0 : data_at;
    if (b64) {
      w.put(s.type, 4);
      w.put(4, 4);  // p_flags
      w.put(offset, 8);
      w.put(offset, 8);
      w.put(offset, 8);
      w.put(s.bytes.size(), 8);
      w.put(s.bytes.size(), 8);
      w.put(s.align, 8);
    } else {
      w.put(s.type, 4);
      w.put(offset, 4);
      w.put(offset, 4);
      w.put(offset, 4);
      w.put(s.bytes.size(), 4);
      w.put(s.bytes.size(), 4);
      w.put(4, 4);
      w.put(s.align, 4);
    }
    data_at += s.bytes.size();
  }
  for (const Seg& s : segs) out += s.bytes;
  return out;
}

}  // namespace knast::test
