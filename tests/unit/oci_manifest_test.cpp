#include "oci_test_support.hpp"

#include <limits>

namespace {

using knast::Descriptor;
using knast::Digest;
using knast::ErrorCode;
using knast::Manifest;
using namespace oci_test;
namespace mt = knast::media_type;

TEST(OciManifest, ParsesADockerSchema2Manifest) {
  const Manifest m = Manifest::parse(testdata("busybox-manifest.json"));
  EXPECT_EQ(m.schema_version, 2);
  EXPECT_EQ(m.media_type, mt::docker_manifest);
  EXPECT_EQ(m.config.media_type, mt::docker_config);
  EXPECT_EQ(m.config.size, 1457);
  ASSERT_EQ(m.layers.size(), 1u);
  EXPECT_EQ(m.layers[0].media_type, mt::docker_layer_gzip);
  EXPECT_EQ(m.layers[0].size, 2152262);
  EXPECT_FALSE(m.artifact_type || m.subject);
  EXPECT_EQ(m.total_size(), 1457 + 2152262);
}

TEST(OciManifest, ParsesAnOciManifestWithAnnotations) {
  const Manifest m = Manifest::parse(testdata("nginx-manifest.json"));
  EXPECT_EQ(m.media_type, mt::oci_manifest);
  EXPECT_EQ(m.config.media_type, mt::oci_config);
  EXPECT_EQ(m.layers.size(), 7u);
  EXPECT_EQ(m.annotations.at("org.opencontainers.image.base.name"), "debian:bookworm-slim");
  EXPECT_EQ(m.total_size(), 8874 + 29126484 + 41833740 + 628 + 955 + 402 + 1210 + 1398);
}

TEST(OciManifest, RoundTripsRealWorldDocuments) {
  for (const char* name : {"busybox-manifest.json", "nginx-manifest.json"}) {
    const Manifest m = Manifest::parse(testdata(name));
    EXPECT_EQ(Manifest::parse(m.to_json()), m) << name;
    EXPECT_EQ(Manifest::parse(m.to_json()).to_json(), m.to_json()) << name;
  }
}

TEST(OciManifest, RoundTripsEveryOptionalField) {
  Manifest m = Manifest::parse(oci_manifest_json().dump());
  m.artifact_type = "application/vnd.example.sbom";
  m.subject = Descriptor{std::string(mt::oci_manifest), Digest::parse(digest_of('5')), 42, {}, {}, {}, {}, {}};
  m.annotations = {{"org.opencontainers.image.created", "2024-01-01T00:00:00Z"}};
  m.layers[0].urls = {"https://example.com/l"};
  EXPECT_EQ(Manifest::parse(m.to_json()), m);
}

TEST(OciManifest, SerialisesCompactlyWithSortedKeysAndOnlySetFields) {
  Json doc = oci_manifest_json();
  doc["layers"].erase(1);
  EXPECT_EQ(Manifest::parse(doc.dump()).to_json(),
            R"({"config":{"digest":")" + digest_of('c') +
                R"(","mediaType":"application/vnd.oci.image.config.v1+json","size":100},"layers":[{"digest":")" +
                digest_of('1') +
                R"(","mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":1000}],)"
                R"("mediaType":"application/vnd.oci.image.manifest.v1+json","schemaVersion":2})");
}

TEST(OciManifest, AbsentMediaTypeIsOciAndIsWrittenOut) {
  Json doc = oci_manifest_json();
  doc.erase("mediaType");
  const Manifest m = Manifest::parse(doc.dump());
  EXPECT_EQ(m.media_type, mt::oci_manifest);
  EXPECT_THAT(m.to_json(), testing::HasSubstr(R"("mediaType":"application/vnd.oci.image.manifest.v1+json")"));
}

TEST(OciManifest, UnknownFieldsAreIgnored) {
  Json doc = oci_manifest_json();
  doc["x-vendor"] = {{"nested", {1, 2, 3}}};
  doc["layers"][0]["x-extra"] = nullptr;
  EXPECT_EQ(Manifest::parse(doc.dump()), Manifest::parse(oci_manifest_json().dump()));
}

TEST(OciManifest, EmptyLayersAreAccepted) {
  Json doc = oci_manifest_json();
  doc["layers"] = Json::array();
  EXPECT_TRUE(Manifest::parse(doc.dump()).layers.empty());
}

TEST(OciManifest, DockerManifestMayCarryOciLayerTypes) {
  Json doc = oci_manifest_json();
  doc["mediaType"] = mt::docker_manifest;
  doc["config"]["mediaType"] = mt::docker_config;
  doc["layers"][1]["mediaType"] = mt::docker_layer_foreign_gzip;
  const Manifest m = Manifest::parse(doc.dump());
  EXPECT_EQ(m.layers[0].media_type, mt::oci_layer_gzip);
  EXPECT_EQ(m.layers[1].media_type, mt::docker_layer_foreign_gzip);
}

