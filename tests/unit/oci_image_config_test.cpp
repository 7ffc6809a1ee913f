#include "oci_test_support.hpp"

namespace {

using knast::ContainerConfig;
using knast::Digest;
using knast::ErrorCode;
using knast::HistoryEntry;
using knast::ImageConfig;
using knast::Platform;
using namespace oci_test;

TEST(OciImageConfig, ParsesADockerBuilderConfigWithNulls) {
  const ImageConfig c = ImageConfig::parse(testdata("busybox-config.json"));
  EXPECT_EQ(c.architecture, "amd64");
  EXPECT_EQ(c.os, "linux");
  EXPECT_EQ(c.created, "2023-07-18T23:19:33.655005962Z");
  EXPECT_FALSE(c.author.has_value());
  EXPECT_EQ(c.config.user, "");  // present but empty, kept as written
  EXPECT_EQ(c.config.env,
            std::vector<std::string>{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"});
  EXPECT_EQ(c.config.cmd, std::vector<std::string>{"sh"});
  EXPECT_FALSE(c.config.entrypoint.has_value());  // "Entrypoint": null
  EXPECT_TRUE(c.config.labels.empty());           // "Labels": null
  EXPECT_TRUE(c.config.volumes.empty());          // "Volumes": null
  EXPECT_EQ(c.config.working_dir, "");
  ASSERT_EQ(c.diff_ids.size(), 1u);
  ASSERT_EQ(c.history.size(), 2u);
  EXPECT_FALSE(c.history[0].empty_layer);
  EXPECT_TRUE(c.history[1].empty_layer);
  EXPECT_EQ(c.history[1].created_by, "/bin/sh -c #(nop)  CMD [\"sh\"]");
  EXPECT_EQ(c.platform(), (Platform{"linux", "amd64", "", "", {}}));
}

TEST(OciImageConfig, ParsesABuildKitConfig) {
  const ImageConfig c = ImageConfig::parse(testdata("nginx-config.json"));
  EXPECT_EQ(c.config.exposed_ports, std::vector<std::string>{"80/tcp"});
  EXPECT_EQ(c.config.entrypoint, std::vector<std::string>{"/docker-entrypoint.sh"});
  EXPECT_EQ(c.config.cmd, (std::vector<std::string>{"nginx", "-g", "daemon off;"}));
  EXPECT_EQ(c.config.labels.at("maintainer"), "NGINX Docker Maintainers <docker-maint@nginx.com>");
  EXPECT_EQ(c.config.stop_signal, "SIGQUIT");
  EXPECT_FALSE(c.config.user.has_value());
  EXPECT_EQ(c.config.env.size(), 6u);
  EXPECT_EQ(c.diff_ids.size(), 3u);
  EXPECT_EQ(c.history.size(), 9u);
  EXPECT_EQ(c.history[0].comment, "debuerreotype 0.15");
}

TEST(OciImageConfig, RoundTripsRealWorldDocuments) {
  for (const char* name : {"busybox-config.json", "nginx-config.json"}) {
    const ImageConfig c = ImageConfig::parse(testdata(name));
    EXPECT_EQ(ImageConfig::parse(c.to_json()), c) << name;
  }
}

TEST(OciImageConfig, RoundTripsEveryField) {
  ImageConfig c;
  c.created = "2024-01-01T00:00:00Z";
  c.author = "knast";
  c.architecture = "arm";
  c.os = "freebsd";
  c.os_version = "14.1";
  c.os_features = {"vnet"};
  c.variant = "v7";
  c.config = ContainerConfig{"www:www",
                             {"443/tcp", "80/tcp"},
                             {"A=1", "B="},
                             std::vector<std::string>{},
                             std::vector<std::string>{"-c", "x"},
                             {"/data"},
                             "/srv",
                             {{"k", "v"}},
                             "SIGTERM"};
  c.diff_ids = {Digest::parse(digest_of('1')), Digest::parse(digest_of('2'))};
  c.history = {HistoryEntry{"2024-01-01T00:00:00Z", "RUN x", "me", "c", false}, HistoryEntry{{}, {}, {}, {}, true}};
  EXPECT_EQ(ImageConfig::parse(c.to_json()), c);
  EXPECT_EQ(c.platform(), (Platform{"freebsd", "arm", "v7", "14.1", {"vnet"}}));
}

TEST(OciImageConfig, SerialisesCompactlyAndOnlySetFields) {
  EXPECT_EQ(ImageConfig::parse(image_config_json().dump()).to_json(),
            R"({"architecture":"arm64","config":{"Cmd":["/bin/sh"],"Env":["PATH=/bin"]},"os":"freebsd",)"
            R"("rootfs":{"diff_ids":[")" +
                digest_of('d') + R"("],"type":"layers"}})");
  Json doc = image_config_json();
  doc.erase("config");
  EXPECT_THAT(ImageConfig::parse(doc.dump()).to_json(), testing::Not(testing::HasSubstr("config")));
}

