// Descriptors and platforms, read through the private reader the documents share.
#include "oci/oci_json.hpp"
#include "oci_test_support.hpp"

#include <limits>

namespace {

using knast::Descriptor;
using knast::Digest;
using knast::ErrorCode;
using knast::Platform;
using namespace oci_test;
namespace detail = knast::detail;

const detail::MediaTypeRule any_type{[](std::string_view) { return true; }, "anything"};

Descriptor read(const Json& doc) { return detail::read_descriptor(detail::JsonReader(doc, "descriptor"), any_type); }

knast::Error read_error(const Json& doc) {
  return error_from([&] { (void)read(doc); });
}

Json minimal() {
  return Json{{"mediaType", "application/vnd.oci.image.layer.v1.tar"}, {"digest", digest_of('a')}, {"size", 3}};
}

Json full() {
  Json d = minimal();
  d["urls"] = {"https://mirror.example/blob"};
  d["annotations"] = {{"org.opencontainers.image.title", "layer.tar"}};
  d["platform"] = {
      {"architecture", "arm"}, {"os", "linux"}, {"variant", "v7"}, {"os.version", "6.1"}, {"os.features", {"sse4"}}};
  d["artifactType"] = "application/vnd.example+json";
  d["data"] = "YWJj";
  return d;
}

TEST(OciDescriptor, ReadsEveryField) {
  const Descriptor d = read(full());
  EXPECT_EQ(d.media_type, "application/vnd.oci.image.layer.v1.tar");
  EXPECT_EQ(d.digest, Digest::parse(digest_of('a')));
  EXPECT_EQ(d.size, 3);
  EXPECT_EQ(d.urls, std::vector<std::string>{"https://mirror.example/blob"});
  EXPECT_EQ(d.annotations.at("org.opencontainers.image.title"), "layer.tar");
  ASSERT_TRUE(d.platform.has_value());
  EXPECT_EQ(*d.platform, (Platform{"linux", "arm", "v7", "6.1", {"sse4"}}));
  EXPECT_EQ(d.artifact_type, "application/vnd.example+json");
  EXPECT_EQ(d.data, "YWJj");
}

TEST(OciDescriptor, WritesOnlyTheFieldsThatAreSet) {
  EXPECT_EQ(detail::write_descriptor(read(minimal())).dump(),
            R"({"digest":")" + digest_of('a') + R"(","mediaType":"application/vnd.oci.image.layer.v1.tar","size":3})");
}

TEST(OciDescriptor, RoundTripsEveryField) {
  const Descriptor d = read(full());
  EXPECT_EQ(read(detail::write_descriptor(d)), d);
  EXPECT_EQ(detail::write_descriptor(d), full());
}

TEST(OciDescriptor, NullOptionalFieldsReadAsAbsent) {
  Json doc = minimal();
  for (const char* key : {"urls", "annotations", "platform", "artifactType", "data"}) doc[key] = nullptr;
  EXPECT_EQ(read(doc), read(minimal()));
}

struct FieldCase {
  const char* field;
  Json value;  // null: remove the field
  ErrorCode kind;
  const char* message;
};

class OciDescriptorRejects : public testing::TestWithParam<FieldCase> {};

TEST_P(OciDescriptorRejects, WithThePathAndTheReason) {
  const auto& c = GetParam();
  Json doc = full();
  if (c.value.is_null())
    doc.erase(c.field);
  else
    doc[c.field] = c.value;
  expect_error(read_error(doc), c.kind, c.message);
}

INSTANTIATE_TEST_SUITE_P(
    Fields, OciDescriptorRejects,
    testing::Values(
        FieldCase{"mediaType", nullptr, ErrorCode::invalid_argument,
                  "descriptor: mediaType: required field is missing"},
        FieldCase{"digest", nullptr, ErrorCode::invalid_argument, "descriptor: digest: required field is missing"},
        FieldCase{"size", nullptr, ErrorCode::invalid_argument, "descriptor: size: required field is missing"},
        FieldCase{"mediaType", 5, ErrorCode::invalid_argument, "descriptor: mediaType: must be a string, got 5"},
        FieldCase{"size", -1, ErrorCode::invalid_argument, "descriptor: size: must be a non-negative integer, got -1"},
        FieldCase{"size", 1.0, ErrorCode::invalid_argument,
                  "descriptor: size: must be a non-negative integer, got 1.0"},
        FieldCase{"size", 2.5e3, ErrorCode::invalid_argument,
                  "descriptor: size: must be a non-negative integer, got 2500.0"},
        FieldCase{"size", "12", ErrorCode::invalid_argument,
                  "descriptor: size: must be a non-negative integer, got \"12\""},
        FieldCase{"size", true, ErrorCode::invalid_argument,
                  "descriptor: size: must be a non-negative integer, got true"},
        FieldCase{"size", std::numeric_limits<std::uint64_t>::max(), ErrorCode::invalid_argument,
                  "descriptor: size: must be a non-negative integer, got 18446744073709551615"},
        FieldCase{"digest", 7, ErrorCode::invalid_argument, "descriptor: digest: must be a string, got 7"},
        FieldCase{"urls", "https://x", ErrorCode::invalid_argument,
                  "descriptor: urls: must be an array, got \"https://x\""},
        FieldCase{"urls", Json::array({1}), ErrorCode::invalid_argument,
                  "descriptor: urls[0]: must be a string, got 1"},
        FieldCase{"annotations", Json::array(), ErrorCode::invalid_argument,
                  "descriptor: annotations: must be an object, got an array"},
        FieldCase{"annotations",
                  {{"a", {{"b", "c"}}}},
                  ErrorCode::invalid_argument,
                  "descriptor: annotations.a: must be a string, got an object"},
        FieldCase{"platform", "linux/amd64", ErrorCode::invalid_argument,
                  "descriptor: platform: must be an object, got \"linux/amd64\""},
        FieldCase{"platform",
                  {{"os", "linux"}},
                  ErrorCode::invalid_argument,
                  "descriptor: platform.architecture: required field is missing"},
        FieldCase{"platform",
                  {{"architecture", "amd64"}},
                  ErrorCode::invalid_argument,
                  "descriptor: platform.os: required field is missing"},
        FieldCase{"platform",
                  {{"architecture", ""}, {"os", "linux"}},
                  ErrorCode::invalid_argument,
                  "descriptor: platform.architecture: must be a non-empty string, got \"\""},
        FieldCase{"platform",
                  {{"architecture", "arm"}, {"os", "linux"}, {"variant", 7}},
                  ErrorCode::invalid_argument,
                  "descriptor: platform.variant: must be a string, got 7"},
        FieldCase{"platform",
                  {{"architecture", "amd64"}, {"os", "windows"}, {"os.features", "win32k"}},
                  ErrorCode::invalid_argument,
                  "descriptor: platform[\"os.features\"]: must be an array, got \"win32k\""},
        FieldCase{"artifactType", "", ErrorCode::invalid_argument,
                  "descriptor: artifactType: must be a non-empty string, got \"\""},
        FieldCase{"data", 1, ErrorCode::invalid_argument, "descriptor: data: must be a string, got 1"}));

TEST(OciDescriptor, LargestSizeIsAccepted) {
  Json doc = minimal();
  doc["size"] = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(read(doc).size, std::numeric_limits<std::int64_t>::max());
  doc["size"] = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1;
  EXPECT_EQ(read_error(doc).kind(), ErrorCode::invalid_argument);
}

TEST(OciDescriptor, MalformedDigestIsInvalidWithItsPath) {
  Json doc = minimal();
  for (const std::string& bad : std::vector<std::string>{"sha256:xyz", "sha256:" + std::string(64, 'A'), "sha256", "",
                                                         "sha256:" + std::string(63, 'a')}) {
    doc["digest"] = bad;
    const auto e = read_error(doc);
    EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << bad;
    EXPECT_THAT(e.what(), testing::StartsWith("descriptor: digest: ")) << bad;
  }
}

TEST(OciDescriptor, UnknownDigestAlgorithmIsUnsupported) {
  Json doc = minimal();
  doc["digest"] = "md5:" + std::string(32, 'a');
  const auto e = read_error(doc);
  EXPECT_EQ(e.kind(), ErrorCode::unsupported);
  EXPECT_THAT(e.what(), testing::StartsWith("descriptor: digest: "));
}

TEST(OciDescriptor, Sha512DigestsAreAccepted) {
  Json doc = minimal();
  doc["digest"] = "sha512:" + std::string(128, 'f');
  EXPECT_EQ(read(doc).digest.algorithm(), knast::DigestAlgorithm::sha512);
}

TEST(OciDescriptor, MediaTypeRuleNamesWhatWasExpected) {
  const detail::MediaTypeRule layers{knast::is_layer_media_type, "a layer"};
  Json doc = minimal();
  doc["mediaType"] = "application/vnd.in-toto+json";
  expect_error(error_from([&] { (void)detail::read_descriptor(detail::JsonReader(doc, "descriptor"), layers); }),
               ErrorCode::unsupported,
               "descriptor: mediaType: unsupported media type \"application/vnd.in-toto+json\" (expected a layer)");
}

TEST(OciDescriptor, DefaultDigestIsTheEmptyBlob) {
  EXPECT_EQ(Descriptor{}.digest.string(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