TEST(OciManifest, SchemaVersionIsRequired) {
  Json doc = oci_manifest_json();
  doc.erase("schemaVersion");
  expect_error(parse_error<Manifest>(doc), ErrorCode::invalid_argument,
               "manifest: schemaVersion: required field is missing");
}

TEST(OciManifest, SchemaVersionMustBeTheInteger2) {
  Json doc = oci_manifest_json();
  doc["schemaVersion"] = "2";
  expect_error(parse_error<Manifest>(doc), ErrorCode::invalid_argument,
               "manifest: schemaVersion: must be an integer, got \"2\"");
  doc["schemaVersion"] = 2.0;
  expect_error(parse_error<Manifest>(doc), ErrorCode::invalid_argument,
               "manifest: schemaVersion: must be an integer, got 2.0");
  doc["schemaVersion"] = 3;
  expect_error(parse_error<Manifest>(doc), ErrorCode::unsupported,
               "manifest: schemaVersion: unsupported schema version 3 (only 2 is known)");
}

TEST(OciManifest, DockerSchema1IsUnsupported) {
  const auto e = parse_error<Manifest>(testdata("schema1-manifest.json"));
  EXPECT_EQ(e.kind(), ErrorCode::unsupported);
  EXPECT_THAT(e.what(),
              testing::StartsWith("manifest: schemaVersion: Docker image manifest schema 1 is not supported"));
}

TEST(OciManifest, Schema1MediaTypeIsUnsupported) {
  Json doc = oci_manifest_json();
  doc["mediaType"] = "application/vnd.docker.distribution.manifest.v1+prettyjws";
  const auto e = parse_error<Manifest>(doc);
  EXPECT_EQ(e.kind(), ErrorCode::unsupported);
  EXPECT_THAT(e.what(), testing::StartsWith("manifest: mediaType: Docker image manifest schema 1 is not supported"));
}

TEST(OciManifest, AnIndexIsNotAManifest) {
  expect_error(parse_error<Manifest>(testdata("alpine-index.json")), ErrorCode::invalid_argument,
               "manifest: mediaType: \"application/vnd.oci.image.index.v1+json\" is an index, not a manifest");
  expect_error(
      parse_error<Manifest>(testdata("hello-world-list.json")), ErrorCode::invalid_argument,
      "manifest: mediaType: \"application/vnd.docker.distribution.manifest.list.v2+json\" is an index, not a manifest");
}

TEST(OciManifest, AnIndexWithoutMediaTypeIsRecognisedByItsShape) {
  Json doc = oci_index_json();
  doc.erase("mediaType");
  expect_error(parse_error<Manifest>(doc), ErrorCode::invalid_argument,
               "manifest: has \"manifests\" and no mediaType: it is an index, not a manifest");
}

TEST(OciManifest, UnknownMediaTypeIsUnsupported) {
  Json doc = oci_manifest_json();
  doc["mediaType"] = "application/vnd.example.manifest+json";
  expect_error(
      parse_error<Manifest>(doc), ErrorCode::unsupported,
      "manifest: mediaType: unsupported media type \"application/vnd.example.manifest+json\" (expected a manifest)");
  doc["mediaType"] = 1;
  expect_error(parse_error<Manifest>(doc), ErrorCode::invalid_argument, "manifest: mediaType: must be a string, got 1");
}

TEST(OciManifest, ConfigIsARequiredDescriptor) {
  Json doc = oci_manifest_json();
  doc.erase("config");
  expect_error(parse_error<Manifest>(doc), ErrorCode::invalid_argument, "manifest: config: required field is missing");
  doc["config"] = "sha256:abc";
  expect_error(parse_error<Manifest>(doc), ErrorCode::invalid_argument,
               "manifest: config: must be an object, got \"sha256:abc\"");
  doc["config"] = oci_manifest_json()["config"];
  doc["config"].erase("digest");
  expect_error(parse_error<Manifest>(doc), ErrorCode::invalid_argument,
               "manifest: config.digest: required field is missing");
}

TEST(OciManifest, ConfigMustBeAnImageConfig) {
  Json doc = oci_manifest_json();
  doc["config"]["mediaType"] = mt::oci_layer_gzip;
  expect_error(parse_error<Manifest>(doc), ErrorCode::unsupported,
               "manifest: config.mediaType: unsupported media type \"application/vnd.oci.image.layer.v1.tar+gzip\" "
               "(expected an image config)");
  doc["config"]["mediaType"] = mt::oci_empty;  // only artifacts may have an empty config
  EXPECT_EQ(parse_error<Manifest>(doc).kind(), ErrorCode::unsupported);
}

TEST(OciManifest, LayersAreRequiredAndAnArray) {
  Json doc = oci_manifest_json();
  doc.erase("layers");
  expect_error(parse_error<Manifest>(doc), ErrorCode::invalid_argument, "manifest: layers: required field is missing");
  doc["layers"] = nullptr;
  expect_error(parse_error<Manifest>(doc), ErrorCode::invalid_argument, "manifest: layers: required field is null");
  doc["layers"] = oci_manifest_json()["layers"][0];
  expect_error(parse_error<Manifest>(doc), ErrorCode::invalid_argument,
               "manifest: layers: must be an array, got an object");
  doc["layers"] = {"sha256:abc"};
  expect_error(parse_error<Manifest>(doc), ErrorCode::invalid_argument,
               "manifest: layers[0]: must be an object, got \"sha256:abc\"");
}

