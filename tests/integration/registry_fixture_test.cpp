// Self-test of registry_fixture.hpp and tests/fixtures: every server kind starts, answers as
// designed, takes a pushed image, and leaves no process or file behind.
#include "registry_fixture.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <memory>

namespace kt = knast::test;
using kt::Json;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;
using namespace std::chrono_literals;

namespace {

const std::string kManifestAccept =
    "Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// sha256 by OpenSSL directly, independent of knast's own digest code.
std::string sha256_of(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), md, &length, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 0xf];
  }
  return out;
}

std::string challenge_param(const std::string& challenge, const std::string& key) {
  for (const auto& [name, value] : kt::challenge_params(challenge)) {
    if (name == key) return value;
  }
  return {};
}

/// Stops @p process and checks it went as designed: the launcher exited 0 by itself once
/// its stdin closed, its servers and its whole process group are gone, and so are its files.
void expect_clean_stop(kt::FixtureProcess& process) {
  const auto servers = process.ready().value("pids", std::vector<pid_t>{});
  const auto scratch = process.scratch_dir();
  ASSERT_TRUE(std::filesystem::exists(scratch));
  const kt::LauncherExit& exit = process.stop();
  EXPECT_TRUE(exit.graceful);
  EXPECT_EQ(kt::describe_status(exit.status), "exit 0");
  EXPECT_THAT(exit.stragglers, IsEmpty());
  for (const pid_t pid : servers) EXPECT_FALSE(kt::process_running(pid)) << "server " << pid;
  EXPECT_THAT(kt::processes_in_group(process.pid()), IsEmpty());
  EXPECT_FALSE(std::filesystem::exists(scratch));
}

// -- the registry --------------------------------------------------------------------------

/// A pull-and-push token for @p scope from the token server, asked as @p credentials.
std::string fetch_token(const kt::RegistryServer& registry, const std::string& scope, const std::string& credentials) {
  const kt::HttpResponse response = kt::http({.url = registry.token_url() + "?service=" + registry.token_service() +
                                                     "&scope=" + scope,
                                              .ca_file = registry.ca_file(),
                                              .basic_auth = credentials});
  EXPECT_EQ(response.status, 200) << response.body << response.error;
  return response.status == 200 ? Json::parse(response.body).at("token").get<std::string>() : std::string();
}

/// A GET of @p path on @p registry with whatever credentials its auth kind takes.
kt::HttpResponse registry_get(const kt::RegistryServer& registry, const std::string& path, const std::string& repository) {
  kt::HttpRequest request{.url = registry.url() + path, .headers = {kManifestAccept}, .ca_file = registry.ca_file()};
  const std::string credentials = registry.user() + ":" + registry.password();
  if (registry.auth() == kt::RegistryAuth::basic) request.basic_auth = credentials;
  if (registry.auth() == kt::RegistryAuth::token) {
    request.headers.push_back("Authorization: Bearer " +
                              fetch_token(registry, "repository:" + repository + ":pull", credentials));
  }
  return kt::http(request);
}

/// The status of starting a blob upload to test/x: what push access is needed for.
long start_upload(const kt::RegistryServer& registry, const std::string& token) {
  return kt::http({.method = "POST", .url = registry.url() + "/v2/test/x/blobs/uploads/",
                   .headers = {"Authorization: Bearer " + token}})
      .status;
}

TEST(RegistryFixture, NoAuthRegistryAnswersAndStopsCleanly) {
  kt::RegistryServer registry;
  EXPECT_THAT(registry.url(), StartsWith("http://127.0.0.1:"));
  EXPECT_EQ(registry.url(), "http://" + registry.host());
  EXPECT_FALSE(registry.ca_file());

  const kt::HttpResponse v2 = kt::http_get(registry.url() + "/v2/");
  EXPECT_EQ(v2.status, 200) << v2.error;
  EXPECT_EQ(v2.header("Docker-Distribution-Api-Version"), "registry/2.0");
  expect_clean_stop(registry.process());
  EXPECT_NE(kt::http_get(registry.url() + "/v2/").error, "") << "still answering after stop()";
}

