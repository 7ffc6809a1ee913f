#include <knast/digest.hpp>
#include <knast/error.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

using knast::Digest;
using knast::DigestAlgorithm;
using knast::DigestVerifier;
using knast::Error;
using knast::ErrorCode;
using knast::Hasher;

// Known answers, computed with coreutils' sha256sum and sha512sum.
constexpr std::string_view sha256_empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view sha512_empty =
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
constexpr std::string_view sha256_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr std::string_view sha512_abc =
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
// Of mebibyte() below.
constexpr std::string_view sha256_mebibyte = "1c59b8670027384143781a8a8bff2f3b44bd8818d0f53b13b064c2375a1afe38";
constexpr std::string_view sha512_mebibyte =
    "624aa8004fd6f1c87a1b9d42d893967816414d893cc25876beb6c638b5470cd5"
    "9d2490a9327dfaf70900574cbee69d3706511d791c4f99e60d28ad7e36f1fad5";

// 1 MiB that is not periodic in any power of two: byte i is (31 i + 7) mod 251.
std::string mebibyte() {
  std::string data(std::size_t{1} << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 31 + 7) % 251);
  return data;
}

std::string with_prefix(std::string_view algorithm, std::string_view hex) {
  return std::string(algorithm) + ":" + std::string(hex);
}

