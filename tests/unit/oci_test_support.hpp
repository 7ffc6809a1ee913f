// Helpers shared by the oci_*_test.cpp files.
#pragma once

#include <knast/error.hpp>
#include <knast/oci.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <concepts>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace oci_test {

using Json = nlohmann::json;

/// A valid sha256 digest string made of one repeated hex digit.
inline std::string digest_of(char hex_digit) { return "sha256:" + std::string(64, hex_digit); }

/// The contents of tests/testdata/oci/@p name.
inline std::string testdata(std::string_view name) {
  const std::string path = std::string(KNAST_TESTDATA_DIR) + "/oci/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) ADD_FAILURE() << "cannot open " << path;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// The Error that @p f throws; a test failure if it throws none.
template <typename F>
knast::Error error_from(F&& f) {
  try {
    f();
  } catch (const knast::Error& e) {
    return e;
  }
  ADD_FAILURE() << "no knast::Error thrown";
  return knast::Error(knast::ErrorCode::ok, "");
}

/// The Error that @p Document::parse(@p text) throws.
template <typename Document>
knast::Error parse_error(std::string_view text) {
  return error_from([&] { (void)Document::parse(text); });
}

/// parse_error for a document built as JSON.
template <typename Document, std::same_as<Json> J>  // exact type: strings convert to Json too
knast::Error parse_error(const J& doc) {
  return parse_error<Document>(doc.dump());
}

/// Checks that @p e is of @p kind with exactly @p message.
inline void expect_error(const knast::Error& e, knast::ErrorCode kind, std::string_view message) {
  EXPECT_EQ(e.kind(), kind) << e.what();
  EXPECT_EQ(std::string_view(e.what()), message);
}

/// A small valid OCI image manifest with two layers.
inline Json oci_manifest_json() {
  return Json{
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"config",
       {{"mediaType", "application/vnd.oci.image.config.v1+json"}, {"digest", digest_of('c')}, {"size", 100}}},
      {"layers",
       Json::array(
           {{{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"}, {"digest", digest_of('1')}, {"size", 1000}},
            {{"mediaType", "application/vnd.oci.image.layer.v1.tar+zstd"},
             {"digest", digest_of('2')},
             {"size", 2000}}})}};
}

/// A small valid OCI index with one linux/amd64 manifest.
inline Json oci_index_json() {
  return Json{{"schemaVersion", 2},
              {"mediaType", "application/vnd.oci.image.index.v1+json"},
              {"manifests", Json::array({{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                          {"digest", digest_of('a')},
                                          {"size", 500},
                                          {"platform", {{"architecture", "amd64"}, {"os", "linux"}}}}})}};
}

/// A small valid image config.
inline Json image_config_json() {
  return Json{{"architecture", "arm64"},
              {"os", "freebsd"},
              {"config", {{"Env", {"PATH=/bin"}}, {"Cmd", {"/bin/sh"}}}},
              {"rootfs", {{"type", "layers"}, {"diff_ids", {digest_of('d')}}}}};
}

}  // namespace oci_test
