// docker config.json handling: base64 `auth` fields, the entry forms docker and other
// tools write, credential helper selection and output, login/logout edits, the default
// path, and the atomic private file write.
#include "registry/base64.hpp"
#include "registry/docker_config.hpp"

#include <knast/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>

namespace {

using knast::Credentials;
using knast::Error;
using knast::ErrorCode;
using namespace knast::registry_detail;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

template <typename F>
std::pair<ErrorCode, std::string> thrown(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return {e.kind(), e.what()};
  }
  return {ErrorCode::ok, ""};
}

Credentials user_pass(std::string user, std::string pass) {
  Credentials c;
  c.username = std::move(user);
  c.password = std::move(pass);
  return c;
}

// ---- base64 ----------------------------------------------------------------------------

TEST(Base64, RoundTripsRfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    EXPECT_EQ(base64_decode(encoded), plain);
  }
  const std::string binary("\0\xff\x10 :", 5);
  EXPECT_EQ(base64_decode(base64_encode(binary)), binary);
  EXPECT_EQ(base64_decode(" Zm9v\n"), "foo");
}

TEST(Base64, MalformedIsRefused) {
  for (const char* bad : {"Zm9", "Zm9vY", "Zg=", "Z===", "====", "Zm 9v", "Zm9v!A==", "Z=g=", "=Zm9", "Zm9v\nYmFy",
                          "Zm9v-_==", "Zg==Zg=="}) {
    EXPECT_EQ(base64_decode(bad), std::nullopt) << bad;
  }
}

// ---- auth fields and entries -------------------------------------------------------------

TEST(DockerConfig, AuthFieldSplitsAtTheFirstColon) {
  EXPECT_EQ(decode_auth_field(base64_encode("user:pa:ss")), user_pass("user", "pa:ss"));
  EXPECT_EQ(decode_auth_field(base64_encode(":")), user_pass("", ""));
  EXPECT_EQ(encode_auth_field("user", "pa:ss"), base64_encode("user:pa:ss"));
  EXPECT_EQ(thrown([] { decode_auth_field("!!!!"); }).first, ErrorCode::invalid_argument);
  EXPECT_EQ(thrown([] { decode_auth_field(base64_encode("nocolon")); }).first, ErrorCode::invalid_argument);
}

TEST(DockerConfig, ReadsTheEntryForms) {
  const Json doc = {
      {"auths",
       {{"https://index.docker.io/v1/", {{"auth", base64_encode("hubuser:hubpass")}, {"email", "x@y"}}},
        {"localhost:5000", {{"username", "u"}, {"password", "p"}}},
        {"https://ghcr.io", {{"auth", base64_encode("g:h")}, {"identitytoken", "refresh-me"}}},
        {"quay.io", Json::object()},  // left behind by a credsStore: not credentials
        {"http://insecure.lan:5000/v2/", {{"auth", base64_encode("i:j")}}}}},
      {"credsStore", "desktop"},
      {"credHelpers", {{"123.dkr.ecr.us-east-1.amazonaws.com", "ecr-login"}, {"https://index.docker.io/v1/", "hub"}}},
      {"proxies", {{"default", {{"httpProxy", "x"}}}}},
  };
  const DockerConfig config = parse_docker_config(doc.dump(), "/c.json");
  EXPECT_EQ(config.auths.at("docker.io"), user_pass("hubuser", "hubpass"));
  EXPECT_EQ(config.auths.at("localhost:5000"), user_pass("u", "p"));
  Credentials ghcr = user_pass("g", "h");
  ghcr.identity_token = "refresh-me";
  EXPECT_EQ(config.auths.at("ghcr.io"), ghcr);
  EXPECT_EQ(config.auths.count("quay.io"), 0u);
  EXPECT_EQ(config.auths.at("insecure.lan:5000"), user_pass("i", "j"));
  EXPECT_EQ(config.creds_store, "desktop");
  EXPECT_EQ(credential_helper_for(config, "123.dkr.ecr.us-east-1.amazonaws.com"), "ecr-login");
  EXPECT_EQ(credential_helper_for(config, "docker.io"), "hub");
  EXPECT_EQ(credential_helper_for(config, "quay.io"), "desktop");
}

