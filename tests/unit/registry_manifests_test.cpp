// Checking a manifest answer (digests against the reference and Docker-Content-Digest,
// manifest or index, media type) and choosing the manifests of an index to pull, on
// documents shaped like Docker Hub's (tests/testdata/oci).
#include "registry/manifests.hpp"

#include <knast/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace {

using knast::Digest;
using knast::Error;
using knast::ErrorCode;
using knast::Index;
using knast::Platform;
using knast::Reference;
using namespace knast::registry_detail;
namespace media_type = knast::media_type;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string testdata(const std::string& name) {
  std::ifstream in(std::string(KNAST_TESTDATA_DIR) + "/oci/" + name, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  EXPECT_FALSE(out.str().empty()) << name;
  return out.str();
}

template <typename F>
std::pair<ErrorCode, std::string> thrown(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return {e.kind(), e.what()};
  }
  return {ErrorCode::ok, ""};
}

const std::string manifest_json = testdata("busybox-manifest.json");
const std::string index_json = testdata("alpine-index.json");

TEST(CheckDocument, ManifestByContentType) {
  const auto d = check_document(manifest_json, std::string(media_type::docker_manifest), std::nullopt, std::nullopt, "m");
  ASSERT_TRUE(d.manifest);
  EXPECT_FALSE(d.index);
  EXPECT_EQ(d.resolved.descriptor.media_type, media_type::docker_manifest);
  EXPECT_EQ(d.resolved.descriptor.digest, Digest::of(manifest_json));
  EXPECT_EQ(d.resolved.descriptor.size, static_cast<std::int64_t>(manifest_json.size()));
  EXPECT_EQ(d.resolved.bytes, manifest_json);
}

TEST(CheckDocument, IndexByContentTypeWithParameters) {
  const auto d = check_document(index_json, std::string(media_type::oci_index) + "; charset=utf-8", std::nullopt,
                                std::nullopt, "i");
  ASSERT_TRUE(d.index);
  EXPECT_EQ(d.resolved.descriptor.media_type, media_type::oci_index);
}

TEST(CheckDocument, GenericContentTypeIsSniffed) {
  EXPECT_TRUE(check_document(index_json, std::string("application/json"), std::nullopt, std::nullopt, "i").index);
  EXPECT_TRUE(check_document(manifest_json, std::nullopt, std::nullopt, std::nullopt, "m").manifest);
}

TEST(CheckDocument, UndeclaredMediaTypeTakesTheContentType) {
  // An OCI manifest may leave mediaType out; the registry's Content-Type names it then.
  const std::string bare = R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json",)"
                           R"("size":2,"digest":")" + Digest::of(std::string_view("{}")).string() + R"("},"layers":[]})";
  EXPECT_EQ(check_document(bare, std::string(media_type::docker_manifest), std::nullopt, std::nullopt, "m")
                .resolved.descriptor.media_type,
            media_type::docker_manifest);
  EXPECT_EQ(check_document(bare, std::string("text/plain"), std::nullopt, std::nullopt, "m").resolved.descriptor.media_type,
            media_type::oci_manifest);
}

TEST(CheckDocument, DigestMustMatchTheReference) {
  const Digest right = Digest::of(manifest_json);
  EXPECT_EQ(check_document(manifest_json, std::nullopt, std::nullopt, right, "m").resolved.descriptor.digest, right);
  const Digest wrong = Digest::of(std::string_view("other"));
  const auto [code, message] = [&] { return thrown([&] { check_document(manifest_json, std::nullopt, std::nullopt, wrong, "manifest x"); }); }();
  EXPECT_EQ(code, ErrorCode::integrity);
  EXPECT_THAT(message, StartsWith("manifest x: received content with digest " + right.string() + ", not " + wrong.string()));
}

TEST(CheckDocument, DigestMustMatchDockerContentDigest) {
  const Digest right = Digest::of(manifest_json);
  EXPECT_NO_THROW(check_document(manifest_json, std::nullopt, right.string(), std::nullopt, "m"));
  EXPECT_NO_THROW(check_document(manifest_json, std::nullopt, " " + right.string() + " ", right, "m"));
  const auto [code, message] = thrown([&] {
    check_document(manifest_json, std::nullopt, Digest::of(std::string_view("x")).string(), std::nullopt, "m");
  });
  EXPECT_EQ(code, ErrorCode::integrity);
  EXPECT_THAT(message, HasSubstr("Docker-Content-Digest says"));
  EXPECT_EQ(thrown([&] { check_document(manifest_json, std::nullopt, std::string("sha256:nothex"), std::nullopt, "m"); }).first,
            ErrorCode::integrity);
  // The header may use another algorithm than the reference; each is checked in its own.
  const Digest sha512 = Digest::of(manifest_json, knast::DigestAlgorithm::sha512);
  EXPECT_NO_THROW(check_document(manifest_json, std::nullopt, sha512.string(), right, "m"));
  EXPECT_EQ(check_document(manifest_json, std::nullopt, sha512.string(), std::nullopt, "m").resolved.descriptor.digest, sha512);
}