TEST(OciImageConfig, EmptyEntrypointIsNotAbsentEntrypoint) {
  Json doc = image_config_json();
  doc["config"]["Entrypoint"] = Json::array();
  const ImageConfig c = ImageConfig::parse(doc.dump());
  ASSERT_TRUE(c.config.entrypoint.has_value());
  EXPECT_TRUE(c.config.entrypoint->empty());
  EXPECT_THAT(c.to_json(), testing::HasSubstr(R"("Entrypoint":[])"));
  EXPECT_EQ(ImageConfig::parse(c.to_json()), c);
  doc["config"]["Entrypoint"] = nullptr;
  EXPECT_FALSE(ImageConfig::parse(doc.dump()).config.entrypoint.has_value());
}

TEST(OciImageConfig, NullOrAbsentConfigIsEmpty) {
  Json doc = image_config_json();
  doc["config"] = nullptr;
  EXPECT_EQ(ImageConfig::parse(doc.dump()).config, ContainerConfig{});
  doc.erase("config");
  EXPECT_EQ(ImageConfig::parse(doc.dump()).config, ContainerConfig{});
}

TEST(OciImageConfig, PlatformFieldsAreRead) {
  Json doc = image_config_json();
  doc["variant"] = "v8";
  doc["os.version"] = "14.1-RELEASE";
  doc["os.features"] = {"a", "b"};
  const ImageConfig c = ImageConfig::parse(doc.dump());
  EXPECT_EQ(c.variant, "v8");
  EXPECT_EQ(c.os_version, "14.1-RELEASE");
  EXPECT_EQ(c.platform(), (Platform{"freebsd", "arm64", "v8", "14.1-RELEASE", {"a", "b"}}));
}

TEST(OciImageConfig, ArchitectureAndOsAreRequired) {
  Json doc = image_config_json();
  doc.erase("architecture");
  expect_error(parse_error<ImageConfig>(doc), ErrorCode::invalid_argument,
               "image config: architecture: required field is missing");
  doc = image_config_json();
  doc["os"] = 1;
  expect_error(parse_error<ImageConfig>(doc), ErrorCode::invalid_argument,
               "image config: os: must be a non-empty string, got 1");
  doc["os"] = "";
  expect_error(parse_error<ImageConfig>(doc), ErrorCode::invalid_argument,
               "image config: os: must be a non-empty string, got \"\"");
}

TEST(OciImageConfig, RootfsIsRequiredAndOfTypeLayers) {
  Json doc = image_config_json();
  doc.erase("rootfs");
  expect_error(parse_error<ImageConfig>(doc), ErrorCode::invalid_argument,
               "image config: rootfs: required field is missing");
  doc["rootfs"] = {{"diff_ids", Json::array()}};
  expect_error(parse_error<ImageConfig>(doc), ErrorCode::invalid_argument,
               "image config: rootfs.type: required field is missing");
  doc["rootfs"]["type"] = "zfs";
  expect_error(parse_error<ImageConfig>(doc), ErrorCode::invalid_argument,
               "image config: rootfs.type: must be \"layers\", got \"zfs\"");
}

