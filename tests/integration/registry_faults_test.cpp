// Registry against a misbehaving server (tests/fixtures/fault_server.py): dropped and
// corrupt transfers, lying lengths, ignored ranges, 429 and 500 answers, redirects to a
// blob store, Basic and Bearer challenges, oversized and broken manifests, mirrors.
// The repository name picks the faults: "drop-blob/no-range/image" has both.
#include "registry_test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>

namespace {

using namespace registry_test;
using knast::Credentials;
using knast::Digest;
using knast::Registry;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class RegistryFaults : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<kt::FaultServer>(); }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { server_->reset(); }

  static kt::FaultServer& server() { return *server_; }
  /// The image under a repository named by @p faults ("drop-blob/no-range").
  static Reference image(const std::string& faults) {
    return ref(server().host(), (faults.empty() ? "" : faults + "/") + "image:" + server().tag());
  }
  /// The 512 KiB layer: big enough that half of it is many TCP segments.
  static Digest big_layer() {
    std::string biggest;
    for (const auto& layer : server().layers())
      if (biggest.empty() || size_of(Digest::parse(layer)) > size_of(Digest::parse(biggest))) biggest = layer;
    return Digest::parse(biggest);
  }
  static std::uint64_t size_of(const Digest& digest) {
    return server().ready().at("blobs").at(digest.string()).get<std::uint64_t>();
  }
  /// The registry-listener GETs of @p digest, in order.
  static std::vector<kt::Json> blob_gets(const Digest& digest, const std::string& listener = "registry") {
    std::vector<kt::Json> out;
    for (const auto& request : fault_requests(server(), listener))
      if (request.at("method") == "GET" && request.at("path").get<std::string>().find(digest.string()) != std::string::npos)
        out.push_back(request);
    return out;
  }
  static knast::RegistryOptions with_user(knast::RegistryOptions options, const std::string& password) {
    options.credentials[server().host()] = Credentials{server().user(), password, ""};
    return options;
  }

  ScratchStore s;

 private:
  static std::unique_ptr<kt::FaultServer> server_;
};

std::unique_ptr<kt::FaultServer> RegistryFaults::server_;

TEST_F(RegistryFaults, CleanPull) {
  Registry registry(fast_options());
  const auto result = registry.pull(image(""), s.store);
  EXPECT_EQ(result.target.digest.string(), server().digest());
  EXPECT_TRUE(s.store.has_blob(big_layer()));
}

TEST_F(RegistryFaults, DroppedTransferResumesWithRange) {
  Registry registry(fast_options());
  const auto result = registry.pull(image("drop-blob"), s.store);
  EXPECT_TRUE(s.store.find(image("drop-blob")));
  EXPECT_EQ(s.store.read_blob(big_layer(), 1 << 20).size(), size_of(big_layer()));
  const auto gets = blob_gets(big_layer());
  ASSERT_EQ(gets.size(), 2u);
  EXPECT_TRUE(gets[0].at("range").is_null());
  EXPECT_EQ(gets[0].at("fault"), "drop-blob");
  // The second asks for the rest only: half the blob had arrived.
  const std::string range = gets[1].at("range").get<std::string>();
  EXPECT_THAT(range, StartsWith("bytes="));
  const std::uint64_t from = std::stoull(range.substr(6));
  EXPECT_GT(from, 0u);
  EXPECT_LT(from, size_of(big_layer()));
  EXPECT_EQ(gets[1].at("status"), 206);
  // The bytes received once each (every blob once, the dropped half not twice).
  std::uint64_t blob_bytes = 0;
  for (const auto& layer : server().layers()) blob_bytes += size_of(Digest::parse(layer));
  blob_bytes += size_of(Digest::parse(server().ready().at("config").get<std::string>()));
  EXPECT_EQ(result.bytes_downloaded, blob_bytes);
}