TEST(RegistryFixture, BasicAuthChallengesAndChecksThePassword) {
  kt::RegistryServer registry({.auth = kt::RegistryAuth::basic, .users = {"bob:hunter2"}});
  EXPECT_EQ(registry.user(), "bob");

  const kt::HttpResponse anonymous = kt::http_get(registry.url() + "/v2/");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_THAT(anonymous.header("WWW-Authenticate").value_or(""), StartsWith("Basic realm="));
  EXPECT_EQ(kt::http({.url = registry.url() + "/v2/", .basic_auth = "bob:hunter2"}).status, 200);
  EXPECT_EQ(kt::http({.url = registry.url() + "/v2/", .basic_auth = "bob:wrong"}).status, 401);
  expect_clean_stop(registry.process());
}

TEST(RegistryFixture, TokenFlowWorksByHand) {
  kt::RegistryServer registry({.auth = kt::RegistryAuth::token, .users = {"alice:secret", "reader:pw:pull"}});

  // The challenge names the token server; no scope on /v2/, one on a repository.
  const kt::HttpResponse v2 = kt::http_get(registry.url() + "/v2/");
  ASSERT_EQ(v2.status, 401);
  const std::string challenge = v2.header("WWW-Authenticate").value_or("");
  EXPECT_THAT(challenge, StartsWith("Bearer "));
  const std::string realm = challenge_param(challenge, "realm");
  EXPECT_EQ(realm, registry.token_url());
  EXPECT_EQ(challenge_param(challenge, "service"), registry.token_service());

  const std::string token = fetch_token(registry, "repository:test/x:pull,push", "alice:secret");
  const auto with = [&](const std::string& path, const std::string& bearer) {
    return kt::http({.url = registry.url() + path, .headers = {"Authorization: Bearer " + bearer}}).status;
  };
  EXPECT_EQ(with("/v2/", token), 200);
  EXPECT_EQ(with("/v2/test/x/tags/list", token), 404) << "authorized, and the repository does not exist yet";
  EXPECT_EQ(with("/v2/test/other/tags/list", token), 401) << "the token is for test/x only";
  EXPECT_EQ(with("/v2/", token + "x"), 401) << "a broken signature";

  // A wrong password is refused by the token server itself.
  EXPECT_EQ(kt::http({.url = realm + "?service=" + registry.token_service(), .basic_auth = "alice:nope"}).status, 401);

  // Anonymous tokens (anonymous "none") grant nothing; pull-only users get pull only.
  const Json anonymous = Json::parse(kt::http_get(realm + "?scope=repository:test/x:pull").body);
  EXPECT_EQ(with("/v2/test/x/tags/list", anonymous.at("token").get<std::string>()), 401);
  const Json reader = Json::parse(
      kt::http({.url = realm + "?scope=repository:test/x:pull,push", .basic_auth = "reader:pw"}).body);
  const std::string reader_token = reader.at("token").get<std::string>();
  EXPECT_EQ(with("/v2/test/x/tags/list", reader_token), 404);
  EXPECT_EQ(start_upload(registry, reader_token), 401);
  EXPECT_EQ(start_upload(registry, token), 202);

  // OAuth2: a password grant with access_type=offline hands out a refresh token, which in
  // turn buys access tokens.
  const kt::HttpResponse password_grant = kt::http(
      {.method = "POST", .url = realm, .headers = {"Content-Type: application/x-www-form-urlencoded"},
       .body = "grant_type=password&username=alice&password=secret&access_type=offline&client_id=knast"
               "&service=knast-test-registry&scope=repository:test/x:pull"});
  ASSERT_EQ(password_grant.status, 200) << password_grant.body;
  const std::string refresh_token = Json::parse(password_grant.body).at("refresh_token").get<std::string>();
  const kt::HttpResponse refresh_grant = kt::http(
      {.method = "POST", .url = realm, .body = "grant_type=refresh_token&refresh_token=" + refresh_token +
                                               "&service=knast-test-registry&scope=repository:test/x:pull"});
  ASSERT_EQ(refresh_grant.status, 200) << refresh_grant.body;
  const Json refreshed = Json::parse(refresh_grant.body);
  EXPECT_EQ(refreshed.at("expires_in"), 300);
  EXPECT_TRUE(refreshed.contains("issued_at"));
  EXPECT_EQ(with("/v2/test/x/tags/list", refreshed.at("access_token").get<std::string>()), 404);
  EXPECT_EQ(kt::http({.method = "POST", .url = realm, .body = "grant_type=refresh_token&refresh_token=bogus"}).status,
            401);
  EXPECT_EQ(kt::http({.method = "POST", .url = realm,
                      .body = "grant_type=password&username=alice&password=nope"}).status,
            401);

  // Every token request is on record, for tests that count them.
  const std::string token_base = realm.substr(0, realm.rfind('/'));
  const Json stats = Json::parse(kt::http_get(token_base + "/_stats").body);
  EXPECT_EQ(stats.at("token_requests").size(), 8u);
  expect_clean_stop(registry.process());
}

