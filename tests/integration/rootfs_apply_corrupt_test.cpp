// Corrupt layers and the caps: damaged tar headers, compression checksums, truncation,
// sizes that lie, owner ids that do not fit, and decompression bombs are refused with a
// clear error.
#include "rootfs_test_support.hpp"

#include <gmock/gmock.h>

#include <cstring>

namespace {

using namespace rootfs_test;
using testing::HasSubstr;

class CorruptTest : public ::testing::Test {
 protected:
  CorruptTest() { fs::create_directory(root()); }
  fs::path root() const { return scratch_ / "root"; }
  knast::Error refusal(std::string_view bytes, const ApplyOptions& options = {}) {
    return oci_test::error_from([&] { apply_bytes(root(), scratch_, bytes, options); });
  }
  static std::vector<Entry> some_files() {
    return {dir("etc"), file("etc/a", std::string(3000, 'a')), file("etc/b", std::string(5000, 'b')), file("etc/c", "c")};
  }
  ScratchDir scratch_;
};

TEST_F(CorruptTest, BadTarHeaderChecksum) {
  auto bytes = layer_bytes(some_files());
  // The third header (etc/b) starts after etc/'s header and etc/a's header and data.
  const std::size_t header = 512 + 512 + 3072;
  ASSERT_EQ(bytes.substr(header, 5), "etc/b");
  bytes[header + 1] = 'X';
  const auto e = refusal(bytes);
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << e.what();
  EXPECT_THAT(e.what(), HasSubstr("tar: read an entry header"));
}

TEST_F(CorruptTest, BadGzipCrc) {
  auto bytes = layer_bytes(some_files(), Filter::gzip);
  bytes[bytes.size() - 8] = static_cast<char>(bytes[bytes.size() - 8] ^ 0x55);  // CRC32 of the trailer
  const auto e = refusal(bytes);
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << e.what();
  EXPECT_THAT(e.what(), HasSubstr("gzip"));
}

TEST_F(CorruptTest, ConcatenatedGzipMembersAreOneStream) {
  // pigz and `cat a.gz b.gz` write several members; together they are one tar.
  const auto tar = layer_bytes(some_files());
  const auto half = tar.size() / 2;
  const auto bytes = archive_test::compressed(tar.substr(0, half), Filter::gzip) +
                     archive_test::compressed(tar.substr(half), Filter::gzip);
  EXPECT_EQ(apply_bytes(root(), scratch_, bytes).entries, 4u);
  EXPECT_EQ(store_test::slurp(root() / "etc/b"), std::string(5000, 'b'));
}

TEST_F(CorruptTest, DataAfterTheGzipStream) {
  const auto e = refusal(layer_bytes(some_files(), Filter::gzip) + "trailing garbage");
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << e.what();
  EXPECT_THAT(e.what(), HasSubstr("gzip: data after the end"));
}

TEST_F(CorruptTest, BadGzipData) {
  auto bytes = layer_bytes(some_files(), Filter::gzip);
  for (std::size_t i = 40; i < 60; ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0xff);
  EXPECT_EQ(refusal(bytes).kind(), ErrorCode::invalid_argument);
}

TEST_F(CorruptTest, BadZstdChecksum) {
  if (!archive_test::have_tool("zstd")) GTEST_SKIP() << "no zstd";
  // The zstd tool writes a content checksum (the last 4 bytes of the frame).
  const auto tar = write_layer(scratch_ / "plain.tar", layer_bytes(some_files()));
  ASSERT_EQ(store_test::run("zstd -q -f -o " + (scratch_ / "layer.zst").string() + " " + tar.string()), 0);
  auto bytes = store_test::slurp(scratch_ / "layer.zst");
  EXPECT_NO_THROW(apply_bytes(root(), scratch_, bytes));  // intact: fine
  bytes.back() = static_cast<char>(bytes.back() ^ 0x01);
  ScratchDir other;
  const auto e = oci_test::error_from([&] { apply_bytes(other.path(), scratch_, bytes); });
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << e.what();
  EXPECT_THAT(e.what(), HasSubstr("zstd"));
}

TEST_F(CorruptTest, TruncatedStreams) {
  const auto plain = layer_bytes(some_files());
  for (const auto filter : {Filter::none, Filter::gzip, Filter::zstd}) {
    const auto whole = layer_bytes(some_files(), filter);
    // A plain tar cut after its last entry only lacks end-of-archive zero blocks: nothing
    // is lost, and it is accepted (as docker and GNU tar accept it).
    const std::vector<std::size_t> cuts = filter == Filter::none
                                              ? std::vector<std::size_t>{whole.size() / 3, whole.size() / 2}
                                              : std::vector<std::size_t>{whole.size() / 3, whole.size() / 2, whole.size() - 3};
    for (const auto cut : cuts) {
      ScratchDir other;
      const auto e = oci_test::error_from([&] { apply_bytes(other.path(), scratch_, whole.substr(0, cut)); });
      EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << static_cast<int>(filter) << " cut at " << cut << ": " << e.what();
    }
  }
  // Cut in the middle of a file's data.
  EXPECT_THAT(refusal(plain.substr(0, 512 + 512 + 1000)).what(), HasSubstr("entry \"etc/a\""));
}

/// @p tar with the size field of the ustar header at @p header rewritten to @p size (and
/// its checksum made right again): a header that lies about its data.
std::string with_declared_size(std::string tar, std::size_t header, std::uint64_t size) {
  const auto octal = fmt::format("{:011o}", size);
  std::memcpy(&tar[header + 124], octal.c_str(), 12);
  std::memset(&tar[header + 148], ' ', 8);
  unsigned sum = 0;
  for (std::size_t i = 0; i < 512; ++i) sum += static_cast<unsigned char>(tar[header + i]);
  const auto checksum = fmt::format("{:06o}", sum);
  std::memcpy(&tar[header + 148], checksum.c_str(), 7);
  return tar;
}

TEST_F(CorruptTest, DeclaredSizeLargerThanTheData) {
  const auto honest = layer_bytes({file("liar", std::string(2000, 'z')), file("after", "x")});
  EXPECT_NO_THROW(apply_bytes(root(), scratch_, with_declared_size(honest, 0, 2000)));  // the helper is right
  ScratchDir other;
  const auto e = oci_test::error_from([&] { apply_bytes(other.path(), scratch_, with_declared_size(honest, 0, 100000)); });
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << e.what();
  EXPECT_THAT(e.what(), HasSubstr("entry \"liar\""));
}

TEST_F(CorruptTest, DeclaredSizeSmallerThanTheData) {
  // The rest of the data lands where the next header should be.
  const auto honest = layer_bytes({file("liar", std::string(2000, 'z')), file("after", "x")});
  const auto e = refusal(with_declared_size(honest, 0, 10));
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << e.what();
  EXPECT_THAT(e.what(), HasSubstr("read an entry header"));
}

TEST_F(CorruptTest, OwnerIdsThatDoNotFitAreRefusedNeverTruncated) {
  for (const std::int64_t id : {std::int64_t{4294967296}, std::int64_t{4294967295}, std::int64_t{1} << 40}) {
    ScratchDir other;
    const auto uid_error =
        oci_test::error_from([&] { apply_bytes(other.path(), scratch_, layer_bytes({file("f", "x").owned(id, 0)})); });
    EXPECT_EQ(uid_error.kind(), ErrorCode::invalid_argument) << uid_error.what();
    EXPECT_THAT(uid_error.what(), HasSubstr(fmt::format("owner uid {} is not a valid uid", id)));
    EXPECT_FALSE(fs::exists(other / "f"));  // refused before anything was made
    const auto gid_error =
        oci_test::error_from([&] { apply_bytes(other.path(), scratch_, layer_bytes({dir("d").owned(0, id)})); });
    EXPECT_THAT(gid_error.what(), HasSubstr("gid"));
  }
}

TEST_F(CorruptTest, NotATarAtAll) {
  const auto e = refusal(std::string(4096, 'x'));
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << e.what();
  EXPECT_EQ(refusal(archive_test::compressed(std::string(4096, 'x'), Filter::gzip)).kind(), ErrorCode::invalid_argument);
}

TEST_F(CorruptTest, EmptyLayersAreEmpty) {
  EXPECT_EQ(apply_bytes(root(), scratch_, "").entries, 0u);
  EXPECT_EQ(apply_bytes(root(), scratch_, layer_bytes({}, Filter::gzip)).entries, 0u);
  EXPECT_TRUE(fs::is_empty(root()));
}

TEST_F(CorruptTest, MissingLayerOrRoot) {
  EXPECT_EQ(oci_test::error_from([&] { knast::apply_layer(root(), scratch_ / "nope.tar"); }).kind(), ErrorCode::not_found);
  const auto layer = write_layer(scratch_ / "l.tar", layer_bytes({file("a", "b")}));
  EXPECT_EQ(oci_test::error_from([&] { knast::apply_layer(scratch_ / "no-root", layer); }).kind(), ErrorCode::not_found);
}

// ---- Caps --------------------------------------------------------------------------------

TEST_F(CorruptTest, EntryCap) {
  std::vector<Entry> many;
  for (int i = 0; i < 50; ++i) many.push_back(file("f" + std::to_string(i), "x"));
  ApplyOptions options;
  options.max_entries = 20;
  const auto e = refusal(layer_bytes(many), options);
  EXPECT_EQ(e.kind(), ErrorCode::limit_exceeded) << e.what();
  EXPECT_THAT(e.what(), HasSubstr("more than 20 entries"));
  options.max_entries = 50;
  ScratchDir other;
  EXPECT_EQ(apply_bytes(other.path(), scratch_, layer_bytes(many), options).entries, 50u);
}

TEST_F(CorruptTest, DecompressionBombStopsAtTheByteCap) {
  // 64 MiB of zeros compress to a few dozen KiB.
  Entry bomb = file("bomb", std::string(64u << 20, '\0'));
  const auto bytes = layer_bytes({bomb}, Filter::gzip);
  ASSERT_LT(bytes.size(), 1u << 20);
  ApplyOptions options;
  options.max_bytes = 8u << 20;
  const auto e = refusal(bytes, options);
  EXPECT_EQ(e.kind(), ErrorCode::limit_exceeded) << e.what();
  EXPECT_THAT(e.what(), HasSubstr("more than 8388608 bytes of file content"));
  EXPECT_LE(fs::file_size(root() / "bomb"), options.max_bytes);  // stopped before the cap
}

TEST_F(CorruptTest, ByteCapCountsAllFiles) {
  ApplyOptions options;
  options.max_bytes = 7000;
  EXPECT_EQ(refusal(layer_bytes(some_files()), options).kind(), ErrorCode::limit_exceeded);  // 8001 bytes
  options.max_bytes = 8001;
  ScratchDir other;
  EXPECT_EQ(apply_bytes(other.path(), scratch_, layer_bytes(some_files()), options).bytes, 8001u);
}

}  // namespace