TEST(DockerConfig, CanonicalSpellingWinsWhateverTheOrder) {
  for (const bool canonical_first : {true, false}) {
    Json auths = Json::object();
    // nlohmann orders object keys, so the order is forced through the key names used.
    const std::string alias = canonical_first ? "registry-1.docker.io" : "docker.io";
    auths["https://index.docker.io/v1/"] = {{"auth", base64_encode("canonical:1")}};
    auths[alias] = {{"auth", base64_encode("alias:2")}};
    const auto config = parse_docker_config(Json{{"auths", auths}}.dump(), "c");
    EXPECT_EQ(config.auths.at("docker.io").username, "canonical") << alias;
  }
}

TEST(DockerConfig, EmptyAndMinimalDocuments) {
  EXPECT_TRUE(parse_docker_config("{}", "c").auths.empty());
  EXPECT_EQ(parse_docker_config(R"({"auths":null,"credsStore":""})", "c").creds_store, std::nullopt);
  EXPECT_EQ(credential_helper_for(parse_docker_config("{}", "c"), "docker.io"), std::nullopt);
}

TEST(DockerConfig, MalformedNamesTheKeyButNeverTheValue) {
  const std::pair<std::string, std::string> cases[] = {
      {"not json", "(document)"},
      {"[]", "(document)"},
      {R"({"auths":[]})", "auths"},
      {R"({"auths":{"r.io":"secret-value"}})", "auths.\"r.io\""},
      {R"({"auths":{"r.io":{"auth":"secret-value!"}}})", "auths.\"r.io\".auth"},
      {R"({"auths":{"r.io":{"auth":")" + base64_encode("secret-value") + R"("}}})", "auths.\"r.io\".auth"},
      {R"({"auths":{"r.io":{"password":42}}})", "auths.\"r.io\".password"},
      {R"({"credHelpers":{"r.io":1}})", "credHelpers.r.io"},
      {R"({"credsStore":["secret-value"]})", ".credsStore"},
  };
  for (const auto& [json, key] : cases) {
    const auto [code, message] = thrown([&] { parse_docker_config(json, "/home/u/.docker/config.json"); });
    EXPECT_EQ(code, ErrorCode::invalid_argument) << json;
    EXPECT_THAT(message, HasSubstr("/home/u/.docker/config.json")) << json;
    EXPECT_THAT(message, HasSubstr(key)) << json;
    EXPECT_THAT(message, Not(HasSubstr("secret-value"))) << json;
  }
}

// ---- login and logout edits --------------------------------------------------------------

TEST(DockerConfig, LoginKeepsOtherFieldsAndReplacesAliases) {
  const Json before = {{"auths", {{"index.docker.io", {{"auth", "b2xkOm9sZA=="}}}, {"ghcr.io", {{"auth", "eDp5"}}}}},
                       {"psFormat", "table"}};
  const std::string after_text = docker_config_with_login(before.dump(), "docker.io", user_pass("me", "pw"));
  const Json after = Json::parse(after_text);
  EXPECT_EQ(after["psFormat"], "table");
  EXPECT_EQ(after["auths"]["ghcr.io"]["auth"], "eDp5");
  EXPECT_FALSE(after["auths"].contains("index.docker.io"));
  EXPECT_EQ(after["auths"]["https://index.docker.io/v1/"]["auth"], base64_encode("me:pw"));
  EXPECT_EQ(parse_docker_config(after_text, "c").auths.at("docker.io"), user_pass("me", "pw"));
}

TEST(DockerConfig, LoginIntoNothingAndWithAnIdentityToken) {
  Credentials token;
  token.identity_token = "refresh";
  const Json after = Json::parse(docker_config_with_login("", "localhost:5000", token));
  EXPECT_EQ(after, (Json{{"auths", {{"localhost:5000", {{"identitytoken", "refresh"}}}}}}));
  EXPECT_EQ(thrown([] { docker_config_with_login("[1]", "x", Credentials{}); }).first, ErrorCode::invalid_argument);
}