TEST(RegistryFixture, AnonymousPolicyOfTheTokenServer) {
  kt::RegistryServer pull({.auth = kt::RegistryAuth::token, .anonymous = "pull"});
  const kt::HttpResponse anonymous = kt::http_get(pull.token_url() + "?scope=repository:test/x:pull,push");
  ASSERT_EQ(anonymous.status, 200);
  const std::string token = Json::parse(anonymous.body).at("token").get<std::string>();
  EXPECT_EQ(kt::http({.url = pull.url() + "/v2/test/x/tags/list", .headers = {"Authorization: Bearer " + token}}).status,
            404)
      << "anonymous pull";
  EXPECT_EQ(start_upload(pull, token), 401) << "but no push";

  kt::RegistryServer deny({.auth = kt::RegistryAuth::token, .anonymous = "deny"});
  EXPECT_EQ(kt::http_get(deny.token_url() + "?scope=repository:test/x:pull").status, 401);
}

TEST(RegistryFixture, ShortLivedTokensExpireAtTheRegistryToo) {
  // exp rounds up to a whole second, so a 2 s token is taken for 2 to 3 s: at least 2 s
  // to use it on a slow machine, and gone 3.1 s after it was asked for.
  kt::RegistryServer registry({.auth = kt::RegistryAuth::token, .token_lifetime = 2, .backdate_exp = true});
  const auto asked = std::chrono::steady_clock::now();
  const std::string token = fetch_token(registry, "repository:test/x:pull", "alice:secret");
  const auto tags = [&] {
    return kt::http({.url = registry.url() + "/v2/test/x/tags/list", .headers = {"Authorization: Bearer " + token}})
        .status;
  };
  EXPECT_EQ(tags(), 404) << "still valid";
  std::this_thread::sleep_until(asked + 3100ms);
  EXPECT_EQ(tags(), 401) << "expired";
}

TEST(RegistryFixture, TlsRegistryIsTrustedOnlyWithTheFixtureCa) {
  kt::RegistryServer registry({.tls = true});
  ASSERT_TRUE(registry.ca_file());
  EXPECT_THAT(registry.url(), StartsWith("https://127.0.0.1:"));

  const kt::HttpResponse untrusted = kt::http_get(registry.url() + "/v2/");
  EXPECT_EQ(untrusted.status, 0);
  EXPECT_THAT(untrusted.error, Not(IsEmpty()));
  EXPECT_EQ(kt::http({.url = registry.url() + "/v2/", .ca_file = registry.ca_file()}).status, 200);
  const std::string port = registry.host().substr(registry.host().rfind(':'));
  EXPECT_EQ(kt::http({.url = "https://localhost" + port + "/v2/", .ca_file = registry.ca_file()}).status, 200)
      << "the certificate names localhost too";
  expect_clean_stop(registry.process());
}

TEST(RegistryFixture, DestructorLeavesNoProcessOrFileBehind) {
  pid_t group = 0, server = 0;
  std::filesystem::path scratch;
  {
    kt::RegistryServer registry;
    group = registry.process().pid();
    server = registry.ready().at("pids").at(0).get<pid_t>();
    scratch = registry.process().scratch_dir();
    ASSERT_THAT(kt::processes_in_group(group), ::testing::UnorderedElementsAre(group, server));
  }
  EXPECT_THAT(kt::processes_in_group(group), IsEmpty());
  EXPECT_FALSE(kt::process_running(server));
  EXPECT_FALSE(std::filesystem::exists(scratch));
}

TEST(RegistryFixture, SigtermStopsTheLauncherCleanly) {
  kt::RegistryServer registry;
  const pid_t server = registry.ready().at("pids").at(0).get<pid_t>();
  ::kill(registry.process().pid(), SIGTERM);
  EXPECT_TRUE(kt::wait_for([&] { return !kt::process_running(server); }, 10s));
  const kt::LauncherExit& exit = registry.process().stop();
  EXPECT_EQ(kt::describe_status(exit.status), "exit 0");
  EXPECT_THAT(exit.stragglers, IsEmpty());
}