TEST_F(RegistryFaults, IgnoredRangeStartsOver) {
  Registry registry(fast_options());
  registry.pull(image("drop-blob/no-range"), s.store);
  EXPECT_EQ(s.store.read_blob(big_layer(), 1 << 20).size(), size_of(big_layer()));
  const auto gets = blob_gets(big_layer());
  ASSERT_EQ(gets.size(), 2u);
  EXPECT_FALSE(gets[1].at("range").is_null());
  EXPECT_EQ(gets[1].at("status"), 200);
}

TEST_F(RegistryFaults, CorruptBlobIsRefusedAndNothingTagged) {
  Registry registry(fast_options());
  const Error e = error_from([&] { registry.pull(image("corrupt-blob"), s.store); });
  EXPECT_EQ(e.kind(), ErrorCode::integrity);
  EXPECT_THAT(e.what(), StartsWith("pull " + image("corrupt-blob").string()));
  EXPECT_FALSE(s.store.find(image("corrupt-blob")));
  EXPECT_FALSE(s.store.has_blob(big_layer()));
  // Not retried: a digest mismatch is not a transient failure.
  EXPECT_LE(blob_gets(big_layer()).size(), 1u);
}

TEST_F(RegistryFaults, LyingContentLengthIsRefused) {
  for (const std::string fault : {"length-over", "length-under"}) {
    Registry registry(fast_options());
    const Error e = error_from([&] { registry.pull(image(fault), s.store); });
    EXPECT_EQ(e.kind(), ErrorCode::integrity) << fault << ": " << e.what();
    EXPECT_THAT(e.what(), HasSubstr("announces")) << fault;
    EXPECT_FALSE(s.store.find(image(fault))) << fault;
    EXPECT_FALSE(s.store.has_blob(big_layer())) << fault;
  }
}

TEST_F(RegistryFaults, TooManyRequestsWaitsForRetryAfter) {
  Registry registry(fast_options());
  const auto start = std::chrono::steady_clock::now();
  registry.pull(image("429"), s.store);
  // The manifest request got a 429 with Retry-After: 1; the wait honours it.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(950));
  std::vector<long> statuses;
  for (const auto& request : fault_requests(server()))
    if (request.at("path").get<std::string>().find("/manifests/") != std::string::npos)
      statuses.push_back(request.at("status").get<long>());
  EXPECT_THAT(statuses, ::testing::ElementsAre(429, 200));
}

TEST_F(RegistryFaults, ServerErrorsAreRetried) {
  Registry registry(fast_options());
  registry.pull(image("500"), s.store);
  EXPECT_TRUE(s.store.find(image("500")));
  EXPECT_EQ(blob_gets(big_layer()).size(), 2u);
}

TEST_F(RegistryFaults, RetriesAreBounded) {
  kt::FaultServer failing({.faults = {"500"}, .times = 100});
  knast::RegistryOptions options = fast_options();
  options.retries = 2;
  Registry registry(options);
  const Reference name = ref(failing.host(), "test/image:" + failing.tag());
  const Error e = error_from([&] { registry.pull(name, s.store); });
  EXPECT_EQ(e.kind(), ErrorCode::network);
  EXPECT_EQ(std::string(e.what()), "pull " + name.string() + ": manifest " + failing.tag() +
                                       ": HTTP 500 after 3 attempts: UNKNOWN: injected failure");
  EXPECT_EQ(fault_requests(failing).size(), 3u);
}

TEST_F(RegistryFaults, RedirectToBlobStoreCarriesNoCredentials) {
  Registry registry(with_user(fast_options(), server().password()));
  registry.pull(image("redirect/auth-bearer"), s.store);
  EXPECT_TRUE(s.store.has_blob(big_layer()));
  const auto at_store = fault_requests(server(), "blobstore");
  ASSERT_FALSE(at_store.empty());
  for (const auto& request : at_store) EXPECT_TRUE(request.at("authorization").is_null()) << request.dump();
  // The registry itself did get the token.
  bool registry_saw_bearer = false;
  for (const auto& request : fault_requests(server(), "registry"))
    if (request.at("authorization").is_string()) registry_saw_bearer = true;
  EXPECT_TRUE(registry_saw_bearer);
}

