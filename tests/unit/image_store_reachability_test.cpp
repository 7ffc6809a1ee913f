// The reference walk behind garbage collection and verify(), over blobs in memory.
#include "image_store/reachability.hpp"

#include <gtest/gtest.h>

#include <map>

namespace {

using knast::Descriptor;
using knast::Digest;
using knast::Error;
using knast::ErrorCode;
using knast::Index;
using knast::Manifest;
namespace detail = knast::detail;
namespace mt = knast::media_type;

// An in-memory blob store whose reads count, to check each document is read once.
struct Blobs {
  std::map<Digest, std::string> content;
  std::set<Digest> corrupt;
  int reads = 0;

  Descriptor put(std::string bytes, std::string_view media_type) {
    Descriptor d;
    d.media_type = std::string(media_type);
    d.digest = Digest::of(bytes);
    d.size = static_cast<std::int64_t>(bytes.size());
    content[d.digest] = std::move(bytes);
    return d;
  }
  static Descriptor absent(std::string_view seed, std::string_view media_type) {
    Descriptor d;
    d.media_type = std::string(media_type);
    d.digest = Digest::of(seed);
    return d;
  }
  detail::BlobAccess access() {
    return {[this](const Digest& d) { return content.count(d) > 0; },
            [this](const Descriptor& d) {
              ++reads;
              if (corrupt.count(d.digest)) throw Error(ErrorCode::integrity, "blob " + d.digest.string() + " is corrupt");
              return content.at(d.digest);
            }};
  }
};

Descriptor put_manifest(Blobs& blobs, const Descriptor& config, std::vector<Descriptor> layers,
                        std::optional<Descriptor> subject = std::nullopt) {
  Manifest m;
  m.config = config;
  m.layers = std::move(layers);
  m.subject = std::move(subject);
  return blobs.put(m.to_json(), mt::oci_manifest);
}

Descriptor put_index(Blobs& blobs, std::vector<Descriptor> entries) {
  Index index;
  index.manifests = std::move(entries);
  return blobs.put(index.to_json(), mt::oci_index);
}

TEST(ImageStoreReachability, WalksIndexesManifestsConfigsAndLayers) {
  Blobs blobs;
  const auto config = blobs.put("{}", mt::oci_config);
  const auto layer = blobs.put("layer", mt::oci_layer_gzip);
  const auto shared = blobs.put("shared", mt::oci_layer_gzip);
  const auto m1 = put_manifest(blobs, config, {layer, shared});
  const auto m2 = put_manifest(blobs, config, {shared});
  const auto inner = put_index(blobs, {m2});
  const auto outer = put_index(blobs, {m1, inner});
  blobs.put("garbage", mt::oci_layer_gzip);
  const auto found = detail::walk_references({outer, m1}, blobs.access());
  EXPECT_EQ(found.reachable, (std::set<Digest>{config.digest, layer.digest, shared.digest, m1.digest, m2.digest,
                                               inner.digest, outer.digest}));
  EXPECT_TRUE(found.missing.empty());
  EXPECT_TRUE(found.unreadable.empty());
  EXPECT_EQ(found.documents.size(), 4u);
  EXPECT_EQ(found.documents.front().digest, outer.digest);
  EXPECT_EQ(blobs.reads, 4);  // each document once, though m1 is reached twice
}

TEST(ImageStoreReachability, ReportsMissingRequiredBlobsButNotSubjectsForeignLayersOrIndexEntries) {
  Blobs blobs;
  const auto config = Blobs::absent("config", mt::oci_config);
  auto foreign = Blobs::absent("foreign", mt::docker_layer_foreign_gzip);
  foreign.urls = {"https://example.com/layer"};
  const auto subject = Blobs::absent("subject", mt::oci_manifest);
  const auto missing_manifest = Blobs::absent("gone", mt::oci_manifest);
  const auto m = put_manifest(blobs, config, {foreign}, subject);
  const auto index = put_index(blobs, {m, missing_manifest});
  const auto found = detail::walk_references({index}, blobs.access());
  // The present manifest's config is required; the index's other platform is not (a
  // one-platform pull stores a partial index).
  ASSERT_EQ(found.missing.size(), 1u);
  EXPECT_EQ(found.missing[0].digest, config.digest);
  // Kept though absent: garbage collection never needs to, but the set is complete.
  EXPECT_TRUE(found.reachable.count(subject.digest));
  EXPECT_TRUE(found.reachable.count(foreign.digest));
  EXPECT_TRUE(found.reachable.count(missing_manifest.digest));
  // A name pointing at an absent blob is still missing content.
  const auto dangling = detail::walk_references({missing_manifest}, blobs.access());
  ASSERT_EQ(dangling.missing.size(), 1u);
  EXPECT_EQ(dangling.missing[0].digest, missing_manifest.digest);
}

TEST(ImageStoreReachability, KeepsAPresentSubject) {
  Blobs blobs;
  const auto config = blobs.put("{}", mt::oci_config);
  const auto image = put_manifest(blobs, config, {});
  const auto referrer = put_manifest(blobs, config, {}, image);
  const auto found = detail::walk_references({referrer}, blobs.access());
  EXPECT_TRUE(found.reachable.count(image.digest));
  EXPECT_EQ(found.documents.size(), 2u);
}

TEST(ImageStoreReachability, CorruptAndUnparsableDocumentsAreUnreadable) {
  Blobs blobs;
  const auto config = blobs.put("{}", mt::oci_config);
  const auto layer = blobs.put("layer", mt::oci_layer_gzip);
  const auto corrupt = put_manifest(blobs, config, {layer});
  blobs.corrupt.insert(corrupt.digest);
  const auto not_json = blobs.put("not json", mt::oci_manifest);
  const auto found = detail::walk_references({corrupt, not_json}, blobs.access());
  ASSERT_EQ(found.unreadable.size(), 2u);
  EXPECT_EQ(found.unreadable[0].first.digest, corrupt.digest);
  EXPECT_EQ(found.unreadable[0].second.kind(), ErrorCode::integrity);
  EXPECT_EQ(found.unreadable[1].second.kind(), ErrorCode::invalid_argument);
  // What the corrupt manifest references is unknown, so not marked reachable.
  EXPECT_FALSE(found.reachable.count(layer.digest));
  EXPECT_TRUE(found.documents.empty());
}

TEST(ImageStoreReachability, AnOptionalThenRequiredAbsentBlobIsReportedOnce) {
  Blobs blobs;
  const auto config = blobs.put("{}", mt::oci_config);
  const auto absent = Blobs::absent("x", mt::oci_manifest);
  const auto referrer = put_manifest(blobs, config, {}, absent);
  const auto found = detail::walk_references({referrer, absent, absent}, blobs.access());
  ASSERT_EQ(found.missing.size(), 1u);
  EXPECT_EQ(found.missing[0].digest, absent.digest);
}

TEST(ImageStoreReachability, DeepNestingDoesNotRecurse) {
  Blobs blobs;
  const auto config = blobs.put("{}", mt::oci_config);
  Descriptor top = put_manifest(blobs, config, {});
  for (int i = 0; i < 2000; ++i) top = put_index(blobs, {top});
  const auto found = detail::walk_references({top}, blobs.access());
  EXPECT_EQ(found.documents.size(), 2001u);
  EXPECT_TRUE(found.missing.empty());
}

}  // namespace
