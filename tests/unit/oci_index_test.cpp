#include "oci_test_support.hpp"

namespace {

using knast::ErrorCode;
using knast::Index;
using knast::Platform;
using namespace oci_test;
namespace mt = knast::media_type;

TEST(OciIndex, ParsesAnOciIndexWithAttestations) {
  const Index index = Index::parse(testdata("alpine-index.json"));
  EXPECT_EQ(index.media_type, mt::oci_index);
  ASSERT_EQ(index.manifests.size(), 6u);
  for (const auto& entry : index.manifests) {
    EXPECT_EQ(entry.media_type, mt::oci_manifest);
    EXPECT_TRUE(entry.platform.has_value());
  }
  EXPECT_EQ(*index.manifests[0].platform, (Platform{"linux", "amd64", "", "", {}}));
  EXPECT_EQ(index.manifests[0].annotations.at("org.opencontainers.image.version"), "3.20.3");
  EXPECT_EQ(*index.manifests[2].platform, (Platform{"linux", "arm", "v7", "", {}}));
  // BuildKit's attestation entries: platform unknown/unknown, pointing back at an image.
  const auto& attestation = index.manifests[1];
  EXPECT_EQ(*attestation.platform, (Platform{"unknown", "unknown", "", "", {}}));
  EXPECT_EQ(attestation.annotations.at("vnd.docker.reference.type"), "attestation-manifest");
  EXPECT_EQ(attestation.annotations.at("vnd.docker.reference.digest"), index.manifests[0].digest.string());
}

TEST(OciIndex, ParsesADockerManifestListWithOsVersion) {
  const Index index = Index::parse(testdata("hello-world-list.json"));
  EXPECT_EQ(index.media_type, mt::docker_manifest_list);
  ASSERT_EQ(index.manifests.size(), 4u);
  EXPECT_EQ(index.manifests[1].platform->variant, "v5");
  EXPECT_EQ(*index.manifests[3].platform, (Platform{"windows", "amd64", "", "10.0.17763.6293", {}}));
  EXPECT_EQ(index.manifests[3].size, 1125);
}

TEST(OciIndex, RoundTripsRealWorldDocuments) {
  for (const char* name : {"alpine-index.json", "hello-world-list.json"}) {
    const Index index = Index::parse(testdata(name));
    EXPECT_EQ(Index::parse(index.to_json()), index) << name;
  }
}

TEST(OciIndex, SerialisesCompactlyWithSortedKeysAndOnlySetFields) {
  EXPECT_EQ(Index::parse(oci_index_json().dump()).to_json(),
            R"({"manifests":[{"digest":")" + digest_of('a') +
                R"(","mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                R"("platform":{"architecture":"amd64","os":"linux"},"size":500}],)"
                R"("mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2})");
}

TEST(OciIndex, EmptyIndexAsInAFreshImageLayoutRoundTrips) {
  const Index index = Index::parse(R"({"schemaVersion":2,"manifests":[]})");
  EXPECT_EQ(index.media_type, mt::oci_index);
  EXPECT_TRUE(index.manifests.empty());
  EXPECT_EQ(Index::parse(index.to_json()), index);
  EXPECT_EQ(Index{}.to_json(),
            R"({"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2})");
}

TEST(OciIndex, RoundTripsEveryOptionalField) {
  Json doc = oci_index_json();
  doc["artifactType"] = "application/vnd.example";
  doc["subject"] = {{"mediaType", mt::oci_index}, {"digest", digest_of('9')}, {"size", 10}};
  doc["annotations"] = {{"org.opencontainers.image.ref.name", "3.20"}};
  doc["manifests"][0]["platform"]["os.features"] = {"win32k"};
  doc["manifests"][0]["platform"]["variant"] = "v3";
  const Index index = Index::parse(doc.dump());
  EXPECT_EQ(index.subject->media_type, mt::oci_index);
  EXPECT_EQ(index.manifests[0].platform->os_features, std::vector<std::string>{"win32k"});
  EXPECT_EQ(Index::parse(index.to_json()), index);
  EXPECT_EQ(Json::parse(index.to_json()), doc);
}