TEST(RegistryFixture, LauncherKilledOutrightTakesItsServersAlong) {
  kt::RegistryServer registry;
  const pid_t server = registry.ready().at("pids").at(0).get<pid_t>();
  ASSERT_TRUE(kt::process_running(server));
  ::kill(registry.process().pid(), SIGKILL);
  EXPECT_TRUE(kt::wait_for([&] { return !kt::process_running(server); }, 10s)) << "PR_SET_PDEATHSIG";
  const kt::LauncherExit& exit = registry.process().stop();
  EXPECT_EQ(kt::describe_status(exit.status), "signal 9");
  EXPECT_THAT(exit.stragglers, IsEmpty());
}

TEST(RegistryFixture, FailingLauncherReportsItsLog) {
  try {
    kt::RegistryServer registry({.extra_args = {"--no-such-option"}});
    ADD_FAILURE() << "started";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("stopped before it was ready"));
    EXPECT_THAT(e.what(), HasSubstr("--no-such-option"));
  }
}

// -- pushing images -------------------------------------------------------------------------

struct PushCase {
  const char* name;
  kt::RegistryOptions options;
};

class RegistryFixturePush : public ::testing::TestWithParam<PushCase> {
 protected:
  kt::TempDir scratch_{"knast-image-"};
};

TEST_P(RegistryFixturePush, PushedImageReadsBackByteForByte) {
  const kt::TestImage image = kt::make_image(scratch_.path() / "image");
  ASSERT_EQ(image.layers.size(), 2u);
  kt::RegistryServer registry(GetParam().options);
  EXPECT_EQ(kt::push_image(image, registry, "test/busybox:1.0"), image.digest);

  const kt::HttpResponse manifest = registry_get(registry, "/v2/test/busybox/manifests/1.0", "test/busybox");
  ASSERT_EQ(manifest.status, 200) << manifest.body;
  EXPECT_EQ(sha256_of(manifest.body), image.digest);
  EXPECT_EQ(manifest.header("Docker-Content-Digest"), image.digest);
  EXPECT_EQ(manifest.header("Content-Type"), image.media_type);
  for (const std::string& layer : image.layers) {
    const kt::HttpResponse blob = registry_get(registry, "/v2/test/busybox/blobs/" + layer, "test/busybox");
    EXPECT_EQ(sha256_of(blob.body), layer);
  }
}

INSTANTIATE_TEST_SUITE_P(RegistryFixture, RegistryFixturePush,
                         ::testing::Values(PushCase{"none", {}},
                                           PushCase{"basic", {.auth = kt::RegistryAuth::basic}},
                                           PushCase{"token", {.auth = kt::RegistryAuth::token}},
                                           PushCase{"token_tls", {.auth = kt::RegistryAuth::token, .tls = true}}),
                         [](const auto& test_case) { return std::string(test_case.param.name); });

TEST(RegistryFixture, MultiPlatformIndexPushesWithAllItsImages) {
  kt::TempDir scratch("knast-image-");
  const kt::TestImage image = kt::make_multiplatform_image(scratch.path() / "image");
  EXPECT_EQ(image.media_type, "application/vnd.oci.image.index.v1+json");
  kt::RegistryServer registry({.auth = kt::RegistryAuth::basic});
  EXPECT_EQ(kt::push_image(image, registry, "test/multi:latest"), image.digest);

  const kt::HttpResponse index = registry_get(registry, "/v2/test/multi/manifests/latest", "test/multi");
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(sha256_of(index.body), image.digest);
  std::vector<std::string> architectures;
  std::vector<std::vector<std::string>> layers;
  const Json index_document = Json::parse(index.body);
  for (const Json& entry : index_document.at("manifests")) {
    architectures.push_back(entry.at("platform").at("architecture").get<std::string>());
    const std::string digest = entry.at("digest").get<std::string>();
    const kt::HttpResponse child = registry_get(registry, "/v2/test/multi/manifests/" + digest, "test/multi");
    ASSERT_EQ(child.status, 200);
    EXPECT_EQ(sha256_of(child.body), digest);
    const Json child_document = Json::parse(child.body);
    std::vector<std::string> child_layers;
    for (const Json& layer : child_document.at("layers")) child_layers.push_back(layer.at("digest"));
    layers.push_back(child_layers);
  }
  EXPECT_THAT(architectures, ::testing::ElementsAre("amd64", "arm64"));
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0], image.layers);
  EXPECT_EQ(layers[1], image.layers) << "the platforms share their layers";
}

