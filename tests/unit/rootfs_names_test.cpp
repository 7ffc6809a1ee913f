// The pure rules of applying layers: whiteout names, owner ids, the chain ID, and the
// compression a layer is read with.
#include "rootfs/apply_input.hpp"
#include "rootfs/apply_names.hpp"

#include <knast/digest.hpp>
#include <knast/error.hpp>
#include <knast/rootfs.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using knast::Digest;
using knast::Error;
using knast::ErrorCode;
using knast::detail::Compression;
using knast::detail::has_whiteout_parent;
using knast::detail::layer_input_compression;
using knast::detail::owner_id;
using knast::detail::parse_whiteout;
using Kind = knast::detail::WhiteoutName::Kind;

TEST(RootfsWhiteout, ParsesNames) {
  EXPECT_EQ(parse_whiteout("passwd").kind, Kind::none);
  EXPECT_EQ(parse_whiteout(".bashrc").kind, Kind::none);
  EXPECT_EQ(parse_whiteout(".wh").kind, Kind::none);
  EXPECT_EQ(parse_whiteout("a.wh.b").kind, Kind::none);
  EXPECT_EQ(parse_whiteout(".wh.passwd").kind, Kind::remove);
  EXPECT_EQ(parse_whiteout(".wh.passwd").target, "passwd");
  EXPECT_EQ(parse_whiteout(".wh..hidden").target, ".hidden");
  EXPECT_EQ(parse_whiteout(".wh..wh..opq").kind, Kind::opaque);
  EXPECT_EQ(parse_whiteout(".wh..wh.plnk").kind, Kind::aufs_meta);
  EXPECT_EQ(parse_whiteout(".wh..wh.aufs").kind, Kind::aufs_meta);
  EXPECT_EQ(parse_whiteout(".wh..wh..opqx").kind, Kind::aufs_meta);
  for (const auto* invalid : {".wh.", ".wh..", ".wh..."}) EXPECT_EQ(parse_whiteout(invalid).kind, Kind::invalid) << invalid;
}

TEST(RootfsWhiteout, WhiteoutNamedParents) {
  EXPECT_FALSE(has_whiteout_parent("a/b/.wh.c"));
  EXPECT_FALSE(has_whiteout_parent(".wh.c"));
  EXPECT_TRUE(has_whiteout_parent(".wh..wh.plnk/123"));
  EXPECT_TRUE(has_whiteout_parent("a/.wh.b/c"));
}

TEST(RootfsOwner, IdsThatFitOrNot) {
  EXPECT_EQ(owner_id(0), 0u);
  EXPECT_EQ(owner_id(65534), 65534u);
  EXPECT_EQ(owner_id(4294967294), 4294967294u);
  EXPECT_EQ(owner_id(4294967295), std::nullopt);  // (uid_t)-1: "no change" to chown
  EXPECT_EQ(owner_id(4294967296), std::nullopt);  // would truncate to 0, root
  EXPECT_EQ(owner_id(-1), std::nullopt);
  EXPECT_EQ(owner_id(INT64_MIN), std::nullopt);
}

TEST(RootfsChainId, MatchesTheSpecDefinition) {
  const auto a = Digest::of(std::string_view("layer a"));
  const auto b = Digest::of(std::string_view("layer b"));
  const auto c = Digest::of(std::string_view("layer c"));
  EXPECT_EQ(knast::chain_id(std::vector<Digest>{a}), a);
  // ChainID(A|B) = Digest(ChainID(A) + " " + DiffID(B)), computed independently here.
  knast::Hasher ab_hasher;
  ab_hasher.update(a.string() + " " + b.string());
  const Digest ab = ab_hasher.finish();
  EXPECT_EQ(knast::chain_id(std::vector<Digest>{a, b}), ab);
  knast::Hasher abc_hasher;
  abc_hasher.update(ab.string() + " " + c.string());
  EXPECT_EQ(knast::chain_id(std::vector<Digest>{a, b, c}), abc_hasher.finish());
  EXPECT_NE(knast::chain_id(std::vector<Digest>{b, a}), ab);  // order matters
  try {
    (void)knast::chain_id(std::vector<Digest>{});
    FAIL() << "an empty chain was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  }
}

TEST(RootfsChainId, KnownValue) {
  // Computed outside knast: printf 'sha256:aaa… sha256:bbb…' | sha256sum
  const auto first = Digest::parse("sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  const auto second = Digest::parse("sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
  EXPECT_EQ(knast::chain_id(std::vector<Digest>{first, second}).string(), "sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c");
}

ErrorCode refusal(Compression detected, std::string_view media_type) {
  try {
    (void)layer_input_compression(detected, media_type);
  } catch (const Error& e) {
    return e.kind();
  }
  return ErrorCode::ok;
}

TEST(RootfsCompression, DetectedCompressionMustMatchTheMediaType) {
  EXPECT_EQ(layer_input_compression(Compression::gzip, ""), Compression::gzip);
  EXPECT_EQ(layer_input_compression(Compression::zstd, ""), Compression::zstd);
  EXPECT_EQ(layer_input_compression(Compression::none, ""), Compression::none);
  EXPECT_EQ(layer_input_compression(Compression::gzip, "application/vnd.oci.image.layer.v1.tar+gzip"), Compression::gzip);
  EXPECT_EQ(layer_input_compression(Compression::gzip, "application/vnd.docker.image.rootfs.diff.tar.gzip"),
            Compression::gzip);
  EXPECT_EQ(layer_input_compression(Compression::zstd, "application/vnd.oci.image.layer.v1.tar+zstd"), Compression::zstd);
  EXPECT_EQ(layer_input_compression(Compression::none, "application/vnd.oci.image.layer.v1.tar"), Compression::none);
  EXPECT_EQ(refusal(Compression::none, "application/vnd.oci.image.layer.v1.tar+gzip"), ErrorCode::integrity);
  EXPECT_EQ(refusal(Compression::gzip, "application/vnd.oci.image.layer.v1.tar"), ErrorCode::integrity);
  EXPECT_EQ(refusal(Compression::zstd, "application/vnd.oci.image.layer.v1.tar+gzip"), ErrorCode::integrity);
  EXPECT_EQ(refusal(Compression::gzip, "application/vnd.oci.image.config.v1+json"), ErrorCode::invalid_argument);
  EXPECT_EQ(refusal(Compression::xz, ""), ErrorCode::unsupported);
  EXPECT_EQ(refusal(Compression::bzip2, ""), ErrorCode::unsupported);
}

}  // namespace
