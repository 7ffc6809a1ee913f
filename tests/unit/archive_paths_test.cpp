// Entry names, links and compression magic: the pure rules archive loading stands on.
#include "image_store/archive_paths.hpp"

#include <knast/error.hpp>
#include <knast/oci.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using knast::Error;
using knast::ErrorCode;
using knast::detail::Compression;
using knast::detail::detect_compression;
using knast::detail::normalize_archive_path;
using knast::detail::resolve_link_target;
using testing::HasSubstr;

std::string normalized(std::string_view name) { return normalize_archive_path(name, "entry"); }

Error refusal(std::string_view name) {
  try {
    (void)normalized(name);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "accepted " << name;
  return Error(ErrorCode::ok, "");
}

TEST(ArchivePath, NormalizesHarmlessSpellings) {
  EXPECT_EQ(normalized("manifest.json"), "manifest.json");
  EXPECT_EQ(normalized("./manifest.json"), "manifest.json");
  EXPECT_EQ(normalized("blobs//sha256/./abc"), "blobs/sha256/abc");
  EXPECT_EQ(normalized("blobs/sha256/"), "blobs/sha256");
  EXPECT_EQ(normalized("."), "");
  EXPECT_EQ(normalized("./"), "");
}

TEST(ArchivePath, RefusesAbsoluteNames) {
  const auto e = refusal("/etc/passwd");
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_STREQ(e.what(), R"(entry "/etc/passwd": is absolute; archive entries must be relative)");
}

TEST(ArchivePath, RefusesDotDotAnywhere) {
  for (const auto* name : {"../x", "a/../../x", "a/../b", "a/.."}) {
    const auto e = refusal(name);
    EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
    EXPECT_THAT(e.what(), HasSubstr("'..'")) << name;
    EXPECT_THAT(e.what(), HasSubstr(name));
  }
}

TEST(ArchivePath, RefusesEmptyNames) { EXPECT_THAT(refusal("").what(), HasSubstr("is empty")); }

TEST(ArchiveLink, ResolvesRelativeToTheLinksFolder) {
  EXPECT_EQ(resolve_link_target("abc/layer.tar", "../def/layer.tar"), "def/layer.tar");
  EXPECT_EQ(resolve_link_target("abc/layer.tar", "../0123.tar"), "0123.tar");
  EXPECT_EQ(resolve_link_target("abc/layer.tar", "other.tar"), "abc/other.tar");
  EXPECT_EQ(resolve_link_target("top.tar", "./a//b"), "a/b");
}

TEST(ArchiveLink, RefusesTargetsOutsideTheArchive) {
  try {
    (void)resolve_link_target("abc/layer.tar", "../../etc/passwd");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
    EXPECT_THAT(e.what(), HasSubstr("climbs out of the archive"));
  }
  EXPECT_THROW((void)resolve_link_target("abc/layer.tar", "/etc/passwd"), Error);
  EXPECT_THROW((void)resolve_link_target("abc/layer.tar", ""), Error);
}

std::vector<std::byte> bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

TEST(ArchiveCompression, DetectsMagicBytes) {
  EXPECT_EQ(detect_compression(bytes({0x1f, 0x8b, 0x08, 0x00})), Compression::gzip);
  EXPECT_EQ(detect_compression(bytes({0x28, 0xb5, 0x2f, 0xfd, 0x04})), Compression::zstd);
  EXPECT_EQ(detect_compression(bytes({'B', 'Z', 'h', '9'})), Compression::bzip2);
  EXPECT_EQ(detect_compression(bytes({0xfd, '7', 'z', 'X', 'Z', 0x00})), Compression::xz);
  EXPECT_EQ(detect_compression(bytes({'e', 't', 'c', '/', 0, 0})), Compression::none);
}

TEST(ArchiveCompression, ShortOrPartialMagicIsUncompressed) {
  EXPECT_EQ(detect_compression({}), Compression::none);
  EXPECT_EQ(detect_compression(bytes({0x1f})), Compression::none);
  EXPECT_EQ(detect_compression(bytes({0x28, 0xb5, 0x2f})), Compression::none);
  EXPECT_EQ(detect_compression(bytes({0xfd, '7', 'z', 'X', 'Z', 0x01})), Compression::none);
}

TEST(ArchiveCompression, MapsToOciLayerMediaTypes) {
  namespace mt = knast::media_type;
  using knast::detail::layer_compression;
  using knast::detail::oci_layer_media_type;
  EXPECT_EQ(oci_layer_media_type(Compression::none), mt::oci_layer_tar);
  EXPECT_EQ(oci_layer_media_type(Compression::gzip), mt::oci_layer_gzip);
  EXPECT_EQ(oci_layer_media_type(Compression::zstd), mt::oci_layer_zstd);
  EXPECT_EQ(oci_layer_media_type(Compression::xz), std::nullopt);
  EXPECT_EQ(layer_compression(mt::oci_layer_tar), Compression::none);
  EXPECT_EQ(layer_compression(mt::oci_layer_gzip), Compression::gzip);
  EXPECT_EQ(layer_compression(mt::docker_layer_gzip), Compression::gzip);
  EXPECT_EQ(layer_compression(mt::oci_layer_nondist_zstd), Compression::zstd);
  EXPECT_EQ(layer_compression(mt::oci_config), std::nullopt);
}

}  // namespace