TEST_F(RegistryFaults, RedirectedTransferResumesAtTheBlobStore) {
  Registry registry(fast_options());
  registry.pull(image("redirect/drop-blob"), s.store);
  EXPECT_EQ(s.store.read_blob(big_layer(), 1 << 20).size(), size_of(big_layer()));
  const auto gets = blob_gets(big_layer(), "blobstore");
  ASSERT_EQ(gets.size(), 2u);
  EXPECT_FALSE(gets[1].at("range").is_null());
}

TEST_F(RegistryFaults, BasicAuth) {
  {
    Registry registry(with_user(fast_options(), server().password()));
    registry.pull(image("auth-basic"), s.store);
    EXPECT_TRUE(s.store.find(image("auth-basic")));
  }
  {
    Registry registry(fast_options());
    const Error e = error_from([&] { registry.resolve(image("auth-basic")); });
    EXPECT_EQ(e.kind(), ErrorCode::auth);
    EXPECT_THAT(e.what(), HasSubstr("requires authentication and knast has no credentials for it"));
  }
  {
    Registry registry(with_user(fast_options(), "wrong-password"));
    const Error e = error_from([&] { registry.resolve(image("auth-basic")); });
    EXPECT_EQ(e.kind(), ErrorCode::auth);
    EXPECT_THAT(e.what(), HasSubstr("refused the credentials from explicit"));
    EXPECT_THAT(e.what(), Not(HasSubstr("wrong-password")));
  }
}

TEST_F(RegistryFaults, BearerTokenIsFetchedOncePerScopeAndReused) {
  Registry registry(with_user(fast_options(), server().password()));
  registry.pull(image("auth-bearer"), s.store);
  const kt::Json stats = server().stats();
  std::size_t tokens = 0;
  for (const auto& request : stats.at("token_requests"))
    if (request.at("scopes") == kt::Json::array({"repository:auth-bearer/image:pull"})) ++tokens;
  EXPECT_EQ(tokens, 1u) << stats.at("token_requests").dump();
  // The manifest, the config and two layers, each answered once after the first 401.
  std::size_t unauthorized = 0;
  for (const auto& request : fault_requests(server()))
    if (request.at("status") == 401) ++unauthorized;
  EXPECT_EQ(unauthorized, 1u);
}

TEST_F(RegistryFaults, BearerWithWrongCredentialsSaysSo) {
  Registry registry(with_user(fast_options(), "wrong-password"));
  const Error e = error_from([&] { registry.resolve(image("auth-bearer")); });
  EXPECT_EQ(e.kind(), ErrorCode::auth);
  EXPECT_THAT(e.what(), HasSubstr("token server http://127.0.0.1"));
  EXPECT_THAT(e.what(), HasSubstr("refused the credentials from explicit"));
  EXPECT_THAT(e.what(), Not(HasSubstr("wrong-password")));
}

TEST_F(RegistryFaults, ManifestOverTheLimitIsRefused) {
  Registry registry(fast_options());
  const Error e = error_from([&] { registry.resolve(image("big-manifest")); });
  EXPECT_EQ(e.kind(), ErrorCode::limit_exceeded);
  EXPECT_THAT(e.what(), HasSubstr("over the limit of 4194304 bytes"));
}

TEST_F(RegistryFaults, UnparsableManifestIsRefused) {
  Registry registry(fast_options());
  const Error e = error_from([&] { registry.resolve(image("bad-json")); });
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), StartsWith("resolve " + image("bad-json").string() + ": manifest " + server().tag()));
}

