// Registry against a misbehaving server (tests/fixtures/fault_server.py): dropped and
// corrupt transfers, lying lengths, ignored ranges, 429 and 500 answers, redirects to a
// blob store, Basic and Bearer challenges, oversized and broken manifests, mirrors, nested
// indexes, foreign layers fetched from their URLs, and a chunked upload that resumes.
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

TEST_F(RegistryFaults, LoopbackListedInsecureGetsPlainHttpFirst) {
  {
    // Not listed: HTTPS first, whose handshake this plain-HTTP server cannot take.
    Registry registry(fast_options());
    registry.resolve(image(""));
    EXPECT_EQ(non_http_requests(server()), 1u);
  }
  server().reset();
  knast::RegistryOptions options = fast_options();
  options.insecure_registries = {server().host()};
  Registry registry(options);
  registry.pull(image(""), s.store);
  EXPECT_EQ(non_http_requests(server()), 0u);
  EXPECT_TRUE(s.store.find(image("")));
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

/// An OCI index listing @p entries (an array), written as a blob of @p layout; its
/// descriptor JSON.
kt::Json write_index(const std::filesystem::path& layout, const kt::Json& entries) {
  const std::string index_type(knast::media_type::oci_index);
  return write_blob(layout, kt::Json{{"schemaVersion", 2}, {"mediaType", index_type}, {"manifests", entries}}.dump(),
                    index_type);
}

/// Points @p tag of @p layout at @p descriptor (its only name).
void name_in_layout(const std::filesystem::path& layout, kt::Json descriptor, const std::string& tag) {
  descriptor["annotations"] = {{"org.opencontainers.image.ref.name", tag}};
  std::ofstream(layout / "index.json") << kt::Json{{"schemaVersion", 2}, {"manifests", kt::Json::array({descriptor})}}.dump();
}

/// The manifest entry of @p image for @p platform ("linux/arm64"), as an index lists it.
kt::Json manifest_entry(const kt::TestImage& image, const std::string& platform) {
  for (const auto& m : image.description.at("manifests")) {
    const auto& p = m.at("platform");
    if (p.at("os").get<std::string>() + "/" + p.at("architecture").get<std::string>() != platform) continue;
    const std::string digest = m.at("digest").get<std::string>();
    return kt::Json{{"mediaType", knast::media_type::oci_manifest}, {"digest", digest},
                    {"size", image.description.at("blobs").at(digest)}, {"platform", p}};
  }
  ADD_FAILURE() << "no manifest for " << platform;
  return {};
}

class NestedIndexes : public ::testing::Test {
 protected:
  // outer ─┬─ inner (no platform) ─┬─ linux/amd64
  //        │                       └─ linux/arm64
  //        └─ other (linux/ppc64le on the entry) ── linux/ppc64le
  NestedIndexes() {
    const auto layout = image.layout;
    inner = write_index(layout, kt::Json::array({manifest_entry(image, "linux/amd64"), manifest_entry(image, "linux/arm64")}));
    other = write_index(layout, kt::Json::array({manifest_entry(image, "linux/ppc64le")}));
    kt::Json other_entry = other;
    other_entry["platform"] = {{"os", "linux"}, {"architecture", "ppc64le"}};
    outer = write_index(layout, kt::Json::array({inner, other_entry}));
    name_in_layout(layout, outer, "nested");
  }
  Digest digest_of(const kt::Json& descriptor) const { return Digest::parse(descriptor.at("digest").get<std::string>()); }

  kt::TempDir dir{"knast-nested-index-"};
  kt::TestImage image = kt::make_multiplatform_image(dir.path() / "image", {"linux/amd64", "linux/arm64", "linux/ppc64le"});
  kt::Json inner, other, outer;
  std::unique_ptr<kt::FaultServer> server;
  ScratchStore s;
};

TEST_F(NestedIndexes, OnePlatformIsChosenAcrossTheIndexes) {
  server = std::make_unique<kt::FaultServer>(kt::FaultOptions{.layout = image.layout});
  const Reference name = ref(server->host(), "test/nested:nested");
  Registry registry(fast_options());
  knast::PullOptions options;
  options.platform = knast::Platform::parse("linux/arm64");
  const auto result = registry.pull(name, s.store, options);
  ASSERT_EQ(result.manifests.size(), 1u);
  EXPECT_EQ(result.manifests[0].digest.string(), manifest_entry(image, "linux/arm64").at("digest"));
  // Every index is stored (the store reads them all to choose a platform); of the
  // manifests, the one pulled only.
  for (const auto* index : {&outer, &inner, &other}) EXPECT_TRUE(s.store.has_blob(digest_of(*index)));
  EXPECT_FALSE(s.store.has_blob(Digest::parse(manifest_entry(image, "linux/amd64").at("digest").get<std::string>())));
  EXPECT_FALSE(s.store.has_blob(Digest::parse(manifest_entry(image, "linux/ppc64le").at("digest").get<std::string>())));
  EXPECT_EQ(s.store.resolve(name.string(), options.platform).manifest_descriptor.digest, result.manifests[0].digest);
}

TEST_F(NestedIndexes, AllPlatformsAndAnEntryThatInheritsItsPlatform) {
  server = std::make_unique<kt::FaultServer>(kt::FaultOptions{.layout = image.layout});
  const Reference name = ref(server->host(), "test/nested:nested");
  Registry registry(fast_options());
  knast::PullOptions options;
  options.all_platforms = true;
  EXPECT_EQ(registry.pull(name, s.store, options).manifests.size(), 3u);
  EXPECT_TRUE(s.store.has_blob(digest_of(other)));
  EXPECT_EQ(s.store.find(name)->digest, digest_of(outer));
  expect_blobs_intact(s.store, image);

  // ppc64le is asked for by the nested index's entry, not by its own manifest's.
  ScratchStore again;
  options = {};
  options.platform = knast::Platform::parse("linux/ppc64le");
  EXPECT_EQ(registry.pull(name, again.store, options).manifests.at(0).digest.string(),
            manifest_entry(image, "linux/ppc64le").at("digest"));
}

TEST_F(NestedIndexes, NestingIsBounded) {
  kt::Json chain = inner;
  for (int depth = 0; depth < 12; ++depth) chain = write_index(image.layout, kt::Json::array({chain}));
  name_in_layout(image.layout, chain, "nested");
  server = std::make_unique<kt::FaultServer>(kt::FaultOptions{.layout = image.layout});
  Registry registry(fast_options());
  const Error e = error_from([&] { registry.pull(ref(server->host(), "test/nested:nested"), s.store); });
  EXPECT_EQ(e.kind(), ErrorCode::limit_exceeded);
  EXPECT_THAT(e.what(), HasSubstr("indexes nest more than 8 deep"));
  EXPECT_FALSE(s.store.find(ref(server->host(), "test/nested:nested")));
}

// ---- foreign layers ---------------------------------------------------------------------

TEST_F(RegistryFaults, ForeignLayersComeFromTheirUrlsWithoutCredentials) {
  // The layers' URLs name the blob store on 127.0.0.2, plain HTTP: allowed once listed.
  const std::string blob_host = server().blob_url().substr(std::string("http://").size());
  knast::RegistryOptions options = with_user(fast_options(), server().password());
  options.insecure_registries = {blob_host};
  Registry registry(options);
  const Reference name = image("auth-basic/foreign-layers");
  const auto result = registry.pull(name, s.store);
  EXPECT_EQ(result.target.digest.string(), server().ready().at("foreign_manifest"));
  for (const auto& layer : server().ready().at("foreign_layers")) {
    const Digest digest = Digest::parse(layer.get<std::string>());
    EXPECT_EQ(s.store.read_blob(digest, 1 << 20).size(), size_of(digest));
    // The registry was asked first (and had nothing), then the URL; no credentials there.
    const auto asked = blob_gets(digest, "registry");
    ASSERT_FALSE(asked.empty());
    EXPECT_EQ(asked.back().at("status"), 404);
    const auto at_url = blob_gets(digest, "blobstore");
    ASSERT_EQ(at_url.size(), 1u);
    EXPECT_TRUE(at_url[0].at("authorization").is_null());
  }
  EXPECT_TRUE(s.store.find(name));
}

TEST_F(RegistryFaults, ForeignLayerUrlOverPlainHttpNeedsTheInsecureRules) {
  Registry registry(fast_options());
  const Error e = error_from([&] { registry.pull(image("foreign-layers"), s.store); });
  EXPECT_EQ(e.kind(), ErrorCode::network);
  EXPECT_THAT(e.what(), HasSubstr("plain HTTP, allowed only for localhost and insecure registries"));
  EXPECT_THAT(e.what(), HasSubstr("from the registry:"));
  EXPECT_THAT(e.what(), HasSubstr("HTTP 404"));
  EXPECT_TRUE(fault_requests(server(), "blobstore").empty());
  EXPECT_FALSE(s.store.find(image("foreign-layers")));
}

// ---- uploads ----------------------------------------------------------------------------

TEST_F(RegistryFaults, BrokenChunkedUploadResumesWhereTheRegistryStands) {
  Registry registry(fast_options());
  registry.pull(image(""), s.store);
  // Another fault server, serving an image that has none of these blobs, takes the push.
  kt::TempDir dir("knast-upload-");
  const kt::TestImage small = kt::make_image(
      dir.path() / "small", kt::Json{{"layers", {{kt::Json{{"path", "etc/x"}, {"content", "x\n"}}}}}});
  kt::FaultServer target({.layout = small.layout});
  knast::PushOptions options;
  options.chunk_size = 64 << 10;  // the 512 KiB layer goes in 8 chunks; the others whole
  const Reference destination = ref(target.host(), "drop-patch/pushed:1");
  const auto result = registry.push(s.store, image(""), destination, options);
  EXPECT_EQ(result.blobs_uploaded, server().layers().size() + 1);

  std::size_t sessions = 0, status_queries = 0;
  std::vector<kt::Json> patches;
  for (const auto& request : fault_requests(target)) {
    const std::string method = request.at("method"), path = request.at("path");
    if (method == "POST") ++sessions;
    if (method == "GET" && path.find("/blobs/uploads/") != std::string::npos) {
      ++status_queries;
      EXPECT_EQ(request.at("status"), 204);
    }
    if (method == "PATCH") patches.push_back(request);
  }
  // One session per blob: the broken one went on, it did not start over.
  EXPECT_EQ(sessions, result.blobs_uploaded);
  EXPECT_EQ(status_queries, 1u);
  ASSERT_GE(patches.size(), 2u);
  EXPECT_EQ(patches[0].at("fault"), "drop-patch");
  EXPECT_EQ(patches[0].at("content_range"), "0-65535");
  // Half the first chunk had arrived: the next PATCH starts right after it.
  EXPECT_EQ(patches[1].at("content_range"), "32768-98303");
  // The fault server checked the assembled blob against its digest on the final PUT; what
  // went up reads back.
  ScratchStore back;
  registry.pull(destination, back.store);
  EXPECT_EQ(back.store.read_blob(big_layer(), 1 << 20), s.store.read_blob(big_layer(), 1 << 20));
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