// Runs @p action and returns the Error it throws (failing the test if it does not).
template <typename Action>
Error error_of(Action&& action) {
  try {
    action();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no knast::Error thrown";
  return Error(ErrorCode::ok, "");
}

// ---------------------------------------------------------------------------------------
// Parsing

TEST(Digest, ParsesRegisteredAlgorithms) {
  const Digest d256 = Digest::parse(with_prefix("sha256", sha256_abc));
  EXPECT_EQ(d256.algorithm(), DigestAlgorithm::sha256);
  EXPECT_EQ(d256.hex(), sha256_abc);
  EXPECT_EQ(d256.string(), with_prefix("sha256", sha256_abc));

  const Digest d512 = Digest::parse(with_prefix("sha512", sha512_abc));
  EXPECT_EQ(d512.algorithm(), DigestAlgorithm::sha512);
  EXPECT_EQ(d512.string(), with_prefix("sha512", sha512_abc));
  EXPECT_EQ(knast::to_string(DigestAlgorithm::sha512), "sha512");
}

struct BadDigest {
  std::string text;
  ErrorCode code;
};

class DigestRejects : public testing::TestWithParam<BadDigest> {};

TEST_P(DigestRejects, WithTheRightCode) {
  const BadDigest& bad = GetParam();
  EXPECT_EQ(error_of([&] { Digest::parse(bad.text); }).kind(), bad.code) << bad.text;
  EXPECT_FALSE(Digest::try_parse(bad.text)) << bad.text;
}

const std::string upper_256 = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";

INSTANTIATE_TEST_SUITE_P(
    Malformed, DigestRejects,
    testing::Values(BadDigest{"", ErrorCode::invalid_argument},
                    BadDigest{std::string(sha256_abc), ErrorCode::invalid_argument},  // no algorithm
                    BadDigest{":" + std::string(sha256_abc), ErrorCode::invalid_argument},
                    BadDigest{"sha256:", ErrorCode::invalid_argument},
                    BadDigest{"sha256:abc", ErrorCode::invalid_argument},
                    BadDigest{"sha256:" + upper_256, ErrorCode::invalid_argument},
                    BadDigest{with_prefix("sha256", sha256_abc) + "0", ErrorCode::invalid_argument},
                    BadDigest{with_prefix("sha256", sha512_abc), ErrorCode::invalid_argument},
                    BadDigest{with_prefix("sha512", sha256_abc), ErrorCode::invalid_argument},
                    BadDigest{with_prefix("SHA256", sha256_abc), ErrorCode::invalid_argument},
                    BadDigest{with_prefix("sha256", sha256_abc) + " ", ErrorCode::invalid_argument},
                    BadDigest{with_prefix(" sha256", sha256_abc), ErrorCode::invalid_argument},
                    BadDigest{"sha256:" + std::string(sha256_abc.substr(1)) + "g", ErrorCode::invalid_argument},
                    BadDigest{"sha256::" + std::string(sha256_abc), ErrorCode::invalid_argument},
                    BadDigest{"sha+:abc", ErrorCode::invalid_argument},       // separator at the end
                    BadDigest{"+sha:abc", ErrorCode::invalid_argument},       // separator at the start
                    BadDigest{"sha..256:abc", ErrorCode::invalid_argument},   // two separators
                    BadDigest{"sha256:ab/cd", ErrorCode::invalid_argument}));  // not in encoded

INSTANTIATE_TEST_SUITE_P(
    WellFormedButUnknown, DigestRejects,
    testing::Values(BadDigest{"md5:d41d8cd98f00b204e9800998ecf8427e", ErrorCode::unsupported},
                    BadDigest{"sha384:abc", ErrorCode::unsupported},
                    BadDigest{"blake3:AbC=_-", ErrorCode::unsupported},
                    BadDigest{"multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
                              ErrorCode::unsupported},
                    BadDigest{"sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564", ErrorCode::unsupported}));

TEST(Digest, MessagesNameTheInputAndTheProblem) {
  EXPECT_STREQ(error_of([] { Digest::parse("sha256:abc"); }).what(),
               "invalid digest \"sha256:abc\": sha256 needs 64 hex digits, got 3");
  EXPECT_STREQ(error_of([] { Digest::parse("sha256:" + upper_256); }).what(),
               ("invalid digest \"sha256:" + upper_256 + "\": sha256 needs lower-case hex digits").c_str());
  EXPECT_STREQ(error_of([] { Digest::parse("nocolon"); }).what(),
               "invalid digest \"nocolon\": expected algorithm:encoded");
  EXPECT_STREQ(error_of([] { Digest::parse("md5:abc"); }).what(),
               "unsupported digest \"md5:abc\": algorithm \"md5\" is not supported, only sha256 and sha512");
}

TEST(Digest, MessagesKeepHostileInputShortAndPrintable) {
  const std::string message = error_of([] { Digest::parse("sha256:\n" + std::string(10000, 'a')); }).what();
  EXPECT_LT(message.size(), 400u);
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_NE(message.find("\\x0a"), std::string::npos);
}

TEST(Digest, FromHexValidates) {
  EXPECT_EQ(Digest::from_hex(DigestAlgorithm::sha256, sha256_abc), Digest::parse(with_prefix("sha256", sha256_abc)));
  EXPECT_EQ(error_of([] { Digest::from_hex(DigestAlgorithm::sha512, sha256_abc); }).kind(),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([] { Digest::from_hex(DigestAlgorithm::sha256, upper_256); }).kind(),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([] { Digest::from_hex(DigestAlgorithm::sha256, ""); }).kind(), ErrorCode::invalid_argument);
}

TEST(Digest, ComparesOrdersAndHashes) {
  const Digest a = Digest::of("a");
  const Digest b = Digest::of("b");
  EXPECT_EQ(a, Digest::of("a"));
  EXPECT_NE(a, b);
  EXPECT_NE(a, Digest::of("a", DigestAlgorithm::sha512));
  EXPECT_EQ(a < b, a.hex() < b.hex());
  EXPECT_LT(Digest::of("z", DigestAlgorithm::sha256), Digest::of("a", DigestAlgorithm::sha512));
  const std::unordered_set<Digest> set{a, b, Digest::of("a")};
  EXPECT_EQ(set.size(), 2u);
}

// ---------------------------------------------------------------------------------------
// Hashing

TEST(Digest, KnownAnswers) {
  EXPECT_EQ(Digest::of("").hex(), sha256_empty);
  EXPECT_EQ(Digest::of("abc").hex(), sha256_abc);
  EXPECT_EQ(Digest::of("", DigestAlgorithm::sha512).hex(), sha512_empty);
  EXPECT_EQ(Digest::of("abc", DigestAlgorithm::sha512).hex(), sha512_abc);
  const std::vector<std::byte> bytes{std::byte{'a'}, std::byte{'b'}, std::byte{'c'}};
  EXPECT_EQ(Digest::of(bytes).hex(), sha256_abc);
}

struct MebibyteCase {
  DigestAlgorithm algorithm;
  std::string_view expected;
};

class Mebibyte : public testing::TestWithParam<MebibyteCase> {};

TEST_P(Mebibyte, OddChunksEqualOneShotAndKnownAnswer) {
  const auto [algorithm, expected] = GetParam();
  const std::string data = mebibyte();
  EXPECT_EQ(Digest::of(data, algorithm).hex(), expected);

  // Odd sizes, so that chunks straddle the hash's 64- and 128-byte blocks every way.
  constexpr std::array<std::size_t, 6> chunk_sizes{1, 3, 7, 61, 4093, 65537};
  Hasher hasher(algorithm);
  for (std::size_t offset = 0, i = 0; offset < data.size(); ++i) {
    const std::size_t chunk = std::min(chunk_sizes[i % chunk_sizes.size()], data.size() - offset);
    hasher.update(data.data() + offset, chunk);
    offset += chunk;
  }
  EXPECT_EQ(hasher.bytes(), data.size());
  EXPECT_EQ(hasher.finish(), Digest::from_hex(algorithm, expected));
}

INSTANTIATE_TEST_SUITE_P(BothAlgorithms, Mebibyte,
                         testing::Values(MebibyteCase{DigestAlgorithm::sha256, sha256_mebibyte},
                                         MebibyteCase{DigestAlgorithm::sha512, sha512_mebibyte}));

TEST(Hasher, EmptyUpdatesAreHarmless) {
  Hasher hasher;
  hasher.update(nullptr, 0);
  hasher.update("");
  hasher.update("ab");
  hasher.update("c");
  EXPECT_EQ(hasher.bytes(), 3u);
  EXPECT_EQ(hasher.algorithm(), DigestAlgorithm::sha256);
  EXPECT_EQ(hasher.finish().hex(), sha256_abc);
}

TEST(Hasher, FinishesOnlyOnce) {
  Hasher hasher;
  hasher.update("abc");
  (void)hasher.finish();
  EXPECT_EQ(error_of([&] { (void)hasher.finish(); }).kind(), ErrorCode::internal);
  EXPECT_EQ(error_of([&] { hasher.update("x"); }).kind(), ErrorCode::internal);
}

TEST(Hasher, MovesKeepState) {
  Hasher first(DigestAlgorithm::sha512);
  first.update("ab");
  Hasher second(std::move(first));
  second.update("c");
  EXPECT_EQ(second.bytes(), 3u);
  Hasher third;
  third = std::move(second);
  EXPECT_EQ(third.algorithm(), DigestAlgorithm::sha512);
  EXPECT_EQ(third.finish().hex(), sha512_abc);
}

// ---------------------------------------------------------------------------------------
// Verifying

TEST(DigestVerifier, AcceptsMatchingContent) {
  DigestVerifier verifier(Digest::of("abc"), 3);
  verifier.update("a");
  verifier.update("bc");
  EXPECT_EQ(verifier.bytes(), 3u);
  EXPECT_NO_THROW(verifier.close());
  EXPECT_EQ(verifier.expected(), Digest::of("abc"));
}

TEST(DigestVerifier, AcceptsAnySizeWhenNoneIsExpected) {
  DigestVerifier verifier(Digest::of("abc", DigestAlgorithm::sha512));
  verifier.update("abc");
  EXPECT_NO_THROW(verifier.close());
}

TEST(DigestVerifier, RejectsMismatchNamingBothDigests) {
  DigestVerifier verifier(Digest::of("abc"));
  verifier.update("abd");
  const Error e = error_of([&] { verifier.close(); });
  EXPECT_EQ(e.kind(), ErrorCode::integrity);
  EXPECT_EQ(std::string(e.what()),
            "content has digest " + Digest::of("abd").string() + ", expected " + Digest::of("abc").string());
}

TEST(DigestVerifier, StopsAnOverrunAtOnce) {
  DigestVerifier verifier(Digest::of("abc"), 3);
  verifier.update("ab");
  const Error e = error_of([&] { verifier.update("cd"); });
  EXPECT_EQ(e.kind(), ErrorCode::integrity);
  EXPECT_NE(std::string(e.what()).find("larger than the expected 3 bytes"), std::string::npos) << e.what();
  EXPECT_EQ(verifier.bytes(), 2u);  // the overrunning bytes were not taken
}

TEST(DigestVerifier, RejectsShortContent) {
  DigestVerifier verifier(Digest::of("abc"), 3);
  verifier.update("ab");
  const Error e = error_of([&] { verifier.close(); });
  EXPECT_EQ(e.kind(), ErrorCode::integrity);
  EXPECT_NE(std::string(e.what()).find("has 2 bytes, expected 3"), std::string::npos) << e.what();
}

TEST(DigestVerifier, ZeroExpectedSizeRejectsTheFirstByte) {
  DigestVerifier verifier(Digest::of(""), 0);
  EXPECT_EQ(error_of([&] { verifier.update("x"); }).kind(), ErrorCode::integrity);
  EXPECT_NO_THROW(verifier.close());
}

}  // namespace