TEST(OciImageConfig, DiffIdsMayBeAbsentAsDockerOmitsThemForNoLayers) {
  Json doc = image_config_json();
  doc["rootfs"].erase("diff_ids");
  EXPECT_TRUE(ImageConfig::parse(doc.dump()).diff_ids.empty());
  doc["rootfs"]["diff_ids"] = nullptr;
  EXPECT_TRUE(ImageConfig::parse(doc.dump()).diff_ids.empty());
}

TEST(OciImageConfig, DiffIdsMustBeDigests) {
  Json doc = image_config_json();
  doc["rootfs"]["diff_ids"] = {digest_of('a'), "sha256:nope"};
  const auto e = parse_error<ImageConfig>(doc);
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), testing::StartsWith("image config: rootfs.diff_ids[1]: "));
  doc["rootfs"]["diff_ids"] = digest_of('a');
  expect_error(parse_error<ImageConfig>(doc), ErrorCode::invalid_argument,
               "image config: rootfs.diff_ids: must be an array, got \"" + digest_of('a') + "\"");
}

TEST(OciImageConfig, ContainerConfigFieldsAreTypeChecked) {
  const std::vector<std::pair<Json, std::string>> cases = {
      {{{"config", "x"}}, "image config: config: must be an object, got \"x\""},
      {{{"config", {{"User", 0}}}}, "image config: config.User: must be a string, got 0"},
      {{{"config", {{"Env", "A=1"}}}}, "image config: config.Env: must be an array, got \"A=1\""},
      {{{"config", {{"Env", {"A=1", 2}}}}}, "image config: config.Env[1]: must be a string, got 2"},
      {{{"config", {{"Cmd", "sh"}}}}, "image config: config.Cmd: must be an array, got \"sh\""},
      {{{"config", {{"Entrypoint", {{"a", "b"}}}}}},
       "image config: config.Entrypoint: must be an array, got an object"},
      {{{"config", {{"ExposedPorts", {"80/tcp"}}}}},
       "image config: config.ExposedPorts: must be an object, got an array"},
      {{{"config", {{"Volumes", true}}}}, "image config: config.Volumes: must be an object, got true"},
      {{{"config", {{"Labels", {{"a", 1}}}}}}, "image config: config.Labels.a: must be a string, got 1"},
      {{{"config", {{"WorkingDir", Json::array()}}}},
       "image config: config.WorkingDir: must be a string, got an array"},
      {{{"config", {{"StopSignal", 15}}}}, "image config: config.StopSignal: must be a string, got 15"},
      {{{"created", 1700000000}}, "image config: created: must be a string, got 1700000000"},
  };
  for (const auto& [patch, message] : cases) {
    Json doc = image_config_json();
    doc.merge_patch(patch);
    expect_error(parse_error<ImageConfig>(doc), ErrorCode::invalid_argument, message);
  }
}

TEST(OciImageConfig, HistoryIsTypeChecked) {
  Json doc = image_config_json();
  doc["history"] = {{"created", "x"}};
  expect_error(parse_error<ImageConfig>(doc), ErrorCode::invalid_argument,
               "image config: history: must be an array, got an object");
  doc["history"] = {"RUN x"};
  expect_error(parse_error<ImageConfig>(doc), ErrorCode::invalid_argument,
               "image config: history[0]: must be an object, got \"RUN x\"");
  doc["history"] = Json::array({{{"empty_layer", "true"}}});
  expect_error(parse_error<ImageConfig>(doc), ErrorCode::invalid_argument,
               "image config: history[0].empty_layer: must be a boolean, got \"true\"");
  doc["history"] = Json::array({{{"created_by", 5}}});
  expect_error(parse_error<ImageConfig>(doc), ErrorCode::invalid_argument,
               "image config: history[0].created_by: must be a string, got 5");
}

}  // namespace