TEST(RegistryFixture, DockerSchema2PushConvertsTheManifests) {
  kt::TempDir scratch("knast-image-");
  const kt::TestImage image = kt::make_multiplatform_image(scratch.path() / "image");
  kt::RegistryServer registry;
  const std::string digest = kt::push_image(image, registry, "test/docker:latest", kt::PushFormat::docker_schema2);
  EXPECT_NE(digest, image.digest);

  const kt::HttpResponse list = registry_get(registry, "/v2/test/docker/manifests/latest", "test/docker");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(sha256_of(list.body), digest);
  EXPECT_EQ(list.header("Content-Type"), "application/vnd.docker.distribution.manifest.list.v2+json");
  const Json list_document = Json::parse(list.body);
  const std::string child = list_document.at("manifests").at(0).at("digest");
  const Json manifest = Json::parse(registry_get(registry, "/v2/test/docker/manifests/" + child, "test/docker").body);
  EXPECT_EQ(manifest.at("mediaType"), "application/vnd.docker.distribution.manifest.v2+json");
  EXPECT_EQ(manifest.at("layers").at(0).at("digest"), image.layers.at(0)) << "the layers themselves stay";
}

// -- the fault server ------------------------------------------------------------------------

/// One fault server for the suite: the repository name picks the faults.
class RegistryFixtureFaults : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<kt::FaultServer>(); }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { server_->reset(); }

  static kt::FaultServer& server() { return *server_; }
  static std::string blob(const std::string& faults, const std::string& digest) {
    return server().url() + "/v2/" + faults + "/image/blobs/" + digest;
  }
  static std::string manifest(const std::string& faults, const std::string& ref = "latest") {
    return server().url() + "/v2/" + faults + "/image/manifests/" + ref;
  }
  static std::string big_layer() { return server().layers().at(0); }
  static std::size_t size_of(const std::string& digest) {
    return server().ready().at("blobs").at(digest).get<std::size_t>();
  }
  /// The fault the server says it applied to its requests, in order.
  static std::vector<std::string> applied_faults() {
    std::vector<std::string> faults;
    const Json stats = server().stats();
    for (const Json& request : stats.at("requests")) {
      faults.push_back(request.at("fault").is_null() ? "-" : request.at("fault").get<std::string>());
    }
    return faults;
  }

 private:
  static std::unique_ptr<kt::FaultServer> server_;
};

std::unique_ptr<kt::FaultServer> RegistryFixtureFaults::server_;

TEST_F(RegistryFixtureFaults, CleanRepositoryServesTheImage) {
  EXPECT_EQ(kt::http_get(server().url() + "/v2/").status, 200);
  const kt::HttpResponse m = kt::http_get(manifest("test"));
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(sha256_of(m.body), server().digest());
  EXPECT_EQ(m.header("Docker-Content-Digest"), server().digest());
  EXPECT_EQ(kt::http_get(manifest("test", server().digest())).body, m.body);
  for (const std::string& layer : server().layers()) {
    const kt::HttpResponse b = kt::http_get(blob("test", layer));
    EXPECT_EQ(b.status, 200);
    EXPECT_EQ(sha256_of(b.body), layer);
  }
  const kt::HttpResponse head = kt::http({.method = "HEAD", .url = blob("test", big_layer())});
  EXPECT_EQ(head.header("Content-Length"), std::to_string(size_of(big_layer())));
  EXPECT_EQ(kt::http_get(manifest("test", "nope")).status, 404);
  EXPECT_EQ(kt::http_get(blob("test", "sha256:" + std::string(64, '0'))).status, 404);
  EXPECT_THAT(applied_faults(), ::testing::Each("-"));
}

