// The `docker run` option syntaxes: sizes, --cpus, -v and --tmpfs, with their errors.
#include "oci_test_support.hpp"

#include <knast/run_spec.hpp>

#include <string>
#include <vector>

namespace {

using knast::ErrorCode;
using knast::RunMount;
using oci_test::error_from;
using Strings = std::vector<std::string>;

TEST(RunSpecOptions, ByteSizesParseLikeDocker) {
  const std::vector<std::pair<const char*, std::int64_t>> good = {
      {"4096", 4096}, {"512m", 536870912}, {"512M", 536870912}, {"1g", 1073741824}, {"1.5GiB", 1610612736},
      {"10k", 10240}, {"10 kb", 10240},    {"1KB", 1024},       {"7b", 7},          {"2t", 2199023255552},
      {"0.5k", 512},  {"64mb", 67108864},
  };
  for (const auto& [text, bytes] : good) EXPECT_EQ(knast::parse_byte_size(text), bytes) << text;
  for (const char* bad :
       {"", "m", "-1", "1x", "1.5.5", "1e3", "1.", ".5", "1  m", "12mbb", "99999999999p", "18446744073709551616"}) {
    const auto e = error_from([&] { (void)knast::parse_byte_size(bad); });
    EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << bad;
    EXPECT_THAT(e.what(), testing::StartsWith("size \"")) << bad;
  }
}

TEST(RunSpecOptions, CpusAreBillionthsOfACpu) {
  EXPECT_EQ(knast::parse_cpus("1.5"), 1'500'000'000);
  EXPECT_EQ(knast::parse_cpus("2"), 2'000'000'000);
  EXPECT_EQ(knast::parse_cpus("0.000000001"), 1);
  for (const char* bad : {"0", "0.0", "", "abc", "-1", "1.0000000001", "1,5"})
    EXPECT_EQ(error_from([&] { (void)knast::parse_cpus(bad); }).kind(), ErrorCode::invalid_argument) << bad;
}

TEST(RunSpecOptions, VolumesBecomeBindMountsForLinuxAndNullfsForFreeBsd) {
  EXPECT_EQ(knast::parse_volume("/srv/data:/data", "linux"), (RunMount{"/data", "bind", "/srv/data", {"rbind", "rw"}}));
  EXPECT_EQ(knast::parse_volume("/srv/data/:/data/:ro", "linux"),
            (RunMount{"/data", "bind", "/srv/data", {"rbind", "ro"}}));
  EXPECT_EQ(knast::parse_volume("/etc/hosts:/etc/hosts:rw", "linux"),
            (RunMount{"/etc/hosts", "bind", "/etc/hosts", {"rbind", "rw"}}));
  EXPECT_EQ(knast::parse_volume("/srv/data:/data:ro", "freebsd"), (RunMount{"/data", "nullfs", "/srv/data", {"ro"}}));
}

TEST(RunSpecOptions, BadVolumesAreRefusedQuotingThem) {
  const std::vector<std::pair<const char*, const char*>> bad = {
      {"/a", "expected SRC:DST"},  {"/a:b", "absolute"},
      {"/a:/", "cannot be \"/\""}, {"/a:/b:rx", "unknown mode \"rx\""},
      {"/a:/b:ro:x", "expected"},  {":/b", "source is empty"},
      {"/a:", "absolute"},         {"/a:/b/..", "cannot be \"/\""},
  };
  for (const auto& [text, why] : bad) {
    const auto e = error_from([&] { (void)knast::parse_volume(text, "linux"); });
    EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << text;
    EXPECT_THAT(e.what(), testing::HasSubstr(std::string("volume \"") + text + "\"")) << text;
    EXPECT_THAT(e.what(), testing::HasSubstr(why)) << text;
  }
  const auto named = error_from([] { (void)knast::parse_volume("data:/data", "linux"); });
  EXPECT_EQ(named.kind(), ErrorCode::unsupported);
  EXPECT_THAT(named.what(), testing::HasSubstr("named volumes are not supported"));
}

TEST(RunSpecOptions, TmpfsMergesOptionsOverDockersDefaults) {
  EXPECT_EQ(knast::parse_tmpfs("/run"), (RunMount{"/run", "tmpfs", "tmpfs", {"noexec", "nosuid", "nodev"}}));
  EXPECT_EQ(knast::parse_tmpfs("/run:size=64m,mode=1777").options,
            (Strings{"noexec", "nosuid", "nodev", "size=67108864", "mode=1777"}));
  EXPECT_EQ(knast::parse_tmpfs("/run:exec").options, (Strings{"nosuid", "nodev", "exec"}));
  EXPECT_EQ(knast::parse_tmpfs("/run:size=1m,size=2m").options, (Strings{"noexec", "nosuid", "nodev", "size=2097152"}));
  EXPECT_EQ(knast::parse_tmpfs("/run:ro,uid=1000").options, (Strings{"noexec", "nosuid", "nodev", "ro", "uid=1000"}));
  const std::vector<std::pair<const char*, const char*>> bad = {
      {"run", "absolute"},           {"/", "cannot be \"/\""},         {"/run:mode=999", "octal"},
      {"/run:size=x", "tmpfs \"/run:size=x\": size \"x\""}, {"/run:bogus", "unknown option"}, {"/run:foo=1", "unknown option"},
      {"/run:,", "empty option"},    {"/run:uid=", "unknown option"},
  };
  for (const auto& [text, why] : bad) {
    const auto e = error_from([&] { (void)knast::parse_tmpfs(text); });
    EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << text;
    EXPECT_THAT(e.what(), testing::HasSubstr(why)) << text;
  }
}

}  // namespace