TEST(OciManifest, UnknownLayerTypeIsUnsupportedWithItsIndex) {
  Json doc = oci_manifest_json();
  doc["layers"][1]["mediaType"] = "foo";
  expect_error(parse_error<Manifest>(doc), ErrorCode::unsupported,
               "manifest: layers[1].mediaType: unsupported media type \"foo\" (expected a layer)");
}

TEST(OciManifest, NegativeLayerSizeNamesTheLayer) {
  Json doc = oci_manifest_json();
  doc["layers"].push_back(doc["layers"][0]);
  doc["layers"][2]["size"] = -1;
  expect_error(parse_error<Manifest>(doc), ErrorCode::invalid_argument,
               "manifest: layers[2].size: must be a non-negative integer, got -1");
}

TEST(OciManifest, FloatLayerSizeIsRefused) {
  Json doc = oci_manifest_json();
  doc["layers"][0]["size"] = 1000.5;
  expect_error(parse_error<Manifest>(doc), ErrorCode::invalid_argument,
               "manifest: layers[0].size: must be a non-negative integer, got 1000.5");
}

TEST(OciManifest, BadLayerDigestNamesTheLayer) {
  Json doc = oci_manifest_json();
  doc["layers"][1]["digest"] = "sha256:1234";
  const auto e = parse_error<Manifest>(doc);
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), testing::StartsWith("manifest: layers[1].digest: "));
}

TEST(OciManifest, AttestationManifestsAreNotImages) {
  expect_error(
      parse_error<Manifest>(testdata("attestation-manifest.json")), ErrorCode::unsupported,
      "manifest: layers[0].mediaType: unsupported media type \"application/vnd.in-toto+json\" (expected a layer)");
}

TEST(OciManifest, ArtifactsMayUseTheEmptyDescriptor) {
  Json doc = oci_manifest_json();
  doc["artifactType"] = "application/vnd.example.signature";
  doc["config"] = {{"mediaType", mt::oci_empty}, {"digest", digest_of('4')}, {"size", 2}, {"data", "e30="}};
  doc["layers"] = Json::array({doc["config"]});
  doc["subject"] = {{"mediaType", mt::oci_manifest}, {"digest", digest_of('5')}, {"size", 1234}};
  const Manifest m = Manifest::parse(doc.dump());
  EXPECT_EQ(m.artifact_type, "application/vnd.example.signature");
  EXPECT_EQ(m.config.media_type, mt::oci_empty);
  EXPECT_EQ(m.config.data, "e30=");
  ASSERT_TRUE(m.subject.has_value());
  EXPECT_EQ(m.subject->size, 1234);
  EXPECT_EQ(Manifest::parse(m.to_json()), m);
}

TEST(OciManifest, ArtifactBlobsOfUnknownTypesAreUnsupported) {
  Json doc = oci_manifest_json();
  doc["artifactType"] = "application/vnd.example.sbom";
  doc["layers"][0]["mediaType"] = "application/spdx+json";
  expect_error(parse_error<Manifest>(doc), ErrorCode::unsupported,
               "manifest: layers[0].mediaType: unsupported media type \"application/spdx+json\" "
               "(expected a layer or the empty descriptor)");
}

TEST(OciManifest, SubjectMustPointAtAManifestOrIndex) {
  Json doc = oci_manifest_json();
  doc["subject"] = doc["layers"][0];
  expect_error(parse_error<Manifest>(doc), ErrorCode::unsupported,
               "manifest: subject.mediaType: unsupported media type \"application/vnd.oci.image.layer.v1.tar+gzip\" "
               "(expected a manifest or an index)");
}

TEST(OciManifest, AnnotationsMustMapStringsToStrings) {
  Json doc = oci_manifest_json();
  doc["annotations"] = {"a", "b", "c"};
  expect_error(parse_error<Manifest>(doc), ErrorCode::invalid_argument,
               "manifest: annotations: must be an object, got an array");
  doc["annotations"] = {{"a", nullptr}};
  expect_error(parse_error<Manifest>(doc), ErrorCode::invalid_argument,
               "manifest: annotations.a: must be a string, got null");
}

TEST(OciManifest, EmptyArtifactTypeIsRefused) {
  Json doc = oci_manifest_json();
  doc["artifactType"] = "";
  expect_error(parse_error<Manifest>(doc), ErrorCode::invalid_argument,
               "manifest: artifactType: must be a non-empty string, got \"\"");
}

TEST(OciManifest, TotalSizeSaturatesInsteadOfOverflowing) {
  Manifest m = Manifest::parse(oci_manifest_json().dump());
  m.layers[0].size = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(m.total_size(), std::numeric_limits<std::int64_t>::max());
}

}  // namespace