TEST(OciIndex, NestedIndexesAreAccepted) {
  Json doc = oci_index_json();
  doc["manifests"][0]["mediaType"] = mt::docker_manifest_list;
  EXPECT_EQ(Index::parse(doc.dump()).manifests[0].media_type, mt::docker_manifest_list);
}

TEST(OciIndex, AManifestIsNotAnIndex) {
  expect_error(
      parse_error<Index>(testdata("busybox-manifest.json")), ErrorCode::invalid_argument,
      "index: mediaType: \"application/vnd.docker.distribution.manifest.v2+json\" is a manifest, not an index");
  Json doc = oci_manifest_json();
  doc.erase("mediaType");
  expect_error(parse_error<Index>(doc), ErrorCode::invalid_argument,
               "index: has \"layers\" and no mediaType: it is a manifest, not an index");
}

TEST(OciIndex, SchemaVersionIsChecked) {
  Json doc = oci_index_json();
  doc["schemaVersion"] = 1;
  EXPECT_EQ(parse_error<Index>(doc).kind(), ErrorCode::unsupported);
  doc.erase("schemaVersion");
  expect_error(parse_error<Index>(doc), ErrorCode::invalid_argument, "index: schemaVersion: required field is missing");
}

TEST(OciIndex, UnknownMediaTypeIsUnsupported) {
  Json doc = oci_index_json();
  doc["mediaType"] = "application/json";
  expect_error(parse_error<Index>(doc), ErrorCode::unsupported,
               "index: mediaType: unsupported media type \"application/json\" (expected an index)");
}

TEST(OciIndex, ManifestsAreRequiredAndAnArray) {
  Json doc = oci_index_json();
  doc.erase("manifests");
  expect_error(parse_error<Index>(doc), ErrorCode::invalid_argument, "index: manifests: required field is missing");
  doc["manifests"] = {{"a", 1}};
  expect_error(parse_error<Index>(doc), ErrorCode::invalid_argument,
               "index: manifests: must be an array, got an object");
}

TEST(OciIndex, EntriesOtherThanManifestsAndIndexesAreUnsupported) {
  Json doc = oci_index_json();
  doc["manifests"].push_back(doc["manifests"][0]);
  doc["manifests"][1]["mediaType"] = "application/vnd.dev.cosign.simplesigning.v1+json";
  expect_error(
      parse_error<Index>(doc), ErrorCode::unsupported,
      "index: manifests[1].mediaType: unsupported media type \"application/vnd.dev.cosign.simplesigning.v1+json\" "
      "(expected a manifest or an index)");
  doc["manifests"][1]["mediaType"] = mt::oci_config;
  EXPECT_EQ(parse_error<Index>(doc).kind(), ErrorCode::unsupported);
}

TEST(OciIndex, EntryPlatformsAreChecked) {
  Json doc = oci_index_json();
  doc["manifests"][0]["platform"].erase("os");
  expect_error(parse_error<Index>(doc), ErrorCode::invalid_argument,
               "index: manifests[0].platform.os: required field is missing");
  doc["manifests"][0]["platform"]["os"] = "linux";
  doc["manifests"][0]["platform"]["os.version"] = 10;
  expect_error(parse_error<Index>(doc), ErrorCode::invalid_argument,
               "index: manifests[0].platform[\"os.version\"]: must be a string, got 10");
}

TEST(OciIndex, EntrySizesAndDigestsAreChecked) {
  Json doc = oci_index_json();
  doc["manifests"][0]["size"] = "500";
  expect_error(parse_error<Index>(doc), ErrorCode::invalid_argument,
               "index: manifests[0].size: must be a non-negative integer, got \"500\"");
  doc["manifests"][0]["size"] = 500;
  doc["manifests"][0]["digest"] = "sha256:" + std::string(64, 'G');
  const auto e = parse_error<Index>(doc);
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), testing::StartsWith("index: manifests[0].digest: "));
}

}  // namespace