TEST(DockerConfig, LogoutRemovesEverySpelling) {
  const Json before = {{"auths",
                        {{"https://index.docker.io/v1/", {{"auth", "eDp5"}}},
                         {"docker.io", {{"auth", "eDp5"}}},
                         {"localhost:5000", {{"auth", "eDp5"}}}}},
                       {"credsStore", "pass"}};
  const auto after = docker_config_without_login(before.dump(), "docker.io");
  ASSERT_TRUE(after);
  EXPECT_EQ(Json::parse(*after), (Json{{"auths", {{"localhost:5000", {{"auth", "eDp5"}}}}}, {"credsStore", "pass"}}));
  EXPECT_EQ(docker_config_without_login(*after, "docker.io"), std::nullopt);
  EXPECT_EQ(docker_config_without_login("", "docker.io"), std::nullopt);
  EXPECT_EQ(docker_config_without_login("{}", "docker.io"), std::nullopt);
}

// ---- credential helpers ------------------------------------------------------------------

TEST(CredentialHelper, Output) {
  EXPECT_EQ(parse_credential_helper_output(R"({"ServerURL":"r","Username":"u","Secret":"s"})"), user_pass("u", "s"));
  const Credentials token = parse_credential_helper_output(R"({"Username":"<token>","Secret":"refresh"})");
  EXPECT_EQ(token.identity_token, "refresh");
  EXPECT_TRUE(token.username.empty());
  EXPECT_TRUE(token.password.empty());
  for (const char* bad : {"", "secret-value", R"({"Username":"u"})", R"({"Username":1,"Secret":"secret-value"})"}) {
    const auto [code, message] = thrown([&] { parse_credential_helper_output(bad); });
    EXPECT_EQ(code, ErrorCode::invalid_argument) << bad;
    EXPECT_THAT(message, Not(HasSubstr("secret-value")));
  }
  EXPECT_TRUE(credential_helper_not_found("credentials not found in native keychain\n"));
  EXPECT_FALSE(credential_helper_not_found("exit status 1"));
}

TEST(CredentialHelper, StoreInputReadsBackAsOutput) {
  const auto input = knast::registry_detail::credential_helper_input("ghcr.io", user_pass("u", "p\"ss"));
  EXPECT_EQ(nlohmann::json::parse(input), (nlohmann::json{{"ServerURL", "ghcr.io"}, {"Username", "u"}, {"Secret", "p\"ss"}}));
  EXPECT_EQ(parse_credential_helper_output(input), user_pass("u", "p\"ss"));
  Credentials token;
  token.identity_token = "refresh";
  const auto token_input = knast::registry_detail::credential_helper_input("https://index.docker.io/v1/", token);
  EXPECT_EQ(nlohmann::json::parse(token_input).at("Username"), "<token>");
  EXPECT_EQ(parse_credential_helper_output(token_input), token);
}

// ---- paths and files ---------------------------------------------------------------------

TEST(DockerConfig, DefaultPath) {
  EXPECT_EQ(default_docker_config_path("/etc/docker-cfg", "/home/u"), "/etc/docker-cfg/config.json");
  EXPECT_EQ(default_docker_config_path("", "/home/u"), "/home/u/.docker/config.json");
  EXPECT_EQ(default_docker_config_path(nullptr, "/home/u"), "/home/u/.docker/config.json");
  EXPECT_EQ(thrown([] { default_docker_config_path(nullptr, nullptr); }).first, ErrorCode::not_found);
}

class PrivateFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "knast-dockercfg.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(PrivateFile, WritesAtomicallyWithMode0600) {
  const auto path = dir_ / "sub" / "config.json";
  EXPECT_EQ(read_small_file(path), std::nullopt);
  write_private_file(path, "first");
  write_private_file(path, "second");
  EXPECT_EQ(read_small_file(path), "second");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(path.parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // No temporary file is left behind.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(path.parent_path())) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST_F(PrivateFile, OversizedFileIsRefused) {
  const auto path = dir_ / "big.json";
  std::ofstream(path) << std::string((1u << 20) + 1, ' ');
  EXPECT_EQ(thrown([&] { read_small_file(path); }).first, ErrorCode::limit_exceeded);
}

TEST_F(PrivateFile, UnwritableFolderFailsCleanly) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores folder permissions";
  const auto locked = dir_ / "locked";
  std::filesystem::create_directory(locked);
  std::filesystem::permissions(locked, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  EXPECT_EQ(thrown([&] { write_private_file(locked / "config.json", "x"); }).first, ErrorCode::permission_denied);
  std::filesystem::permissions(locked, std::filesystem::perms::owner_all);
}

}  // namespace