TEST_F(RegistryFixtureFaults, RangeRequestsGetPartialContent) {
  const kt::HttpResponse tail = kt::http({.url = blob("test", big_layer()), .headers = {"Range: bytes=100-"}});
  EXPECT_EQ(tail.status, 206);
  EXPECT_EQ(tail.body.size(), size_of(big_layer()) - 100);
  EXPECT_EQ(tail.header("Content-Range"),
            "bytes 100-" + std::to_string(size_of(big_layer()) - 1) + "/" + std::to_string(size_of(big_layer())));
  EXPECT_EQ(kt::http({.url = blob("test", big_layer()), .headers = {"Range: bytes=99999999-"}}).status, 416);
  EXPECT_EQ(kt::http({.url = blob("no-range", big_layer()), .headers = {"Range: bytes=100-"}}).status, 200);
}

TEST_F(RegistryFixtureFaults, DropBlobHangsUpOnceThenResumesWithRange) {
  const kt::HttpResponse dropped = kt::http_get(blob("drop-blob", big_layer()));
  EXPECT_THAT(dropped.error, Not(IsEmpty()));
  ASSERT_LT(dropped.body.size(), size_of(big_layer()));
  ASSERT_GT(dropped.body.size(), 0u);
  const kt::HttpResponse rest = kt::http({.url = blob("drop-blob", big_layer()),
                                          .headers = {"Range: bytes=" + std::to_string(dropped.body.size()) + "-"}});
  EXPECT_EQ(rest.status, 206) << rest.error;
  EXPECT_EQ(sha256_of(dropped.body + rest.body), big_layer());
  EXPECT_THAT(applied_faults(), ::testing::ElementsAre("drop-blob", "-"));
}

TEST_F(RegistryFixtureFaults, BodyFaultsBreakTheDigest) {
  const kt::HttpResponse corrupt = kt::http_get(blob("corrupt-blob", big_layer()));
  EXPECT_EQ(corrupt.status, 200);
  EXPECT_EQ(corrupt.body.size(), size_of(big_layer()));
  EXPECT_NE(sha256_of(corrupt.body), big_layer());

  const kt::HttpResponse over = kt::http_get(blob("length-over", big_layer()));
  EXPECT_THAT(over.error, Not(IsEmpty())) << "fewer bytes than Content-Length";
  EXPECT_EQ(over.header("Content-Length"), std::to_string(size_of(big_layer()) + 100));

  const kt::HttpResponse under = kt::http_get(blob("length-under", big_layer()));
  EXPECT_EQ(under.body.size(), size_of(big_layer()) / 2) << "the client reads what Content-Length says";
  EXPECT_NE(sha256_of(under.body), big_layer());
}

TEST_F(RegistryFixtureFaults, StatusFaultsHitOnceThenStepAside) {
  const kt::HttpResponse busy = kt::http_get(manifest("429"));
  EXPECT_EQ(busy.status, 429);
  EXPECT_EQ(busy.header("Retry-After"), "1");
  EXPECT_EQ(kt::http_get(manifest("429")).status, 200);
  EXPECT_EQ(kt::http_get(blob("500", big_layer())).status, 500);
  EXPECT_EQ(kt::http_get(blob("500", big_layer())).status, 200);
  // Per method and path: a HEAD is hit once of its own.
  EXPECT_EQ(kt::http({.method = "HEAD", .url = blob("500", big_layer())}).status, 500);
  server().reset();
  EXPECT_EQ(kt::http_get(manifest("429")).status, 429) << "reset() re-arms";
}

TEST_F(RegistryFixtureFaults, RedirectGoesToABlobStoreThatRecordsAuthorization) {
  const std::string layer = server().layers().at(1);
  const kt::HttpResponse redirect = kt::http({.url = blob("redirect", layer), .headers = {"Authorization: Bearer abc"}});
  EXPECT_EQ(redirect.status, 307);
  const std::string location = redirect.header("Location").value_or("");
  EXPECT_THAT(location, StartsWith(server().blob_url() + "/blobs/" + layer));
  EXPECT_THAT(server().blob_url(), Not(HasSubstr(server().host())));

  EXPECT_EQ(sha256_of(kt::http({.url = location, .headers = {"Authorization: Bearer abc"}}).body), layer);
  EXPECT_EQ(sha256_of(kt::http_get(location).body), layer);
  std::vector<Json> at_store;
  const Json stats = server().stats();
  for (const Json& request : stats.at("requests")) {
    if (request.at("listener") == "blobstore") at_store.push_back(request.at("authorization"));
  }
  EXPECT_THAT(at_store, ::testing::ElementsAre(Json("Bearer abc"), Json(nullptr)));
}

