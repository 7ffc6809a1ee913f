// Authentication and transport against the real registry: htpasswd Basic, Bearer tokens
// from a token server (anonymous, with credentials, OAuth2 refresh tokens, expiry),
// credentials from docker config.json and from credential helpers, login and logout,
// TLS with a private CA, and tag and catalog listings with pagination.
#include "registry_test_support.hpp"

#include "registry/base64.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <memory>

namespace {

using namespace registry_test;
using knast::Credentials;
using knast::Registry;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using namespace std::chrono_literals;

/// A registry of @p auth kind holding test/image:1.0.
struct AuthRegistry {
  explicit AuthRegistry(kt::RegistryOptions options)
      : server(options), image(kt::make_image(images.path() / "image", kt::Json{{"tag", "1.0"}})) {
    kt::push_image(image, server, "test/image:1.0");
  }
  Reference name(const std::string& rest = "test/image:1.0") const { return ref(server.host(), rest); }
  Credentials good() const { return Credentials{server.user(), server.password(), ""}; }
  Credentials bad() const { return Credentials{server.user(), "not-the-password", ""}; }
  /// The token server's log of token requests.
  kt::Json token_requests() const {
    const std::string base = server.token_url().substr(0, server.token_url().rfind('/'));
    return kt::Json::parse(kt::http_get(base + "/_stats").body).at("token_requests");
  }

  kt::TempDir images{"knast-auth-images-"};
  kt::RegistryServer server;
  kt::TestImage image;
};

knast::RegistryOptions with(const Credentials& credentials, const std::string& registry) {
  knast::RegistryOptions options = fast_options();
  options.credentials[registry] = credentials;
  return options;
}

/// A docker config.json in a scratch folder.
struct DockerConfig {
  kt::TempDir dir{"knast-docker-config-"};
  std::filesystem::path path() const { return dir.path() / "config.json"; }
  void write(const kt::Json& doc) const { std::ofstream(path()) << doc.dump(); }
  kt::Json read() const { return kt::Json::parse(kt::read_file(path())); }
  knast::RegistryOptions options() const {
    knast::RegistryOptions o = fast_options();
    o.use_docker_config = true;
    o.docker_config = path();
    return o;
  }
};

/// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

/// A `docker-credential-NAME` script in a folder put first on PATH for the scope.
class CredentialHelper {
 public:
  CredentialHelper(const std::string& name, const std::string& body)
      : path_guard_("PATH", dir_.path().string() + ":" + std::getenv("PATH")) {
    const auto script = dir_.path() / ("docker-credential-" + name);
    std::ofstream(script) << "#!/bin/sh\n" << body;
    ::chmod(script.c_str(), 0755);
  }
  std::filesystem::path log() const { return dir_.path() / "log"; }
  std::string dir() const { return dir_.path().string(); }

 private:
  kt::TempDir dir_{"knast-cred-helper-"};
  ScopedEnv path_guard_;
};

// ---- Basic ---------------------------------------------------------------------------

class RegistryBasicAuth : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { registry_ = std::make_unique<AuthRegistry>(kt::RegistryOptions{.auth = kt::RegistryAuth::basic}); }
  static void TearDownTestSuite() { registry_.reset(); }
  static AuthRegistry& r() { return *registry_; }
  static std::unique_ptr<AuthRegistry> registry_;
};
std::unique_ptr<AuthRegistry> RegistryBasicAuth::registry_;

TEST_F(RegistryBasicAuth, ExplicitCredentials) {
  Registry registry(with(r().good(), r().server.host()));
  ScratchStore s;
  registry.pull(r().name(), s.store);
  EXPECT_TRUE(s.store.find(r().name()));
}

