// Branding decisions on crafted ELF files: what the FreeBSD image activator would
// recognise by itself, and what each mode brands.
#include "linuxulator/elf_inspect.hpp"
#include "linuxulator_elf_builder.hpp"

#include <knast/error.hpp>
#include <knast/linuxulator.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

namespace knast {
namespace {

using detail::BrandNeed;
using detail::ElfFacts;
using test::build_elf;
using test::ElfSpec;

ElfFacts inspect(const std::string& bytes) {
  return detail::inspect_elf([&](void* buffer, std::size_t size, std::uint64_t offset) -> std::size_t {
    if (offset >= bytes.size()) return 0;
    const std::size_t n = std::min<std::size_t>(size, bytes.size() - static_cast<std::size_t>(offset));
    std::memcpy(buffer, bytes.data() + offset, n);
    return n;
  });
}

BrandNeed need(const ElfSpec& spec, BrandMode mode, bool executable = true, std::optional<int> fallback = -1) {
  return detail::brand_need(inspect(build_elf(spec)), mode, executable, fallback);
}

ElfSpec static_exec() { return ElfSpec{}; }
ElfSpec glibc_dynamic() {
  ElfSpec s;
  s.type = 3;
  s.interpreter = "/lib64/ld-linux-x86-64.so.2";
  s.note_name = "GNU";
  return s;
}

TEST(LinuxulatorElf, ReadsA64BitStaticExecutable) {
  const ElfFacts f = inspect(build_elf(static_exec()));
  ASSERT_EQ(f.kind, ElfFacts::Kind::elf) << f.problem;
  EXPECT_EQ(f.bits, 64u);
  EXPECT_EQ(f.type, 2);
  EXPECT_EQ(f.machine, 62);
  EXPECT_FALSE(f.interpreter);
  EXPECT_FALSE(f.linux_note);
}

TEST(LinuxulatorElf, ReadsInterpreterAndNote) {
  const ElfFacts f = inspect(build_elf(glibc_dynamic()));
  ASSERT_EQ(f.kind, ElfFacts::Kind::elf) << f.problem;
  EXPECT_EQ(f.interpreter.value_or(""), "/lib64/ld-linux-x86-64.so.2");
  EXPECT_TRUE(f.linux_note);
  EXPECT_FALSE(f.freebsd_note);
}

TEST(LinuxulatorElf, Reads32BitAndBigEndianHeaders) {
  ElfSpec s = glibc_dynamic();
  s.bits = 32;
  s.machine = 3;  // EM_386
  s.interpreter = "/lib/ld-linux.so.2";
  ElfFacts f = inspect(build_elf(s));
  ASSERT_EQ(f.kind, ElfFacts::Kind::elf) << f.problem;
  EXPECT_EQ(f.bits, 32u);
  EXPECT_EQ(f.machine, 3);
  EXPECT_EQ(f.interpreter.value_or(""), "/lib/ld-linux.so.2");
  EXPECT_TRUE(f.linux_note);

  s.msb = true;
  s.machine = 8;  // EM_MIPS
  f = inspect(build_elf(s));
  ASSERT_EQ(f.kind, ElfFacts::Kind::elf) << f.problem;
  EXPECT_EQ(f.machine, 8);
  EXPECT_TRUE(f.linux_note);
}

TEST(LinuxulatorElf, ReadsProgramHeadersBeyondTheFirstRead) {
  ElfSpec s = glibc_dynamic();
  s.extra_load_segments = 30;  // 64 + 32 * 56 bytes of headers > 1 KiB
  const ElfFacts f = inspect(build_elf(s));
  ASSERT_EQ(f.kind, ElfFacts::Kind::elf) << f.problem;
  EXPECT_TRUE(f.linux_note);
  EXPECT_EQ(f.interpreter.value_or(""), "/lib64/ld-linux-x86-64.so.2");
}

TEST(LinuxulatorElf, NotElfAndMalformed) {
  EXPECT_EQ(inspect("").kind, ElfFacts::Kind::not_elf);
  EXPECT_EQ(inspect("#!/bin/sh\necho hi\n").kind, ElfFacts::Kind::not_elf);
  EXPECT_EQ(inspect("\x7f" "EL").kind, ElfFacts::Kind::not_elf);

  const std::string good = build_elf(static_exec());
  ElfFacts f = inspect(good.substr(0, 40));
  EXPECT_EQ(f.kind, ElfFacts::Kind::malformed);
  EXPECT_EQ(f.problem, "truncated ELF header");

  ElfSpec with_note = glibc_dynamic();
  const std::string full = build_elf(with_note);
  f = inspect(full.substr(0, 64 + 20));  // headers cut in the middle
  EXPECT_EQ(f.kind, ElfFacts::Kind::malformed);
  EXPECT_EQ(f.problem, "program headers beyond the end of the file");

  std::string bad_class = good;
  bad_class[4] = 7;
  EXPECT_EQ(inspect(bad_class).problem, "unknown ELF class 7");

  ElfSpec bad_size = static_exec();
  bad_size.note_name = "GNU";
  bad_size.phentsize = 40;
  EXPECT_EQ(inspect(build_elf(bad_size)).problem, "program header size 40 (expected 56)");
}

TEST(LinuxulatorElf, AutoBrandsOnlyWhatTheKernelCannotRecognise) {
  EXPECT_EQ(need(static_exec(), BrandMode::automatic), BrandNeed::brand);
  EXPECT_EQ(need(glibc_dynamic(), BrandMode::automatic), BrandNeed::leave);

  ElfSpec musl;  // no note; the interpreter is one the amd64 Linux brand registers
  musl.type = 3;
  musl.interpreter = "/lib/ld-musl-x86_64.so.1";
  EXPECT_EQ(need(musl, BrandMode::automatic), BrandNeed::leave);

  ElfSpec odd_interp = musl;  // an interpreter no brand registers, and no note
  odd_interp.interpreter = "/nix/store/abc-glibc/lib/ld-linux-x86-64.so.2";
  EXPECT_EQ(need(odd_interp, BrandMode::automatic), BrandNeed::brand);

  ElfSpec go = static_exec();  // Go binaries carry a Go build-id note, not an ABI tag
  go.note_name = "Go";
  go.note_type = 4;
  EXPECT_EQ(need(go, BrandMode::automatic), BrandNeed::brand);

  ElfSpec static_with_tag = static_exec();  // glibc-static binaries carry the GNU ABI tag
  static_with_tag.note_name = "GNU";
  EXPECT_EQ(need(static_with_tag, BrandMode::automatic), BrandNeed::leave);

  ElfSpec hurd_tag = static_with_tag;  // a GNU ABI tag for another OS is not Linux's
  hurd_tag.note_os = 1;
  EXPECT_EQ(need(hurd_tag, BrandMode::automatic), BrandNeed::brand);

  ElfSpec freebsd = static_exec();
  freebsd.note_name = "FreeBSD";
  EXPECT_EQ(need(freebsd, BrandMode::automatic), BrandNeed::leave);
}

TEST(LinuxulatorElf, AutoTellsStaticPieFromSharedLibraries) {
  ElfSpec pie = static_exec();
  pie.type = 3;  // ET_DYN with no interpreter: a static PIE or a shared library
  EXPECT_EQ(need(pie, BrandMode::automatic, true), BrandNeed::brand);
  EXPECT_EQ(need(pie, BrandMode::automatic, false), BrandNeed::leave);

  ElfSpec object = static_exec();
  object.type = 1;  // ET_REL
  EXPECT_EQ(need(object, BrandMode::automatic), BrandNeed::leave);
  EXPECT_EQ(need(object, BrandMode::all), BrandNeed::brand);
}

TEST(LinuxulatorElf, AutoHonoursTheKernelFallbackBrand) {
  EXPECT_EQ(need(static_exec(), BrandMode::automatic, true, 3), BrandNeed::leave);
  EXPECT_EQ(need(static_exec(), BrandMode::automatic, true, -1), BrandNeed::brand);
  EXPECT_EQ(need(static_exec(), BrandMode::automatic, true, std::nullopt), BrandNeed::brand);
  EXPECT_EQ(need(static_exec(), BrandMode::all, true, 3), BrandNeed::brand);
}

TEST(LinuxulatorElf, AllBrandsEveryElfAndNoneNothing) {
  EXPECT_EQ(need(glibc_dynamic(), BrandMode::all), BrandNeed::brand);
  EXPECT_EQ(need(static_exec(), BrandMode::none), BrandNeed::leave);
  EXPECT_EQ(detail::brand_need(inspect("not elf"), BrandMode::all, true, -1), BrandNeed::leave);
}

TEST(LinuxulatorElf, AlreadyBrandedIsCounted) {
  ElfSpec branded = static_exec();
  branded.osabi = 3;
  EXPECT_EQ(need(branded, BrandMode::automatic), BrandNeed::already);
  EXPECT_EQ(need(branded, BrandMode::all), BrandNeed::already);
  ElfSpec branded32 = branded;
  branded32.bits = 32;
  EXPECT_EQ(need(branded32, BrandMode::automatic), BrandNeed::already);
}

TEST(LinuxulatorElf, ThirtyTwoBitStaticNeedsTheBrand) {
  ElfSpec s = static_exec();
  s.bits = 32;
  s.machine = 3;
  EXPECT_EQ(need(s, BrandMode::automatic), BrandNeed::brand);
}

// What the ELF index records of a file from its first bytes: the header's facts only
// when those bytes settle them.
detail::IndexedContent content_of_head(const std::string& file, std::size_t head_size = detail::elf_first_read) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(file.data());
  return detail::index_content({bytes, std::min(head_size, file.size())}, file.size());
}

TEST(LinuxulatorElf, TheIndexKeepsTheHeaderOfAWellFormedElfFile) {
  const auto exec = content_of_head(build_elf(static_exec()));
  EXPECT_TRUE(exec.elf);
  EXPECT_EQ(exec.header, (detail::ElfHeaderFacts{64, 0, 2}));

  ElfSpec library32 = glibc_dynamic();
  library32.bits = 32;
  library32.msb = true;
  library32.osabi = 3;
  EXPECT_EQ(content_of_head(build_elf(library32)).header, (detail::ElfHeaderFacts{32, 3, 3}));

  const auto text = content_of_head("#!/bin/sh\n");
  EXPECT_FALSE(text.elf);
  EXPECT_EQ(text.header, std::nullopt);
}

TEST(LinuxulatorElf, TheIndexLeavesTheHeaderUnknownWhereTheHeadCannotTellOrTheFileIsMalformed) {
  ElfSpec many = glibc_dynamic();
  many.extra_load_segments = 30;  // program headers past the first 1 KiB
  const std::string file = build_elf(many);
  ASSERT_GT(file.size(), detail::elf_first_read);
  const auto from_head = content_of_head(file);
  EXPECT_TRUE(from_head.elf);
  EXPECT_EQ(from_head.header, std::nullopt) << "the program headers were not in the head";
  EXPECT_EQ(content_of_head(file, file.size()).header, (detail::ElfHeaderFacts{64, 0, 3})) << "the whole file seen";

  const auto truncated = content_of_head(build_elf(static_exec()).substr(0, 40));
  EXPECT_TRUE(truncated.elf);
  EXPECT_EQ(truncated.header, std::nullopt) << "malformed: branding reads it and reports why";
}

// Mode `all` decides from the indexed header as from the file.
TEST(LinuxulatorElf, FactsOfAnIndexedHeaderDecideAsTheFileDoes) {
  for (const std::uint8_t osabi : {std::uint8_t{0}, std::uint8_t{3}, std::uint8_t{9}}) {
    ElfSpec spec = glibc_dynamic();
    spec.osabi = osabi;
    const std::string file = build_elf(spec);
    const auto header = content_of_head(file).header;
    ASSERT_TRUE(header);
    const ElfFacts facts = detail::facts_of(*header);
    EXPECT_EQ(facts.kind, ElfFacts::Kind::elf);
    EXPECT_EQ(facts.bits, 64u);
    EXPECT_EQ(detail::brand_need(facts, BrandMode::all, true, -1),
              detail::brand_need(inspect(file), BrandMode::all, true, -1))
        << int{osabi};
  }
}

TEST(LinuxulatorElf, ModeNames) {
  EXPECT_EQ(parse_brand_mode("auto"), BrandMode::automatic);
  EXPECT_EQ(parse_brand_mode("all"), BrandMode::all);
  EXPECT_EQ(parse_brand_mode("none"), BrandMode::none);
  EXPECT_EQ(to_string(BrandMode::automatic), "auto");
  try {
    parse_brand_mode("Linux");
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
    EXPECT_STREQ(e.what(), "unknown brand mode \"Linux\": use auto, all or none");
  }
}

TEST(LinuxulatorElf, DefaultRecordSitsBesideTheTree) {
  EXPECT_EQ(default_brand_record("/var/db/knast/rootfs/sha256/ab/tree"),
            "/var/db/knast/rootfs/sha256/ab/tree.knast-brand.json");
  EXPECT_EQ(default_brand_record("/srv/root/"), "/srv/root.knast-brand.json");
}

}  // namespace
}  // namespace knast