TEST_F(RegistryFixtureFaults, BasicAuthModeWantsTheCredentials) {
  const kt::HttpResponse challenge = kt::http_get(manifest("auth-basic"));
  EXPECT_EQ(challenge.status, 401);
  EXPECT_THAT(challenge.header("WWW-Authenticate").value_or(""), StartsWith("Basic realm="));
  const std::string good = server().user() + ":" + server().password();
  EXPECT_EQ(kt::http({.url = manifest("auth-basic"), .basic_auth = good}).status, 200);
  EXPECT_EQ(kt::http({.url = manifest("auth-basic"), .basic_auth = server().user() + ":wrong"}).status, 401);
}

TEST_F(RegistryFixtureFaults, BearerAuthModeIssuesAndChecksTokens) {
  const kt::HttpResponse challenge = kt::http_get(manifest("auth-bearer"));
  ASSERT_EQ(challenge.status, 401);
  const std::string header = challenge.header("WWW-Authenticate").value_or("");
  EXPECT_EQ(challenge_param(header, "realm"), server().token_url());
  EXPECT_EQ(challenge_param(header, "scope"), "repository:auth-bearer/image:pull");

  const std::string token_request = challenge_param(header, "realm") + "?service=" +
                                    challenge_param(header, "service") + "&scope=" + challenge_param(header, "scope");
  const std::string good = server().user() + ":" + server().password();
  const Json token = Json::parse(kt::http({.url = token_request, .basic_auth = good}).body);
  const std::string bearer = "Authorization: Bearer " + token.at("token").get<std::string>();
  EXPECT_EQ(kt::http({.url = manifest("auth-bearer"), .headers = {bearer}}).status, 200);

  const kt::HttpResponse other = kt::http({.url = server().url() + "/v2/auth-bearer/other/manifests/latest",
                                           .headers = {bearer}});
  EXPECT_EQ(other.status, 401);
  EXPECT_EQ(challenge_param(other.header("WWW-Authenticate").value_or(""), "error"), "insufficient_scope");
  EXPECT_EQ(kt::http({.url = token_request, .basic_auth = server().user() + ":wrong"}).status, 401);
}

TEST_F(RegistryFixtureFaults, ManifestFaults) {
  const kt::HttpResponse big = kt::http_get(manifest("big-manifest"));
  EXPECT_EQ(big.status, 200);
  EXPECT_GT(big.body.size(), 4u * 1024 * 1024);
  EXPECT_EQ(sha256_of(big.body), server().ready().at("big_manifest"));
  EXPECT_TRUE(Json::accept(big.body));

  const kt::HttpResponse bad = kt::http_get(manifest("bad-json"));
  EXPECT_EQ(bad.status, 200);
  EXPECT_FALSE(Json::accept(bad.body));
  EXPECT_EQ(bad.header("Docker-Content-Digest"), sha256_of(bad.body)) << "malformed, not corrupted";

  const kt::HttpResponse corrupt = kt::http_get(manifest("corrupt-manifest"));
  EXPECT_EQ(corrupt.header("Docker-Content-Digest"), server().digest());
  EXPECT_NE(sha256_of(corrupt.body), server().digest());
}

TEST(RegistryFixture, FaultServerServesALayoutWithRunWideFaults) {
  kt::TempDir scratch("knast-image-");
  const kt::TestImage image = kt::make_multiplatform_image(scratch.path() / "image");
  kt::FaultServer server({.faults = {"500"}, .times = 2, .layout = image.layout});
  const std::string url = server.url() + "/v2/any/name/manifests/" + image.tag;
  EXPECT_EQ(kt::http_get(url).status, 500);
  EXPECT_EQ(kt::http_get(url).status, 500);
  const kt::HttpResponse index = kt::http_get(url);
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(sha256_of(index.body), image.digest);
  EXPECT_EQ(index.header("Content-Type"), image.media_type);
  const std::string child = image.description.at("manifests").at(1).at("digest");
  const std::string child_url = server.url() + "/v2/any/name/manifests/" + child;
  EXPECT_EQ(kt::http_get(child_url).status, 500);
  EXPECT_EQ(kt::http_get(child_url).status, 500);
  EXPECT_EQ(sha256_of(kt::http_get(child_url).body), child);
  expect_clean_stop(server.process());
}

}  // namespace
