// Document-level rules every OCI type shares: size and depth limits, malformed JSON,
// the top level, and how paths and values are written in messages.
#include "oci/json_reader.hpp"
#include "oci_test_support.hpp"

namespace {

using knast::ErrorCode;
using knast::ImageConfig;
using knast::Index;
using knast::Manifest;
using namespace oci_test;

// A valid manifest padded with whitespace to exactly @p bytes.
std::string padded_manifest(std::size_t bytes) {
  std::string text = oci_manifest_json().dump();
  text.resize(bytes, ' ');
  return text;
}

TEST(OciJson, ManifestAtTheLimitParses) {
  EXPECT_NO_THROW((void)Manifest::parse(padded_manifest(knast::max_manifest_bytes)));
}

TEST(OciJson, OversizedManifestIsRefusedBeforeParsing) {
  // Not even JSON: the size check must come first.
  const std::string text(knast::max_manifest_bytes + 1, '[');
  expect_error(parse_error<Manifest>(text), ErrorCode::limit_exceeded,
               "manifest: document is 4194305 bytes, over the limit of 4194304 bytes");
}

TEST(OciJson, OversizedIndexAndConfigAreRefused) {
  expect_error(parse_error<Index>(std::string(knast::max_index_bytes + 1, ' ')), ErrorCode::limit_exceeded,
               "index: document is 4194305 bytes, over the limit of 4194304 bytes");
  expect_error(parse_error<ImageConfig>(std::string(knast::max_config_bytes + 1, ' ')), ErrorCode::limit_exceeded,
               "image config: document is 8388609 bytes, over the limit of 8388608 bytes");
}

TEST(OciJson, ConfigsMayBeLargerThanManifests) {
  Json doc = image_config_json();
  doc["config"]["Labels"]["big"] = std::string(5u << 20, 'x');
  EXPECT_EQ(ImageConfig::parse(doc.dump()).config.labels.at("big").size(), 5u << 20);
}

TEST(OciJson, AMillionOpenBracketsFailFastWithoutCrashing) {
  const std::string text(1'000'000, '[');
  expect_error(parse_error<Manifest>(text), ErrorCode::limit_exceeded, "manifest: JSON nested deeper than 64 levels");
}

// An unknown field nested so that the document has @p depth levels in all.
std::string nested_document(int depth) {
  std::string nested;
  for (int i = 1; i < depth; ++i) nested += '[';
  for (int i = 1; i < depth; ++i) nested += ']';
  Json doc = oci_manifest_json();
  std::string text = doc.dump();
  text.insert(1, "\"x-unknown\":" + nested + ",");
  return text;
}

TEST(OciJson, NestingIsCappedAtSixtyFourLevels) {
  EXPECT_NO_THROW((void)Manifest::parse(nested_document(64)));
  expect_error(parse_error<Manifest>(nested_document(65)), ErrorCode::limit_exceeded,
               "manifest: JSON nested deeper than 64 levels");
}

TEST(OciJson, MalformedJsonIsInvalidWithItsPosition) {
  const auto e = parse_error<Manifest>("{\"schemaVersion\": 2,\n \"config\": }");
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), testing::StartsWith("manifest: malformed JSON: parse error at line 2, column 12:"));
}

TEST(OciJson, EmptyInputTrailingDataAndCommentsAreMalformed) {
  for (const std::string text : {"", "   ", "{} {}", "{}x", "{/* c */}", "{\"a\":1,}", "{'a':1}"}) {
    const auto e = parse_error<Index>(text);
    EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << text;
    EXPECT_THAT(e.what(), testing::StartsWith("index: malformed JSON: ")) << text;
  }
}

TEST(OciJson, InvalidUtf8IsMalformed) {
  const auto e = parse_error<ImageConfig>("{\"os\": \"\xff\"}");
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), testing::HasSubstr("malformed JSON"));
}

TEST(OciJson, TopLevelMustBeAnObject) {
  expect_error(parse_error<Manifest>("[]"), ErrorCode::invalid_argument,
               "manifest: must be a JSON object, got an array");
  expect_error(parse_error<Index>("42"), ErrorCode::invalid_argument, "index: must be a JSON object, got 42");
  expect_error(parse_error<ImageConfig>("null"), ErrorCode::invalid_argument,
               "image config: must be a JSON object, got null");
  expect_error(parse_error<Manifest>("\"x\""), ErrorCode::invalid_argument,
               "manifest: must be a JSON object, got \"x\"");
}

TEST(OciJson, OddKeysAreBracketedInPaths) {
  Json doc = oci_manifest_json();
  doc["annotations"] = {{"org.opencontainers.image.title", 7}};
  expect_error(parse_error<Manifest>(doc), ErrorCode::invalid_argument,
               "manifest: annotations[\"org.opencontainers.image.title\"]: must be a string, got 7");
}

TEST(OciJson, LongValuesAreCutInMessages) {
  Json doc = oci_manifest_json();
  doc["mediaType"] = std::string(1000, 'm');
  const auto e = parse_error<Manifest>(doc);
  EXPECT_EQ(e.kind(), ErrorCode::unsupported);
  EXPECT_LT(std::string_view(e.what()).size(), 200u) << e.what();
  EXPECT_THAT(e.what(), testing::HasSubstr("mmm\"... (expected a manifest)"));
}

TEST(OciJson, ReaderNamesPathsForMissingNullAndWrongTypes) {
  using knast::detail::JsonReader;
  const Json doc = Json::parse(R"({"a": null, "b": [true, "x"], "c": 1.5})");
  const JsonReader root(doc, "test");
  expect_error(error_from([&] { (void)root.required("missing"); }), ErrorCode::invalid_argument,
               "test: missing: required field is missing");
  expect_error(error_from([&] { (void)root.required("a"); }), ErrorCode::invalid_argument,
               "test: a: required field is null");
  EXPECT_FALSE(root.optional("a").has_value());  // null reads as absent
  EXPECT_TRUE(root.contains("a"));
  expect_error(error_from([&] { (void)root.required("b").array(&JsonReader::boolean); }), ErrorCode::invalid_argument,
               "test: b[1]: must be a boolean, got \"x\"");
  expect_error(error_from([&] { (void)root.required("c").integer(); }), ErrorCode::invalid_argument,
               "test: c: must be an integer, got 1.5");
  expect_error(error_from([&] { (void)root.required("b").required("x"); }), ErrorCode::invalid_argument,
               "test: b: must be an object, got an array");
}

}  // namespace
