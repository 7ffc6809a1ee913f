// docker's manifest.json and repositories, oci-layout and OCI entry names.
#include "image_store/archive_manifest.hpp"

#include <knast/error.hpp>
#include <knast/image_store.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace {

using knast::Error;
using knast::ErrorCode;
using knast::Reference;
using knast::detail::DockerArchiveImage;
using knast::detail::parse_docker_manifest;
using testing::HasSubstr;
using Json = nlohmann::json;

Error manifest_error(std::string_view text) {
  try {
    (void)parse_docker_manifest(text);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "accepted " << text;
  return Error(ErrorCode::ok, "");
}

TEST(DockerManifest, ParsesTheClassicLayout) {
  const auto images = parse_docker_manifest(R"([{
    "Config": "0123.json",
    "RepoTags": ["alpine:3.20", "localhost:5000/team/app:1"],
    "Layers": ["aaa/layer.tar", "./bbb/layer.tar"],
    "LayerSources": null
  }])");
  ASSERT_EQ(images.size(), 1u);
  EXPECT_EQ(images[0].config, "0123.json");
  ASSERT_EQ(images[0].names.size(), 2u);
  EXPECT_EQ(images[0].names[0].string(), "docker.io/library/alpine:3.20");
  EXPECT_EQ(images[0].names[1].string(), "localhost:5000/team/app:1");
  EXPECT_EQ(images[0].layers, (std::vector<std::string>{"aaa/layer.tar", "bbb/layer.tar"}));
}

TEST(DockerManifest, ParsesDocker25PathsAndMissingOrNullTags) {
  const auto images = parse_docker_manifest(R"([
    {"Config": "blobs/sha256/c1", "RepoTags": null, "Layers": ["blobs/sha256/l1"]},
    {"Config": "blobs/sha256/c2", "Layers": []}])");
  ASSERT_EQ(images.size(), 2u);
  EXPECT_TRUE(images[0].names.empty());
  EXPECT_EQ(images[0].layers, std::vector<std::string>{"blobs/sha256/l1"});
  EXPECT_TRUE(images[1].layers.empty());
}

TEST(DockerManifest, RefusesPathsOutsideTheArchive) {
  const auto e = manifest_error(R"([{"Config": "c.json", "RepoTags": [], "Layers": ["ok.tar", "../../etc/passwd"]}])");
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), HasSubstr("manifest.json: [0].Layers[1]: path \"../../etc/passwd\": has a '..' component"));
  EXPECT_THAT(manifest_error(R"([{"Config": "/etc/shadow", "Layers": []}])").what(),
              HasSubstr("manifest.json: [0].Config: path \"/etc/shadow\": is absolute"));
  EXPECT_THAT(manifest_error(R"([{"Config": ".", "Layers": []}])").what(), HasSubstr("root"));
}

TEST(DockerManifest, RefusesMalformedDocuments) {
  EXPECT_THAT(manifest_error("[{").what(), HasSubstr("manifest.json: malformed JSON"));
  EXPECT_THAT(manifest_error(R"({"Config": "c"})").what(), HasSubstr("manifest.json: must be a JSON array"));
  EXPECT_THAT(manifest_error(R"([{"RepoTags": [], "Layers": []}])").what(),
              HasSubstr("manifest.json: [0].Config: required field is missing"));
  EXPECT_THAT(manifest_error(R"([{"Config": "c", "Layers": "l.tar"}])").what(),
              HasSubstr("manifest.json: [0].Layers: must be an array"));
  EXPECT_THAT(manifest_error(R"([{"Config": "c", "Layers": [1]}])").what(),
              HasSubstr("manifest.json: [0].Layers[0]: must be a string"));
}

TEST(DockerManifest, RefusesBadNames) {
  const auto e = manifest_error(R"([{"Config": "c", "RepoTags": ["Not A Name"], "Layers": []}])");
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), HasSubstr("manifest.json: [0].RepoTags[0]: "));
  const auto digest = "alpine@sha256:" + std::string(64, 'a');
  EXPECT_THAT(manifest_error(Json::array({{{"Config", "c"}, {"RepoTags", {digest}}, {"Layers", Json::array()}}}).dump())
                  .what(),
              HasSubstr("a tag is expected"));
}

TEST(DockerManifest, RefusesOversizedAndDeepDocuments) {
  const std::string huge = "[" + std::string(knast::max_manifest_bytes, ' ') + "]";
  EXPECT_EQ(manifest_error(huge).kind(), ErrorCode::limit_exceeded);
  EXPECT_EQ(manifest_error(std::string(100, '[') + std::string(100, ']')).kind(), ErrorCode::limit_exceeded);
}

TEST(DockerManifest, WritesShortNamesAndReadsBack) {
  const std::vector<DockerArchiveImage> images{
      {"c1.json", {Reference::parse("alpine:3.20"), Reference::parse("ghcr.io/x/y:1")}, {"l1.tar", "l2.tar"}}};
  const auto text = knast::detail::write_docker_manifest(images);
  const auto doc = Json::parse(text);
  EXPECT_EQ(doc[0]["RepoTags"], Json({"alpine:3.20", "ghcr.io/x/y:1"}));
  EXPECT_EQ(doc[0]["Config"], "c1.json");
  EXPECT_EQ(parse_docker_manifest(text), images);
}

TEST(DockerRepositories, MapsShortNamesAndTagsToTheTopLayer) {
  const auto text = knast::detail::write_docker_repositories({{Reference::parse("alpine:3.20"), "id1"},
                                                               {Reference::parse("alpine:edge"), "id2"},
                                                               {Reference::parse("quay.io/a/b:c"), "id3"}});
  EXPECT_EQ(Json::parse(text),
            Json::parse(R"({"alpine": {"3.20": "id1", "edge": "id2"}, "quay.io/a/b": {"c": "id3"}})"));
}

TEST(OciLayout, AcceptsVersionOneAndRefusesOthers) {
  EXPECT_NO_THROW(knast::detail::check_oci_layout(knast::detail::oci_layout_json()));
  try {
    knast::detail::check_oci_layout(R"({"imageLayoutVersion": "2.0.0"})");
    FAIL() << "accepted 2.0.0";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::unsupported);
    EXPECT_THAT(e.what(), HasSubstr("oci-layout: imageLayoutVersion"));
  }
  EXPECT_THROW(knast::detail::check_oci_layout("{}"), Error);
}

knast::Descriptor entry_with(std::map<std::string, std::string> annotations) {
  knast::Descriptor d;
  d.media_type = knast::media_type::oci_manifest;
  d.annotations = std::move(annotations);
  return d;
}

TEST(OciEntryName, PrefersContainerdsFullName) {
  using knast::detail::oci_entry_name;
  const std::string ref_name(knast::ref_name_annotation);
  const std::string full_name(knast::detail::containerd_name_annotation);
  EXPECT_EQ(oci_entry_name(entry_with({{ref_name, "latest"}, {full_name, "docker.io/library/busybox:latest"}})),
            Reference::parse("busybox"));
  EXPECT_EQ(oci_entry_name(entry_with({{ref_name, "localhost/app:2"}})), Reference::parse("localhost/app:2"));
  EXPECT_EQ(oci_entry_name(entry_with({})), std::nullopt);
  try {
    (void)oci_entry_name(entry_with({{ref_name, "Bad Name"}}));
    FAIL() << "accepted a bad name";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("annotation org.opencontainers.image.ref.name: \"Bad Name\""));
  }
}

}  // namespace