TEST_F(RegistryFaults, ManifestNotMatchingItsDigestHeaderIsRefused) {
  Registry registry(fast_options());
  const Error e = error_from([&] { registry.resolve(image("corrupt-manifest")); });
  EXPECT_EQ(e.kind(), ErrorCode::integrity);
  EXPECT_THAT(e.what(), HasSubstr("Docker-Content-Digest says " + server().digest()));
}

TEST_F(RegistryFaults, DigestReferenceCatchesAWrongManifest) {
  Registry registry(fast_options());
  // Asked by digest, the server sends other bytes (a newline more).
  const Error e = error_from([&] { registry.resolve(ref(server().host(), "corrupt-manifest/image@" + server().digest())); });
  EXPECT_EQ(e.kind(), ErrorCode::integrity);
  EXPECT_THAT(e.what(), HasSubstr("not " + server().digest()));
}

/// Writes @p bytes as a blob of the OCI layout at @p layout; returns its descriptor JSON.
kt::Json write_blob(const std::filesystem::path& layout, const std::string& bytes, const std::string& media_type) {
  const Digest digest = Digest::of(bytes);
  std::filesystem::create_directories(layout / "blobs" / "sha256");
  std::ofstream(layout / "blobs" / "sha256" / digest.hex(), std::ios::binary) << bytes;
  return kt::Json{{"mediaType", media_type}, {"digest", digest.string()}, {"size", bytes.size()}};
}

TEST(RegistryEdgeCases, EmptyBlobIsPulled) {
  // An image whose only layer is zero bytes long: nothing is ever written for it, and it
  // must still be committed (and verified: the empty string has a digest too).
  kt::TempDir dir("knast-empty-blob-");
  const auto layout = dir.path() / "layout";
  const kt::Json config = write_blob(layout,
                                     R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})",
                                     std::string(knast::media_type::oci_config));
  const kt::Json layer = write_blob(layout, "", std::string(knast::media_type::oci_layer_tar));
  const kt::Json manifest = write_blob(
      layout, kt::Json{{"schemaVersion", 2}, {"mediaType", knast::media_type::oci_manifest}, {"config", config}, {"layers", {layer}}}.dump(),
      std::string(knast::media_type::oci_manifest));
  kt::Json entry = manifest;
  entry["annotations"] = {{"org.opencontainers.image.ref.name", "latest"}};
  std::ofstream(layout / "index.json") << kt::Json{{"schemaVersion", 2}, {"manifests", {entry}}}.dump();
  std::ofstream(layout / "oci-layout") << R"({"imageLayoutVersion":"1.0.0"})";

  kt::FaultServer server({.layout = layout});
  Registry registry(fast_options());
  ScratchStore s;
  const Reference name = ref(server.host(), "test/empty:latest");
  const auto result = registry.pull(name, s.store);
  EXPECT_EQ(result.blobs_downloaded, 2u);
  EXPECT_TRUE(s.store.has_blob(Digest::parse(layer.at("digest").get<std::string>())));
  EXPECT_TRUE(s.store.find(name));
}

TEST_F(RegistryFaults, MirrorServesWhenItCan) {
  kt::FaultServer mirror;
  knast::RegistryOptions options = fast_options();
  options.mirrors[server().host()] = {"http://" + mirror.host()};
  Registry registry(options);
  registry.pull(image(""), s.store);
  EXPECT_TRUE(fault_requests(server()).empty());
  EXPECT_FALSE(fault_requests(mirror).empty());
}

TEST_F(RegistryFaults, DeadMirrorFallsBackToTheRegistry) {
  knast::RegistryOptions options = fast_options();
  options.retries = 1;
  options.mirrors[server().host()] = {"http://127.0.0.1:1"};  // nothing listens there
  Registry registry(options);
  registry.pull(image(""), s.store);
  EXPECT_TRUE(s.store.find(image("")));
  EXPECT_FALSE(fault_requests(server()).empty());
}

}  // namespace