TEST_F(RegistryBasicAuth, NoOrWrongCredentials) {
  {
    Registry registry(fast_options());
    const Error e = error_from([&] { registry.resolve(r().name()); });
    EXPECT_EQ(e.kind(), ErrorCode::auth);
    EXPECT_THAT(e.what(), HasSubstr(r().server.host() + " requires authentication"));
  }
  {
    Registry registry(with(r().bad(), r().server.host()));
    const Error e = error_from([&] { registry.resolve(r().name()); });
    EXPECT_EQ(e.kind(), ErrorCode::auth);
    EXPECT_THAT(e.what(), HasSubstr("refused the credentials from explicit"));
    EXPECT_THAT(e.what(), Not(HasSubstr("not-the-password")));
  }
}

TEST_F(RegistryBasicAuth, DockerConfigAuthField) {
  DockerConfig config;
  config.write({{"auths",
                 {{"http://" + r().server.host() + "/v2/",
                   {{"auth", knast::registry_detail::base64_encode(r().server.user() + ":" + r().server.password())}}}}}});
  Registry registry(config.options());
  EXPECT_EQ(registry.resolve(r().name()).descriptor.digest.string(), r().image.digest);
}

TEST_F(RegistryBasicAuth, DockerConfigUsernamePassword) {
  DockerConfig config;
  config.write({{"auths", {{r().server.host(), {{"username", r().server.user()}, {"password", r().server.password()}}}}}});
  Registry registry(config.options());
  EXPECT_EQ(registry.resolve(r().name()).descriptor.digest.string(), r().image.digest);
}

TEST_F(RegistryBasicAuth, DockerConfigFromTheEnvironment) {
  DockerConfig config;
  config.write({{"auths", {{r().server.host(), {{"username", r().server.user()}, {"password", r().server.password()}}}}}});
  const ScopedEnv env("DOCKER_CONFIG", config.dir.path().string());
  knast::RegistryOptions options = fast_options();
  options.use_docker_config = true;
  Registry registry(options);
  EXPECT_EQ(registry.resolve(r().name()).descriptor.digest.string(), r().image.digest);
}

TEST_F(RegistryBasicAuth, CredentialHelperFromCredHelpers) {
  const CredentialHelper helper("knasttest", "read server\necho \"$server\" >> \"$(dirname \"$0\")/log\"\n"
                                             "printf '{\"ServerURL\":\"%s\",\"Username\":\"" + r().server.user() +
                                                 "\",\"Secret\":\"" + r().server.password() + "\"}' \"$server\"\n");
  DockerConfig config;
  config.write({{"credHelpers", {{r().server.host(), "knasttest"}}}, {"credsStore", "not-installed"}});
  Registry registry(config.options());
  EXPECT_EQ(registry.resolve(r().name()).descriptor.digest.string(), r().image.digest);
  EXPECT_EQ(kt::read_file(helper.log()), r().server.host() + "\n");
}

TEST_F(RegistryBasicAuth, CredentialHelperThatHasNothingFallsBackToAuths) {
  const CredentialHelper helper("knastempty", "echo 'credentials not found in native keychain'\nexit 1\n");
  DockerConfig config;
  config.write({{"credsStore", "knastempty"},
                {"auths", {{r().server.host(), {{"username", r().server.user()}, {"password", r().server.password()}}}}}});
  Registry registry(config.options());
  EXPECT_EQ(registry.resolve(r().name()).descriptor.digest.string(), r().image.digest);
}

TEST_F(RegistryBasicAuth, FailingCredentialHelperIsAnAuthError) {
  const CredentialHelper helper("knastbroken", "echo 'keychain locked' >&2\nexit 3\n");
  DockerConfig config;
  config.write({{"credsStore", "knastbroken"}});
  Registry registry(config.options());
  const Error e = error_from([&] { registry.resolve(r().name()); });
  EXPECT_EQ(e.kind(), ErrorCode::auth);
  EXPECT_THAT(e.what(), HasSubstr("docker-credential-knastbroken get failed (exit status 3): \"keychain locked\""));
}