TEST(CheckDocument, UnusableDocumentsAreRefused) {
  EXPECT_EQ(thrown([] { check_document(testdata("schema1-manifest.json"),
                                       std::string("application/vnd.docker.distribution.manifest.v1+prettyjws"),
                                       std::nullopt, std::nullopt, "m"); }).first,
            ErrorCode::unsupported);
  const auto [code, message] = thrown([] { check_document("{\"schemaVersion\":", std::nullopt, std::nullopt, std::nullopt, "manifest 1"); });
  EXPECT_EQ(code, ErrorCode::invalid_argument);
  EXPECT_THAT(message, StartsWith("manifest 1: "));
  // The Content-Type says manifest, the document is an index.
  EXPECT_EQ(thrown([] { check_document(index_json, std::string(media_type::oci_manifest), std::nullopt, std::nullopt, "m"); }).first,
            ErrorCode::invalid_argument);
}

TEST(SelectManifests, BestMatchIgnoringAttestations) {
  const Index index = Index::parse(index_json);
  const auto arm64 = select_manifests(index, Platform::parse("linux/arm64"), false, "the index");
  ASSERT_EQ(arm64.size(), 1u);
  EXPECT_EQ(arm64[0].platform->architecture, "arm64");
  const auto arm = select_manifests(index, Platform::parse("linux/arm/v7"), false, "the index");
  EXPECT_EQ(arm[0].platform->variant, "v7");
  const auto amd64 = select_manifests(index, Platform::parse("linux/amd64"), false, "the index");
  EXPECT_EQ(amd64[0].platform->architecture, "amd64");
}

TEST(SelectManifests, AllPlatformsLeavesAttestationsOut) {
  const auto all = select_manifests(Index::parse(index_json), Platform::parse("linux/amd64"), true, "the index");
  EXPECT_EQ(all.size(), 3u);
  for (const auto& entry : all) EXPECT_FALSE(is_attestation(entry));
}

TEST(SelectManifests, NoMatchNamesWhatIsThere) {
  const auto [code, message] =
      thrown([] { select_manifests(Index::parse(testdata("hello-world-list.json")), Platform::parse("freebsd/amd64"), false, "the index"); });
  EXPECT_EQ(code, ErrorCode::not_found);
  EXPECT_THAT(message, HasSubstr("the index has no image for platform freebsd/amd64"));
  EXPECT_THAT(message, HasSubstr("linux/amd64"));
  EXPECT_THAT(message, HasSubstr("windows/amd64"));
}

TEST(SelectManifests, AnIndexOfNothingUsable) {
  Index index;
  EXPECT_EQ(thrown([&] { select_manifests(index, Platform::parse("linux/amd64"), true, "the index"); }).first,
            ErrorCode::not_found);
  knast::Descriptor no_platform;
  no_platform.media_type = media_type::oci_manifest;
  index.manifests = {no_platform};
  const auto [code, message] = thrown([&] { select_manifests(index, Platform::parse("linux/amd64"), false, "the index"); });
  EXPECT_EQ(code, ErrorCode::not_found);
  EXPECT_THAT(message, HasSubstr("names no platform"));
  EXPECT_EQ(select_manifests(index, Platform::parse("linux/amd64"), true, "the index").size(), 1u);
}

TEST(Manifests, AcceptHeaderAndReferences) {
  const std::string accept = manifest_accept_header();
  EXPECT_THAT(accept, StartsWith("Accept: "));
  for (auto type : {media_type::oci_manifest, media_type::oci_index, media_type::docker_manifest,
                    media_type::docker_manifest_list})
    EXPECT_THAT(accept, HasSubstr(std::string(type)));
  EXPECT_EQ(api_reference(Reference::parse("alpine")), "latest");
  const std::string d = Digest::of(std::string_view("x")).string();
  EXPECT_EQ(api_reference(Reference::parse("alpine:3@" + d)), d);
}

}  // namespace