TEST_F(RegistryBasicAuth, HungCredentialHelperIsKilled) {
  const CredentialHelper helper("knasthang", "exec sleep 30\n");
  DockerConfig config;
  config.write({{"credsStore", "knasthang"}});
  knast::RegistryOptions options = config.options();
  options.credential_helper_timeout = 300ms;
  Registry registry(options);
  const auto start = std::chrono::steady_clock::now();
  const Error e = error_from([&] { registry.resolve(r().name()); });
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(e.kind(), ErrorCode::auth);
  EXPECT_THAT(e.what(), HasSubstr("did not finish within 300 ms"));
}

TEST_F(RegistryBasicAuth, MissingCredentialHelperIsNamedInTheRefusal) {
  DockerConfig config;
  config.write({{"credsStore", "knast-no-such-helper"}});
  Registry registry(config.options());
  const Error e = error_from([&] { registry.resolve(r().name()); });
  EXPECT_EQ(e.kind(), ErrorCode::auth);
  EXPECT_THAT(e.what(), HasSubstr("docker-credential-knast-no-such-helper is not installed"));
}

TEST_F(RegistryBasicAuth, LoginChecksWritesAndLogoutRemoves) {
  DockerConfig config;
  config.write({{"psFormat", "table"}});
  {
    Registry registry(config.options());
    const Error e = error_from([&] { registry.login(r().server.host(), r().bad()); });
    EXPECT_EQ(e.kind(), ErrorCode::auth);
    EXPECT_THAT(e.what(), StartsWith("login to " + r().server.host()));
    EXPECT_EQ(config.read(), (kt::Json{{"psFormat", "table"}})) << "untouched after a refusal";

    registry.login(r().server.host(), r().good());
    struct stat st {};
    ASSERT_EQ(::stat(config.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    const kt::Json written = config.read();
    EXPECT_EQ(written.at("psFormat"), "table");
    EXPECT_EQ(written.at("auths").at(r().server.host()).at("auth"),
              knast::registry_detail::base64_encode(r().server.user() + ":" + r().server.password()));
    // The same client uses them at once.
    EXPECT_EQ(registry.resolve(r().name()).descriptor.digest.string(), r().image.digest);
  }
  {
    Registry registry(config.options());  // a new client reads them from the file
    EXPECT_EQ(registry.resolve(r().name()).descriptor.digest.string(), r().image.digest);
    EXPECT_TRUE(registry.logout(r().server.host()));
    EXPECT_FALSE(registry.logout(r().server.host()));
    EXPECT_FALSE(config.read().at("auths").contains(r().server.host()));
    EXPECT_EQ(error_from([&] { registry.resolve(r().name()); }).kind(), ErrorCode::auth);
  }
}

/// A credential helper that keeps one entry in a file beside it ("kept") and logs every
/// action it is asked for, with the server it got.
const char* const keeping_helper =
    "dir=$(dirname \"$0\")\n"
    "case \"$1\" in\n"
    "  store) cat > \"$dir/kept\"; echo store >> \"$dir/log\" ;;\n"
    "  get|erase) read server; echo \"$1 $server\" >> \"$dir/log\"\n"
    "    if [ ! -f \"$dir/kept\" ]; then echo 'credentials not found in native keychain'; exit 1; fi\n"
    "    if [ \"$1\" = get ]; then cat \"$dir/kept\"; else rm \"$dir/kept\"; fi ;;\n"
    "  *) exit 2 ;;\n"
    "esac\n";

TEST_F(RegistryBasicAuth, LoginAndLogoutGoThroughTheCredentialHelper) {
  const std::string host = r().server.host();
  const kt::Json earlier_login = {{"auth", knast::registry_detail::base64_encode("old:secret")}};
  // credsStore for every registry; credHelpers for this one (over a credsStore that
  // would not do).
  for (const kt::Json& helper_config :
       {kt::Json{{"credsStore", "knastkeep"}},
        kt::Json{{"credHelpers", {{host, "knastkeep"}}}, {"credsStore", "knast-no-such-helper"}}}) {
    SCOPED_TRACE(helper_config.dump());
    const CredentialHelper helper("knastkeep", keeping_helper);
    const std::filesystem::path kept = std::filesystem::path(helper.dir()) / "kept";
    DockerConfig config;
    kt::Json doc = helper_config;
    doc["auths"] = {{host, earlier_login}};
    config.write(doc);
    {
      Registry registry(config.options());
      registry.login(host, r().good());
      EXPECT_EQ(kt::Json::parse(kt::read_file(kept)),
                (kt::Json{{"ServerURL", host}, {"Username", r().server.user()}, {"Secret", r().server.password()}}));
      // The file keeps an empty entry, as docker leaves it; the earlier secret is gone.
      EXPECT_EQ(config.read().at("auths"), (kt::Json{{host, kt::Json::object()}}));
      EXPECT_EQ(registry.resolve(r().name()).descriptor.digest.string(), r().image.digest);
    }
    {
      Registry registry(config.options());  // a new client asks the helper
      EXPECT_EQ(registry.resolve(r().name()).descriptor.digest.string(), r().image.digest);
      EXPECT_TRUE(registry.logout(host));
      EXPECT_FALSE(std::filesystem::exists(kept));
      EXPECT_FALSE(config.read().at("auths").contains(host));
      EXPECT_FALSE(registry.logout(host));
    }
    EXPECT_EQ(kt::read_file(helper.log()), "store\nget " + host + "\nerase " + host + "\nerase " + host + "\n");
  }
}

TEST_F(RegistryBasicAuth, LoginThroughAFailingHelperStoresNothing) {
  const CredentialHelper helper("knastbroken", "echo 'keychain locked' >&2\nexit 3\n");
  DockerConfig config;
  config.write({{"credsStore", "knastbroken"}});
  Registry registry(config.options());
  const Error e = error_from([&] { registry.login(r().server.host(), r().good()); });
  EXPECT_EQ(e.kind(), ErrorCode::auth);
  EXPECT_THAT(e.what(), HasSubstr("docker-credential-knastbroken store failed (exit status 3): \"keychain locked\""));
  EXPECT_EQ(config.read(), (kt::Json{{"credsStore", "knastbroken"}}));
}

TEST_F(RegistryBasicAuth, LoginRefusesNonsense) {
  DockerConfig config;
  Registry registry(config.options());
  EXPECT_EQ(error_from([&] { registry.login("not a registry", r().good()); }).kind(), ErrorCode::invalid_argument);
  EXPECT_EQ(error_from([&] { registry.login(r().server.host(), Credentials{}); }).kind(), ErrorCode::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(config.path()));
}

// ---- Bearer tokens -------------------------------------------------------------------

TEST(RegistryTokenAuth, AnonymousDeniedThenCredentialsWork) {
  AuthRegistry r({.auth = kt::RegistryAuth::token, .anonymous = "deny"});
  {
    Registry registry(fast_options());
    const Error e = error_from([&] { registry.resolve(r.name()); });
    EXPECT_EQ(e.kind(), ErrorCode::auth);
    EXPECT_THAT(e.what(), HasSubstr("refused anonymous access"));
  }
  Registry registry(with(r.good(), r.server.host()));
  ScratchStore s;
  registry.pull(r.name(), s.store);
  EXPECT_TRUE(s.store.find(r.name()));
  // One token for the repository's pull scope serves the manifest and every blob.
  std::size_t for_pull = 0;
  for (const auto& request : r.token_requests())
    if (request.at("scopes") == kt::Json::array({"repository:test/image:pull"}) && request.at("status") == 200) ++for_pull;
  EXPECT_EQ(for_pull, 1u);
}

TEST(RegistryTokenAuth, AnonymousPullWhereAllowed) {
  AuthRegistry r({.auth = kt::RegistryAuth::token, .anonymous = "pull"});
  Registry registry(fast_options());
  EXPECT_EQ(registry.resolve(r.name()).descriptor.digest.string(), r.image.digest);
  const auto requests = r.token_requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_TRUE(requests.back().at("authorization").is_null());
}

TEST(RegistryTokenAuth, WrongPasswordIsRefusedByTheTokenServer) {
  AuthRegistry r({.auth = kt::RegistryAuth::token});
  Registry registry(with(r.bad(), r.server.host()));
  const Error e = error_from([&] { registry.resolve(r.name()); });
  EXPECT_EQ(e.kind(), ErrorCode::auth);
  EXPECT_THAT(e.what(), HasSubstr("token server http://127.0.0.1"));
  EXPECT_THAT(e.what(), HasSubstr("refused the credentials from explicit"));
}

TEST(RegistryTokenAuth, ExpiredTokenIsRenewedOnA401) {
  AuthRegistry r({.auth = kt::RegistryAuth::token, .token_lifetime = 2, .backdate_exp = true});
  Registry registry(with(r.good(), r.server.host()));
  registry.resolve(r.name());
  std::this_thread::sleep_for(3100ms);  // the registry now refuses the cached token
  EXPECT_EQ(registry.resolve(r.name()).descriptor.digest.string(), r.image.digest);
  std::size_t issued = 0;  // for knast's pulls (skopeo's push asked for pull,push)
  for (const auto& request : r.token_requests())
    if (request.at("status") == 200 && request.at("scopes") == kt::Json::array({"repository:test/image:pull"})) ++issued;
  EXPECT_EQ(issued, 2u) << r.token_requests().dump();
}

TEST(RegistryTokenAuth, IdentityTokenUsesTheRefreshTokenGrant) {
  AuthRegistry r({.auth = kt::RegistryAuth::token, .anonymous = "deny"});
  const kt::HttpResponse offline = kt::http({.url = r.server.token_url() + "?service=" + r.server.token_service() +
                                                    "&offline_token=true",
                                             .basic_auth = r.server.user() + ":" + r.server.password()});
  ASSERT_EQ(offline.status, 200) << offline.body;
  const std::string refresh = kt::Json::parse(offline.body).at("refresh_token").get<std::string>();
  DockerConfig config;
  config.write({{"auths", {{r.server.host(), {{"identitytoken", refresh}}}}}});
  Registry registry(config.options());
  EXPECT_EQ(registry.resolve(r.name()).descriptor.digest.string(), r.image.digest);
  const auto requests = r.token_requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests.back().at("method"), "POST");
  EXPECT_TRUE(requests.back().at("authorization").is_null()) << "the refresh token is the credential";
}

TEST(RegistryTokenAuth, LoginValidatesAgainstTheTokenServer) {
  AuthRegistry r({.auth = kt::RegistryAuth::token, .anonymous = "deny"});
  DockerConfig config;
  Registry registry(config.options());
  EXPECT_EQ(error_from([&] { registry.login(r.server.host(), r.bad()); }).kind(), ErrorCode::auth);
  EXPECT_FALSE(std::filesystem::exists(config.path()));
  registry.login(r.server.host(), r.good());
  EXPECT_EQ(registry.resolve(r.name()).descriptor.digest.string(), r.image.digest);
}

// ---- TLS -----------------------------------------------------------------------------

TEST(RegistryTls, TrustedWithTheCaFileOnly) {
  AuthRegistry r({.tls = true});
  {
    Registry registry(fast_options());
    const Error e = error_from([&] { registry.resolve(r.name()); });
    EXPECT_EQ(e.kind(), ErrorCode::network);
    EXPECT_THAT(e.what(), HasSubstr("certificate"));
  }
  knast::RegistryOptions options = fast_options();
  options.ca_file = r.server.ca_file();
  Registry registry(options);
  ScratchStore s;
  registry.pull(r.name(), s.store);
  EXPECT_TRUE(s.store.find(r.name()));
}

TEST(RegistryTls, ClientCertificateOptionReachesTls) {
  AuthRegistry r({.tls = true});
  knast::RegistryOptions options = fast_options();
  options.ca_file = r.server.ca_file();
  options.client_certificate = knast::ClientCertificate{r.images.path() / "absent.pem", r.images.path() / "absent.key"};
  Registry registry(options);
  const Error e = error_from([&] { registry.resolve(r.name()); });
  EXPECT_EQ(e.kind(), ErrorCode::network);
  EXPECT_THAT(e.what(), HasSubstr("certificate"));
}

TEST(RegistryTls, ClientCertificateRequiredByTheRegistry) {
  AuthRegistry r({.tls = true, .client_certs = true});
  knast::RegistryOptions options = fast_options();
  options.ca_file = r.server.ca_file();
  {
    Registry registry(options);
    const Error e = error_from([&] { registry.resolve(r.name()); });
    EXPECT_EQ(e.kind(), ErrorCode::network);
    EXPECT_THAT(e.what(), HasSubstr("the registry requires a client certificate (RegistryOptions::client_certificate)"));
  }
  {
    // A certificate of the server's CA is not one of the client CA's.
    knast::RegistryOptions wrong = options;
    const auto dir = r.server.ca_file()->parent_path().parent_path();
    wrong.client_certificate = knast::ClientCertificate{dir / "server.crt", dir / "server.key"};
    Registry registry(wrong);
    const Error e = error_from([&] { registry.resolve(r.name()); });
    EXPECT_EQ(e.kind(), ErrorCode::network);
    EXPECT_THAT(e.what(), HasSubstr("the registry refused the client certificate"));
  }
  const auto [certificate, key] = r.server.client_certificate().value();
  options.client_certificate = knast::ClientCertificate{certificate, key};
  Registry registry(options);
  ScratchStore s;
  registry.pull(r.name(), s.store);
  EXPECT_TRUE(s.store.find(r.name()));
}

TEST(RegistryTls, LoopbackListedInsecureThatSpeaksTlsIsStillReachedOverTls) {
  // Plain HTTP goes first to such a registry: a TLS one answers it with 400, and HTTPS
  // follows (with the CA, since verification is never given up).
  AuthRegistry r({.tls = true});
  knast::RegistryOptions options = fast_options();
  options.ca_file = r.server.ca_file();
  options.insecure_registries = {r.server.host()};
  Registry registry(options);
  ScratchStore s;
  registry.pull(r.name(), s.store);
  EXPECT_TRUE(s.store.find(r.name()));
  EXPECT_EQ(registry.tags(r.name()), std::vector<std::string>{"1.0"});
}

// ---- listings ------------------------------------------------------------------------

TEST(RegistryListing, TagsAndCatalogFollowPagination) {
  AuthRegistry r({});
  for (const char* tag : {"1.1", "1.2", "2.0", "latest"}) kt::push_image(r.image, r.server, std::string("test/image:") + tag);
  kt::push_image(r.image, r.server, "other/app:1");
  Registry registry(fast_options());
  const std::vector<std::string> all = {"1.0", "1.1", "1.2", "2.0", "latest"};
  EXPECT_THAT(registry.tags(r.name()), ::testing::UnorderedElementsAreArray(all));
  EXPECT_THAT(registry.tags(r.name(), 2), ::testing::UnorderedElementsAreArray(all));  // three pages, by Link headers
  EXPECT_THAT(registry.catalog(r.server.host()), ElementsAre("other/app", "test/image"));
  EXPECT_THAT(registry.catalog(r.server.host(), 1), ElementsAre("other/app", "test/image"));
  EXPECT_EQ(error_from([&] { registry.tags(ref(r.server.host(), "absent/repo")); }).kind(), ErrorCode::not_found);
  registry.ping(r.server.host());
}

}  // namespace
