// Reference parsing and normalisation. Most inputs and expectations come from the tests of
// github.com/distribution/reference (reference_test.go, normalize_test.go, regexp_test.go),
// translated to what docker's ParseNormalizedNamed + TagNameOnly make of them, since that
// is what knast::Reference implements.
#include <knast/digest.hpp>
#include <knast/error.hpp>
#include <knast/reference.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace knast {
inline namespace v0 {
// Lets GoogleTest print references in failure messages.
void PrintTo(const Reference& ref, std::ostream* os) { *os << ref.string(); }
}  // namespace v0
}  // namespace knast

namespace {

using knast::Digest;
using knast::Error;
using knast::ErrorCode;
using knast::Reference;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

const std::string f64 = std::string(64, 'f');
const std::string sha_f = "sha256:" + f64;
const std::string sha_be = "sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912";
const std::string sha_dbcc = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c";
const std::string sha512_f = "sha512:" + std::string(128, 'f');
const std::string hex64 = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";

/// The ErrorCode and message of what @p text throws, or ok and "" if it parses.
std::pair<ErrorCode, std::string> parse_error(std::string_view text) {
  try {
    Reference::parse(text);
  } catch (const Error& e) {
    return {e.kind(), e.what()};
  }
  return {ErrorCode::ok, ""};
}

// ---- valid references ----------------------------------------------------------------

struct ValidCase {
  std::string input;
  std::string domain;
  std::string path;
  std::optional<std::string> tag;
  std::string digest;  // empty: none
  std::string familiar;
};

void PrintTo(const ValidCase& c, std::ostream* os) { *os << '"' << c.input << '"'; }

std::string expected_string(const ValidCase& c) {
  std::string s = c.domain + "/" + c.path;
  if (c.tag) s += ":" + *c.tag;
  if (!c.digest.empty()) s += "@" + c.digest;
  return s;
}

const std::vector<ValidCase> valid_cases = {
    // reference_test.go TestReferenceParse
    {"test_com", "docker.io", "library/test_com", "latest", "", "test_com:latest"},
    {"test.com:tag", "docker.io", "library/test.com", "tag", "", "test.com:tag"},
    {"test.com:5000", "docker.io", "library/test.com", "5000", "", "test.com:5000"},
    {"test.com/repo:tag", "test.com", "repo", "tag", "", "test.com/repo:tag"},
    {"test:5000/repo", "test:5000", "repo", "latest", "", "test:5000/repo:latest"},
    {"test:5000/repo:tag", "test:5000", "repo", "tag", "", "test:5000/repo:tag"},
    {"test:5000/repo@" + sha_f, "test:5000", "repo", std::nullopt, sha_f, "test:5000/repo@" + sha_f},
    {"test:5000/repo:tag@" + sha_f, "test:5000", "repo", "tag", sha_f, "test:5000/repo:tag@" + sha_f},
    {"lowercase:Uppercase", "docker.io", "library/lowercase", "Uppercase", "", "lowercase:Uppercase"},
    // Parse takes "a" as the domain here; normalisation makes it a Hub path of exactly 255.
    {repeat("a/", 127) + "a:tag-puts-this-over-max", "docker.io", repeat("a/", 127) + "a", "tag-puts-this-over-max", "",
     repeat("a/", 127) + "a:tag-puts-this-over-max"},
    {"sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "bar/baz/quux", "latest", "",
     "sub-dom1.foo.com/bar/baz/quux:latest"},
    {"sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com", "bar/baz/quux", "some-long-tag", "",
     "sub-dom1.foo.com/bar/baz/quux:some-long-tag"},
    {"b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io", "test.example.com/my-app", "test.example.com", "",
     "b.gcr.io/test.example.com/my-app:test.example.com"},
    {"xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com", "", "xn--n3h.com/myimage:xn--n3h.com"},
    {"xn--7o8h.com/myimage:xn--7o8h.com@" + sha_f, "xn--7o8h.com", "myimage", "xn--7o8h.com", sha_f,
     "xn--7o8h.com/myimage:xn--7o8h.com@" + sha_f},
    {"foo_bar.com:8080", "docker.io", "library/foo_bar.com", "8080", "", "foo_bar.com:8080"},
    {"foo/foo_bar.com:8080", "docker.io", "foo/foo_bar.com", "8080", "", "foo/foo_bar.com:8080"},
    {"192.168.1.1", "docker.io", "library/192.168.1.1", "latest", "", "192.168.1.1:latest"},
    {"192.168.1.1:tag", "docker.io", "library/192.168.1.1", "tag", "", "192.168.1.1:tag"},
    {"192.168.1.1:5000", "docker.io", "library/192.168.1.1", "5000", "", "192.168.1.1:5000"},
    {"192.168.1.1/repo", "192.168.1.1", "repo", "latest", "", "192.168.1.1/repo:latest"},
    {"192.168.1.1:5000/repo", "192.168.1.1:5000", "repo", "latest", "", "192.168.1.1:5000/repo:latest"},
    {"192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "repo", "5050", "", "192.168.1.1:5000/repo:5050"},
    {"[2001:db8::1]/repo", "[2001:db8::1]", "repo", "latest", "", "[2001:db8::1]/repo:latest"},
    {"[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]", "repo", "tag", "", "[2001:db8:1:2:3:4:5:6]/repo:tag"},
    {"[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "repo", "latest", "", "[2001:db8::1]:5000/repo:latest"},
    {"[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000", "repo", "tag", "", "[2001:db8::1]:5000/repo:tag"},
    {"[2001:db8::1]:5000/repo@" + sha_f, "[2001:db8::1]:5000", "repo", std::nullopt, sha_f,
     "[2001:db8::1]:5000/repo@" + sha_f},
    {"[2001:db8::1]:5000/repo:tag@" + sha_f, "[2001:db8::1]:5000", "repo", "tag", sha_f,
     "[2001:db8::1]:5000/repo:tag@" + sha_f},
    {"[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo", "latest", "", "[2001:db8::]:5000/repo:latest"},
    {"[::1]:5000/repo", "[::1]:5000", "repo", "latest", "", "[::1]:5000/repo:latest"},
    // The domain does not count towards the 255-character limit.
    {"example.com/" + std::string(255, 'a') + ":tag", "example.com", std::string(255, 'a'), "tag", "",
     "example.com/" + std::string(255, 'a') + ":tag"},
    // distribution refuses sha512 only because its test does not register it; knast supports it.
    {"validname@" + sha512_f, "docker.io", "library/validname", std::nullopt, sha512_f, "validname@" + sha512_f},

    // normalize_test.go TestValidateReferenceName (valid names)
    {"docker/docker", "docker.io", "docker/docker", "latest", "", "docker/docker:latest"},
    {"library/debian", "docker.io", "library/debian", "latest", "", "debian:latest"},
    {"debian", "docker.io", "library/debian", "latest", "", "debian:latest"},
    {"localhost/library/debian", "localhost", "library/debian", "latest", "", "localhost/library/debian:latest"},
    {"localhost/debian", "localhost", "debian", "latest", "", "localhost/debian:latest"},
    {"LOCALDOMAIN/library/debian", "LOCALDOMAIN", "library/debian", "latest", "", "LOCALDOMAIN/library/debian:latest"},
    {"LOCALDOMAIN/debian", "LOCALDOMAIN", "debian", "latest", "", "LOCALDOMAIN/debian:latest"},
    {"docker.io/docker/docker", "docker.io", "docker/docker", "latest", "", "docker/docker:latest"},
    {"docker.io/library/debian", "docker.io", "library/debian", "latest", "", "debian:latest"},
    {"docker.io/debian", "docker.io", "library/debian", "latest", "", "debian:latest"},
    {"index.docker.io/docker/docker", "docker.io", "docker/docker", "latest", "", "docker/docker:latest"},
    {"index.docker.io/library/debian", "docker.io", "library/debian", "latest", "", "debian:latest"},
    {"index.docker.io/debian", "docker.io", "library/debian", "latest", "", "debian:latest"},
    {"127.0.0.1:5000/docker/docker", "127.0.0.1:5000", "docker/docker", "latest", "",
     "127.0.0.1:5000/docker/docker:latest"},
    {"127.0.0.1:5000/library/debian", "127.0.0.1:5000", "library/debian", "latest", "",
     "127.0.0.1:5000/library/debian:latest"},
    {"127.0.0.1:5000/debian", "127.0.0.1:5000", "debian", "latest", "", "127.0.0.1:5000/debian:latest"},
    {"192.168.0.1", "docker.io", "library/192.168.0.1", "latest", "", "192.168.0.1:latest"},
    {"192.168.0.1:80", "docker.io", "library/192.168.0.1", "80", "", "192.168.0.1:80"},
    {"192.168.0.1:8/debian", "192.168.0.1:8", "debian", "latest", "", "192.168.0.1:8/debian:latest"},
    {"192.168.0.2:25000/debian", "192.168.0.2:25000", "debian", "latest", "", "192.168.0.2:25000/debian:latest"},
    {"thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", "docker.io",
     "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", "latest", "",
     "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest"},
    {"[fc00::1]:5000/docker", "[fc00::1]:5000", "docker", "latest", "", "[fc00::1]:5000/docker:latest"},
    {"[fc00::1]:5000/docker/docker", "[fc00::1]:5000", "docker/docker", "latest", "",
     "[fc00::1]:5000/docker/docker:latest"},
    {"[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000", "library/debian", "latest", "",
     "[fc00:1:2:3:4:5:6:7]:5000/library/debian:latest"},
    // With a domain a hex string is unambiguously a name, not an image id.
    {"docker.io/" + hex64, "docker.io", "library/" + hex64, "latest", "", hex64 + ":latest"},
    // A first component with upper case is taken for a domain (docker's documented quirk).
    {"Docker/docker", "Docker", "docker", "latest", "", "Docker/docker:latest"},
    {"DOCKER/docker", "DOCKER", "docker", "latest", "", "DOCKER/docker:latest"},
    {"Uppercase/lowercase:tag", "Uppercase", "lowercase", "tag", "", "Uppercase/lowercase:tag"},

    // normalize_test.go TestValidateRemoteName (valid names)
    {"docker-rules/docker", "docker.io", "docker-rules/docker", "latest", "", "docker-rules/docker:latest"},
    {"docker---rules/docker", "docker.io", "docker---rules/docker", "latest", "", "docker---rules/docker:latest"},
    {"doc/docker", "docker.io", "doc/docker", "latest", "", "doc/docker:latest"},
    {"d/docker", "docker.io", "d/docker", "latest", "", "d/docker:latest"},
    {"jess/t", "docker.io", "jess/t", "latest", "", "jess/t:latest"},
    {"dock__er/docker", "docker.io", "dock__er/docker", "latest", "", "dock__er/docker:latest"},

    // normalize_test.go TestParseReferenceWithTagAndDigest
    {"busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa", "docker.io",
     "library/busybox", "latest", "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
     "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"},

    // normalize_test.go TestParseAnyReference (the named ones)
    {"redis", "docker.io", "library/redis", "latest", "", "redis:latest"},
    {"redis:latest", "docker.io", "library/redis", "latest", "", "redis:latest"},
    {"docker.io/library/redis:latest", "docker.io", "library/redis", "latest", "", "redis:latest"},
    {"redis@" + sha_dbcc, "docker.io", "library/redis", std::nullopt, sha_dbcc, "redis@" + sha_dbcc},
    {"docker.io/library/redis@" + sha_dbcc, "docker.io", "library/redis", std::nullopt, sha_dbcc, "redis@" + sha_dbcc},
    {"dmcgowan/myapp", "docker.io", "dmcgowan/myapp", "latest", "", "dmcgowan/myapp:latest"},
    {"dmcgowan/myapp:latest", "docker.io", "dmcgowan/myapp", "latest", "", "dmcgowan/myapp:latest"},
    {"docker.io/mcgowan/myapp:latest", "docker.io", "mcgowan/myapp", "latest", "", "mcgowan/myapp:latest"},
    {"dmcgowan/myapp@" + sha_dbcc, "docker.io", "dmcgowan/myapp", std::nullopt, sha_dbcc, "dmcgowan/myapp@" + sha_dbcc},
    {"docker.io/dmcgowan/myapp@" + sha_dbcc, "docker.io", "dmcgowan/myapp", std::nullopt, sha_dbcc,
     "dmcgowan/myapp@" + sha_dbcc},
    // 63 hex digits is not an image id, so it is a name.
    {sha_dbcc.substr(7, 63), "docker.io", "library/" + sha_dbcc.substr(7, 63), "latest", "",
     sha_dbcc.substr(7, 63) + ":latest"},
    {"dbcc1", "docker.io", "library/dbcc1", "latest", "", "dbcc1:latest"},
    // Only a whole string of 64 hex digits is refused; with a tag it is a name, as in docker.
    {hex64 + ":v1", "docker.io", "library/" + hex64, "v1", "", hex64 + ":v1"},

    // normalize_test.go TestNormalizedSplitHostname and TestParseDockerRef
    {"test.com/foo", "test.com", "foo", "latest", "", "test.com/foo:latest"},
    {"test_com/foo", "docker.io", "test_com/foo", "latest", "", "test_com/foo:latest"},
    {"docker/migrator", "docker.io", "docker/migrator", "latest", "", "docker/migrator:latest"},
    {"test.com:8080/foo", "test.com:8080", "foo", "latest", "", "test.com:8080/foo:latest"},
    {"test-com:8080/foo", "test-com:8080", "foo", "latest", "", "test-com:8080/foo:latest"},
    {"xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo", "latest", "", "xn--n3h.com:18080/foo:latest"},
    {"docker.io/library/foo/bar", "docker.io", "library/foo/bar", "latest", "", "library/foo/bar:latest"},
    {"docker.io/busybox:latest", "docker.io", "library/busybox", "latest", "", "busybox:latest"},
    {"gcr.io/library/busybox", "gcr.io", "library/busybox", "latest", "", "gcr.io/library/busybox:latest"},
    // ParseDockerRef would drop the tag here; ParseNormalizedNamed, which we follow, keeps it.
    {"gcr.io/library/busybox:latest@" + sha_be, "gcr.io", "library/busybox", "latest", sha_be,
     "gcr.io/library/busybox:latest@" + sha_be},

    // regexp_test.go: domains
    {"ab.c-om/x", "ab.c-om", "x", "latest", "", "ab.c-om/x:latest"},
    {"0101.com/x", "0101.com", "x", "latest", "", "0101.com/x:latest"},
    {"001a.com/x", "001a.com", "x", "latest", "", "001a.com/x:latest"},
    {"Asdf.com/foo/bar", "Asdf.com", "foo/bar", "latest", "", "Asdf.com/foo/bar:latest"},
    {"b.gbc.io:443/x", "b.gbc.io:443", "x", "latest", "", "b.gbc.io:443/x:latest"},
    // The grammar does not range-check ports, and neither does docker.
    {"192.168.1.1:75050/x", "192.168.1.1:75050", "x", "latest", "", "192.168.1.1:75050/x:latest"},
    {"[fd00:1:2::3]:75050/x", "[fd00:1:2::3]:75050", "x", "latest", "", "[fd00:1:2::3]:75050/x:latest"},
    // The IPv6 grammar is loose: any hex digits and colons.
    {"[fd00123123123]:75050/x", "[fd00123123123]:75050", "x", "latest", "", "[fd00123123123]:75050/x:latest"},
    {"[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:75050/x", "[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:75050", "x",
     "latest", "", "[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:75050/x:latest"},

    // regexp_test.go: names and references
    {"short", "docker.io", "library/short", "latest", "", "short:latest"},
    {"simple/name", "docker.io", "simple/name", "latest", "", "simple/name:latest"},
    {"docker/stevvooe/app", "docker.io", "docker/stevvooe/app", "latest", "", "docker/stevvooe/app:latest"},
    {"a/a/a/a", "docker.io", "a/a/a/a", "latest", "", "a/a/a/a:latest"},
    {"aa-a/a", "docker.io", "aa-a/a", "latest", "", "aa-a/a:latest"},
    {"foo_bar", "docker.io", "library/foo_bar", "latest", "", "foo_bar:latest"},
    {"foo_bar.com", "docker.io", "library/foo_bar.com", "latest", "", "foo_bar.com:latest"},
    {"foo.com/foo_bar", "foo.com", "foo_bar", "latest", "", "foo.com/foo_bar:latest"},
    {"example.com/xn--7o8h.com/myimage", "example.com", "xn--7o8h.com/myimage", "latest", "",
     "example.com/xn--7o8h.com/myimage:latest"},
    {"example.com/some_separator__underscore/myimage", "example.com", "some_separator__underscore/myimage", "latest",
     "", "example.com/some_separator__underscore/myimage:latest"},
    {"do__cker/docker", "docker.io", "do__cker/docker", "latest", "", "do__cker/docker:latest"},
    {"registry.io/foo/project--id.module--name.ver---sion--name", "registry.io",
     "foo/project--id.module--name.ver---sion--name", "latest", "",
     "registry.io/foo/project--id.module--name.ver---sion--name:latest"},
    {"registry.com:8080/myapp:tag", "registry.com:8080", "myapp", "tag", "", "registry.com:8080/myapp:tag"},
    {"registry.com:8080/myapp@" + sha_be, "registry.com:8080", "myapp", std::nullopt, sha_be,
     "registry.com:8080/myapp@" + sha_be},
    {"registry.com:8080/myapp:tag2@" + sha_be, "registry.com:8080", "myapp", "tag2", sha_be,
     "registry.com:8080/myapp:tag2@" + sha_be},
    // A lone component is always a Hub name, even "localhost" (docker's FIXME, kept).
    {"localhost:8080@" + sha_be, "docker.io", "library/localhost", "8080", sha_be, "localhost:8080@" + sha_be},
    {"localhost:8080/name@" + sha_be, "localhost:8080", "name", std::nullopt, sha_be, "localhost:8080/name@" + sha_be},
    {"localhost@" + sha_be, "docker.io", "library/localhost", std::nullopt, sha_be, "localhost@" + sha_be},
    {"localhost", "docker.io", "library/localhost", "latest", "", "localhost:latest"},
    {"localhost:5000", "docker.io", "library/localhost", "5000", "", "localhost:5000"},

    // The issue's examples, tag grammar and boundaries.
    {"alpine", "docker.io", "library/alpine", "latest", "", "alpine:latest"},
    {"user/app", "docker.io", "user/app", "latest", "", "user/app:latest"},
    {"user/app:1", "docker.io", "user/app", "1", "", "user/app:1"},
    {"localhost:5000/x", "localhost:5000", "x", "latest", "", "localhost:5000/x:latest"},
    {"localhost:5000/x:y", "localhost:5000", "x", "y", "", "localhost:5000/x:y"},
    {"docker.io/library/alpine:3.20", "docker.io", "library/alpine", "3.20", "", "alpine:3.20"},
    {"index.docker.io:443/foo", "index.docker.io:443", "foo", "latest", "", "index.docker.io:443/foo:latest"},
    {"example.com/library/alpine", "example.com", "library/alpine", "latest", "", "example.com/library/alpine:latest"},
    {"foo:_x", "docker.io", "library/foo", "_x", "", "foo:_x"},
    {"foo:A.b-C_1", "docker.io", "library/foo", "A.b-C_1", "", "foo:A.b-C_1"},
    {"foo:" + std::string(128, 'a'), "docker.io", "library/foo", std::string(128, 'a'), "",
     "foo:" + std::string(128, 'a')},
    // "library/" counts towards the path limit: 247 + 8 = 255.
    {std::string(247, 'a'), "docker.io", "library/" + std::string(247, 'a'), "latest", "",
     std::string(247, 'a') + ":latest"},
    {"a.b.c/d.e_f__g-h---i/j", "a.b.c", "d.e_f__g-h---i/j", "latest", "", "a.b.c/d.e_f__g-h---i/j:latest"},
};

class ValidReference : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ValidReference, ParsesIntoNormalisedParts) {
  const ValidCase& c = GetParam();
  const Reference ref = Reference::parse(c.input);
  EXPECT_EQ(ref.domain(), c.domain);
  EXPECT_EQ(ref.path(), c.path);
  EXPECT_EQ(ref.tag(), c.tag);
  EXPECT_EQ(ref.digest().has_value(), !c.digest.empty());
  EXPECT_EQ(ref.digest() ? ref.digest()->string() : "", c.digest);
  EXPECT_EQ(ref.name(), c.domain + "/" + c.path);
  EXPECT_EQ(ref.string(), expected_string(c));
  EXPECT_EQ(ref.familiar(), c.familiar);
}

TEST_P(ValidReference, RoundTripsThroughStringAndFamiliar) {
  const Reference ref = Reference::parse(GetParam().input);
  EXPECT_EQ(Reference::parse(ref.string()), ref);
  EXPECT_EQ(Reference::parse(ref.string()).string(), ref.string());
  EXPECT_EQ(Reference::parse(ref.familiar()), ref);
}

TEST_P(ValidReference, TryParseAgrees) {
  const auto ref = Reference::try_parse(GetParam().input);
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(*ref, Reference::parse(GetParam().input));
}

INSTANTIATE_TEST_SUITE_P(Distribution, ValidReference, ::testing::ValuesIn(valid_cases));

// ---- invalid references --------------------------------------------------------------

struct InvalidCase {
  std::string input;
  std::string problem;  // a part of the message after `invalid reference "<input>": `
  ErrorCode code = ErrorCode::invalid_argument;
};

void PrintTo(const InvalidCase& c, std::ostream* os) { *os << '"' << c.input << '"'; }

const std::string lowercase = "repository name must be lowercase";
const std::string empty_component = "repository path has an empty component";
const std::string start_end = "must start and end with a lower-case letter or digit";
const std::string ipv6_alone = "an IPv6 registry address must be followed by '/' and a repository path";
const std::string too_long = "repository path must not be longer than 255 characters";

const std::vector<InvalidCase> invalid_cases = {
    // reference_test.go TestReferenceParse
    {"", "reference is empty"},
    {":justtag", "repository name is empty"},
    {"@" + sha_f, "repository name is empty"},
    {"repo@sha256:" + std::string(34, 'f'), "digest"},
    // A well-formed digest of an unknown algorithm keeps Digest's code, as distribution
    // keeps ErrDigestUnsupported: the reference is fine, knast just cannot verify it.
    {"validname@invaliddigest:" + f64, "digest", ErrorCode::unsupported},
    {"validname@sha384:" + std::string(96, 'f'), "digest", ErrorCode::unsupported},
    {"Uppercase:tag", lowercase},
    {"test:5000/Uppercase/lowercase:tag", lowercase},
    {"domain/" + std::string(256, 'a') + ":tag", too_long + " (it has 263)"},
    {"aa/asdf$$^/aa", "path component \"asdf$$^\" contains invalid character '$'"},
    {"[2001:db8::1]", ipv6_alone},
    {"[2001:db8::1]:5000", ipv6_alone},
    {"[2001:db8::1]:tag", ipv6_alone},
    {"[fe80::1%eth0]:5000/repo", "invalid domain \"[fe80::1%eth0]:5000\": IPv6 address may only contain hex digits"},
    {"[fe80::1%@invalidzone]:5000/repo", "contains invalid character '['"},

    // normalize_test.go TestValidateReferenceName (invalid names)
    {"https://github.com/docker/docker", "invalid domain \"https:\": port is empty"},
    {"docker/Docker", lowercase},
    {"-docker", "path component \"-docker\" " + start_end},
    {"-docker/docker", "path component \"-docker\" " + start_end},
    {"-docker.io/docker/docker", "invalid domain \"-docker.io\": domain component \"-docker\" must not start or end"},
    {"docker///docker", empty_component},
    {"docker.io/docker/Docker", lowercase},
    {"docker.io/docker///docker", empty_component},
    {"[fc00::1]", ipv6_alone},
    {"[fc00::1]:5000", ipv6_alone},
    {"fc00::1:5000/debian", "invalid domain \"fc00::1:5000\": port \":1:5000\" must be a number"},
    {"[fe80::1%eth0]:5000/debian", "IPv6 address may only contain hex digits and ':', not '%'"},
    {"[2001:db8:3:4::192.0.2.33]:5000/debian", "IPv6 address may only contain hex digits and ':', not '.'"},
    {hex64, "cannot specify 64-byte hexadecimal strings"},

    // normalize_test.go TestValidateRemoteName (invalid names)
    {"docker-/docker", "path component \"docker-\" " + start_end},
    {"-docker-/docker", "path component \"-docker-\" " + start_end},
    {"____/____", "path component \"____\" " + start_end},
    {"_docker/_docker", "path component \"_docker\" " + start_end},
    // A '.' makes the first component a domain, so these fail as domains.
    {"dock..er/docker", "invalid domain \"dock..er\": domain has an empty component"},
    {"dock_.er/docker", "invalid domain \"dock_.er\": domain contains invalid character '_'"},
    {"dock-.er/docker", "domain component \"dock-\" must not start or end with '-'"},
    {"docker/", empty_component},
    {"this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_"
     "lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_"
     "valid_namespace_because_its_lenth_is_greater_than_255/docker",
     too_long},

    // normalize_test.go TestInvalidReferenceComponents
    {"-foo", "path component \"-foo\" " + start_end},

    // regexp_test.go: domains
    {"test.com:http/x", "invalid domain \"test.com:http\": port \"http\" must be a number"},
    {"-ab.com/x", "domain component \"-ab\" must not start or end with '-'"},
    {"ab-.com/x", "domain component \"ab-\" must not start or end with '-'"},
    {"ab.-com/x", "domain component \"-com\" must not start or end with '-'"},
    {"ab.com-/x", "domain component \"com-\" must not start or end with '-'"},
    {"[fd00:1:2::3]75050/x", "IPv6 address must be followed by ':port' or '/'"},
    {"[fd00:1:2::3]::75050/x", "port \":75050\" must be a number"},
    {"[fd00:1:2::3%eth0]:75050/x", "not '%'"},
    {"fd00:1:2::3:75050/x", "invalid domain \"fd00:1:2::3:75050\": port"},

    // regexp_test.go: names and references
    {"a/a/a/a/", empty_component},
    {"a//a/a", empty_component},
    {"foo.com/", empty_component},
    {"foo.com:http/bar", "port \"http\" must be a number"},
    {"a^a", "path component \"a^a\" contains invalid character '^'"},
    {"asdf$$^/aa", "contains invalid character '$'"},
    {"a-/a/a/a", "path component \"a-\" " + start_end},
    {"foo.com/a-/a/a", "path component \"a-\" " + start_end},
    {"foo/bar-", "path component \"bar-\" " + start_end},
    {"foo-/bar", "path component \"foo-\" " + start_end},
    {"foo/-bar", "path component \"-bar\" " + start_end},
    {"_foo/bar", "path component \"_foo\" " + start_end},
    {"docker_/docker_", "path component \"docker_\" " + start_end},
    {"foo_bar.com:8080/app", "invalid domain \"foo_bar.com:8080\": domain contains invalid character '_'"},
    {"example.com/__underscore/myimage", "path component \"__underscore\" " + start_end},
    {"example.com/..dots/myimage", "path component \"..dots\" " + start_end},
    {"example.com/.dots/myimage", "path component \".dots\" " + start_end},
    {"example.com/nodouble..dots/myimage", "path component \"nodouble..dots\" has invalid separator \"..\""},
    {"docker./docker", "invalid domain \"docker.\": domain has an empty component"},
    {".docker/docker", "invalid domain \".docker\": domain has an empty component"},
    {"do..cker/docker", "invalid domain \"do..cker\": domain has an empty component"},
    {"do__cker:8080/docker", "invalid domain \"do__cker:8080\": domain contains invalid character '_'"},
    {"Foo/FarB", lowercase},
    {"registry.com:8080/myapp@sha256:badbadbadbad", "digest"},
    {"registry.com:8080/myapp:invalid~tag", "tag \"invalid~tag\" contains invalid character '~'"},
    {"bad_hostname.com:8080/myapp:tag", "invalid domain \"bad_hostname.com:8080\""},
    {"localhost:http/name@" + sha_be, "invalid domain \"localhost:http\": port \"http\" must be a number"},
    {"registry.com:8080/myapp@bad", "digest"},
    {"registry.com:8080/myapp@2bad", "digest"},
    // Parse reads "a" as the domain and accepts this; normalisation makes all of it the path.
    {repeat("a/", 128) + "a", too_long + " (it has 257)"},

    // Further ways to go wrong.
    {"foo:", "tag is empty"},
    {"foo@", "digest"},
    {"foo:-x", "tag \"-x\" must start with a letter, digit or '_'"},
    {"foo:.x", "tag \".x\" must start with a letter, digit or '_'"},
    {"foo:a+b", "tag \"a+b\" contains invalid character '+'"},
    {"foo:" + std::string(129, 'a'), "tag must not be longer than 128 characters (it has 129)"},
    {"foo:bar:baz", "path component \"foo:bar\" contains invalid character ':'"},
    {"foo@" + sha_f + "@" + sha_f, "digest"},
    {"foo:tag@" + sha_f + ":x", "digest"},
    {"foo bar", "contains invalid character ' '"},
    {"/foo", empty_component},
    {"a//b", empty_component},
    {"a/b//", empty_component},
    {"docker.io/", empty_component},
    {"localhost/", empty_component},
    {"foo/a___b", "path component \"a___b\" has invalid separator \"___\""},
    {"foo/a_.b", "has invalid separator \"_.\""},
    {"foo/a-.b", "has invalid separator \"-.\""},
    {"Alpine", lowercase},
    {"ALPINE:3", lowercase},
    {"user/App", lowercase},
    {std::string(248, 'a'), too_long + " (it has 256)"},
    {"example.com/" + std::string(256, 'a'), too_long},
    {"[::1/repo", "IPv6 address lacks its closing ']'"},
    {"[]:5000/repo", "IPv6 address is empty"},
    {"example.com:/repo", "invalid domain \"example.com:\": port is empty"},
    {"exa$mple.com/repo", "domain contains invalid character '$'"},
    // distribution's Parse would take this as a path on no domain at all, which cannot be
    // pulled from anywhere; knast refuses it as the invalid domain it looks like.
    {"foo_bar.com/app", "invalid domain \"foo_bar.com\": domain contains invalid character '_'"},
};

class InvalidReference : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidReference, ThrowsNamingInputAndProblem) {
  const InvalidCase& c = GetParam();
  const auto [code, message] = parse_error(c.input);
  EXPECT_EQ(code, c.code) << message;
  EXPECT_THAT(message, StartsWith("invalid reference \"" + c.input + "\": "));
  EXPECT_THAT(message, HasSubstr(c.problem));
}

TEST_P(InvalidReference, TryParseGivesNothing) { EXPECT_EQ(Reference::try_parse(GetParam().input), std::nullopt); }

INSTANTIATE_TEST_SUITE_P(Distribution, InvalidReference, ::testing::ValuesIn(invalid_cases));

// ---- repository info: every spelling of a repository gives one name ------------------

struct RepositoryCase {
  std::string input;
  std::string domain;
  std::string path;
  std::string familiar_name;
};

void PrintTo(const RepositoryCase& c, std::ostream* os) { *os << '"' << c.input << '"'; }

// normalize_test.go TestParseRepositoryInfo: the familiar, full and ambiguous spellings.
const std::vector<RepositoryCase> repository_cases = {
    {"localhost/fooo", "localhost", "fooo", "localhost/fooo"},
    {"localhost/fooo/bar", "localhost", "fooo/bar", "localhost/fooo/bar"},
    {"LOCALDOMAIN/fooo", "LOCALDOMAIN", "fooo", "LOCALDOMAIN/fooo"},
    {"LOCALDOMAIN/fooo/bar", "LOCALDOMAIN", "fooo/bar", "LOCALDOMAIN/fooo/bar"},
    {"fooo/bar", "docker.io", "fooo/bar", "fooo/bar"},
    {"docker.io/fooo/bar", "docker.io", "fooo/bar", "fooo/bar"},
    {"index.docker.io/fooo/bar", "docker.io", "fooo/bar", "fooo/bar"},
    {"ubuntu", "docker.io", "library/ubuntu", "ubuntu"},
    {"docker.io/library/ubuntu", "docker.io", "library/ubuntu", "ubuntu"},
    {"library/ubuntu", "docker.io", "library/ubuntu", "ubuntu"},
    {"nonlibrary/ubuntu", "docker.io", "nonlibrary/ubuntu", "nonlibrary/ubuntu"},
    {"docker.io/nonlibrary/ubuntu", "docker.io", "nonlibrary/ubuntu", "nonlibrary/ubuntu"},
    {"other/library", "docker.io", "other/library", "other/library"},
    {"docker.io/other/library", "docker.io", "other/library", "other/library"},
    {"127.0.0.1:8000/private/moonbase", "127.0.0.1:8000", "private/moonbase", "127.0.0.1:8000/private/moonbase"},
    {"127.0.0.1:8000/privatebase", "127.0.0.1:8000", "privatebase", "127.0.0.1:8000/privatebase"},
    {"example.com/private/moonbase", "example.com", "private/moonbase", "example.com/private/moonbase"},
    {"example.com/privatebase", "example.com", "privatebase", "example.com/privatebase"},
    {"example.com:8000/private/moonbase", "example.com:8000", "private/moonbase", "example.com:8000/private/moonbase"},
    {"example.com:8000/privatebasee", "example.com:8000", "privatebasee", "example.com:8000/privatebasee"},
    {"ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base", "ubuntu-12.04-base"},
    {"docker.io/library/ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base", "ubuntu-12.04-base"},
    {"index.docker.io/library/ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base", "ubuntu-12.04-base"},
    {"foo", "docker.io", "library/foo", "foo"},
    {"docker.io/library/foo", "docker.io", "library/foo", "foo"},
    {"docker.io/foo", "docker.io", "library/foo", "foo"},
    // Only "library/x" shortens: "library/foo/bar" would read back as "docker.io/foo/bar".
    {"library/foo/bar", "docker.io", "library/foo/bar", "library/foo/bar"},
    {"docker.io/library/foo/bar", "docker.io", "library/foo/bar", "library/foo/bar"},
    {"store/foo/bar", "docker.io", "store/foo/bar", "store/foo/bar"},
    {"docker.io/store/foo/bar", "docker.io", "store/foo/bar", "store/foo/bar"},
    {"Foo/bar", "Foo", "bar", "Foo/bar"},
    {"FOO/bar", "FOO", "bar", "FOO/bar"},
};

class RepositoryInfo : public ::testing::TestWithParam<RepositoryCase> {};

TEST_P(RepositoryInfo, NormalisesDomainPathAndFamiliarName) {
  const RepositoryCase& c = GetParam();
  const Reference ref = Reference::parse(c.input);
  EXPECT_EQ(ref.domain(), c.domain);
  EXPECT_EQ(ref.path(), c.path);
  EXPECT_EQ(ref.name(), c.domain + "/" + c.path);
  EXPECT_EQ(ref.familiar_name(), c.familiar_name);
  EXPECT_EQ(ref.tag(), std::optional<std::string>("latest"));
  EXPECT_EQ(Reference::parse(ref.familiar_name()), ref);
}

INSTANTIATE_TEST_SUITE_P(Distribution, RepositoryInfo, ::testing::ValuesIn(repository_cases));

// ---- single behaviours -----------------------------------------------------------------

TEST(Reference, IssueExamples) {
  EXPECT_EQ(Reference::parse("alpine").string(), "docker.io/library/alpine:latest");
  EXPECT_EQ(Reference::parse("user/app").string(), "docker.io/user/app:latest");
  EXPECT_EQ(Reference::parse("localhost:5000/x").string(), "localhost:5000/x:latest");
  EXPECT_EQ(Reference::parse("index.docker.io/alpine").string(), "docker.io/library/alpine:latest");
  EXPECT_EQ(Reference::parse("docker.io/alpine").string(), "docker.io/library/alpine:latest");
  EXPECT_EQ(Reference::parse("[::1]:5000/x@" + sha_f).string(), "[::1]:5000/x@" + sha_f);
  EXPECT_EQ(Reference::parse("x/y:t@" + sha_f).string(), "docker.io/x/y:t@" + sha_f);
}

TEST(Reference, Constants) {
  EXPECT_EQ(Reference::default_domain, "docker.io");
  EXPECT_EQ(Reference::default_tag, "latest");
  EXPECT_EQ(Reference::max_tag_length, 128u);
  EXPECT_EQ(Reference::max_name_length, 255u);
}

TEST(Reference, CanonicalStringsAreKeptVerbatim) {
  // normalize_test.go TestParseNamed: these are already canonical.
  const std::vector<std::string> canonical = {"docker.io/library/foo:latest", "test.com/foo:latest",
                                              "test:8080/foo:latest", "docker.io/user/app:1",
                                              "docker.io/library/alpine@" + sha_f, "[::1]:5000/a/b:c@" + sha_f};
  for (const std::string& s : canonical) EXPECT_EQ(Reference::parse(s).string(), s);
}

TEST(Reference, DigestOnlyGetsNoTag) {
  const Reference ref = Reference::parse("alpine@" + sha_f);
  EXPECT_FALSE(ref.tag().has_value());
  EXPECT_EQ(ref.digest(), Digest::parse(sha_f));
  EXPECT_EQ(ref.string(), "docker.io/library/alpine@" + sha_f);
  EXPECT_EQ(ref.familiar(), "alpine@" + sha_f);
  EXPECT_EQ(ref.familiar_name(), "alpine");
}

TEST(Reference, FamiliarForms) {
  EXPECT_EQ(Reference::parse("docker.io/library/alpine:latest").familiar(), "alpine:latest");
  EXPECT_EQ(Reference::parse("docker.io/user/app:1").familiar(), "user/app:1");
  EXPECT_EQ(Reference::parse("localhost:5000/x:y").familiar(), "localhost:5000/x:y");
  EXPECT_EQ(Reference::parse("docker.io/library/alpine").familiar_name(), "alpine");
  EXPECT_EQ(Reference::parse("user/app:1").familiar_name(), "user/app");
  EXPECT_EQ(Reference::parse("localhost:5000/x:y").familiar_name(), "localhost:5000/x");
  EXPECT_EQ(Reference::parse("example.com/library/alpine").familiar_name(), "example.com/library/alpine");
  EXPECT_EQ(Reference::parse("busybox:latest@" + sha_be).familiar(), "busybox:latest@" + sha_be);
}

TEST(Reference, FamiliarFormIsAmbiguousLikeDockers) {
  // docker.io/foo.com/bar shortens, as in docker's FamiliarString, to a string that reads
  // back with foo.com as the registry. Docker Hub namespaces cannot contain '.', so this
  // never names a real Hub image; string() is the form to store.
  const Reference ref = Reference::parse("docker.io/foo.com/bar");
  EXPECT_EQ(ref.familiar(), "foo.com/bar:latest");
  EXPECT_EQ(Reference::parse(ref.familiar()).domain(), "foo.com");
  EXPECT_EQ(Reference::parse(ref.string()), ref);
}

TEST(Reference, EqualityComparesNormalisedParts) {
  const Reference alpine = Reference::parse("alpine");
  EXPECT_EQ(alpine, Reference::parse("docker.io/library/alpine:latest"));
  EXPECT_EQ(alpine, Reference::parse("index.docker.io/library/alpine"));
  EXPECT_EQ(alpine, Reference::parse("library/alpine:latest"));
  EXPECT_EQ(alpine, Reference::parse("docker.io/alpine"));
  EXPECT_NE(alpine, Reference::parse("alpine:3"));
  EXPECT_NE(alpine, Reference::parse("alpine:latest@" + sha_f));
  EXPECT_NE(alpine, Reference::parse("example.com/library/alpine"));
  EXPECT_NE(alpine, Reference::parse("user/alpine"));
  EXPECT_NE(Reference::parse("Docker/docker"), Reference::parse("docker/docker"));
  EXPECT_NE(Reference::parse("a@" + sha_f), Reference::parse("a@" + sha_be));
}

TEST(Reference, ErrorMessagesNameInputAndProblem) {
  EXPECT_EQ(parse_error("Alpine").second, "invalid reference \"Alpine\": repository name must be lowercase");
  EXPECT_EQ(parse_error("").second, "invalid reference \"\": reference is empty");
  EXPECT_EQ(parse_error("a//b").second, "invalid reference \"a//b\": repository path has an empty component");
  EXPECT_EQ(parse_error("test.com:http/x").second,
            "invalid reference \"test.com:http/x\": invalid domain \"test.com:http\": port \"http\" must be a number");
  EXPECT_EQ(parse_error("foo:a+b").second, "invalid reference \"foo:a+b\": tag \"a+b\" contains invalid character '+'");
  EXPECT_EQ(parse_error(hex64).second,
            "invalid reference \"" + hex64 + "\": cannot specify 64-byte hexadecimal strings as a repository name");
}

TEST(Reference, ErrorMessagesEscapeUnprintableInput) {
  EXPECT_EQ(parse_error("foo\nbar").second,
            "invalid reference \"foo\\x0abar\": path component \"foo\\x0abar\" contains invalid character '\\x0a'");
  EXPECT_EQ(parse_error("a\"b").second,
            "invalid reference \"a\\\"b\": path component \"a\\\"b\" contains invalid character '\\\"'");
  EXPECT_EQ(parse_error(std::string_view("a\0b", 3)).first, ErrorCode::invalid_argument);
}

TEST(Reference, DigestErrorsWrapDigestsOwnMessage) {
  for (const std::string& digest :
       std::vector<std::string>{"sha256:" + std::string(34, 'f'), "sha256:" + std::string(64, 'F'), "md5:abc"}) {
    std::string digest_message;
    ErrorCode digest_code = ErrorCode::ok;
    try {
      Digest::parse(digest);
    } catch (const Error& e) {
      digest_message = e.what();
      digest_code = e.kind();
    }
    const std::string input = "repo@" + digest;
    const auto [code, message] = parse_error(input);
    EXPECT_EQ(code, digest_code);
    EXPECT_EQ(message, "invalid reference \"" + input + "\": " + digest_message);
  }
}

TEST(Reference, TryParseIsNoexcept) {
  static_assert(noexcept(Reference::try_parse("alpine")));
  EXPECT_EQ(Reference::try_parse("alpine"), Reference::parse("alpine"));
  EXPECT_EQ(Reference::try_parse("Alpine"), std::nullopt);
  EXPECT_EQ(Reference::try_parse("x@md5:abc"), std::nullopt);
}

TEST(Reference, WithTagReplacesTagAndKeepsDigest) {
  const Reference busybox = Reference::parse("busybox");
  EXPECT_EQ(busybox.with_tag("1.36").string(), "docker.io/library/busybox:1.36");
  EXPECT_EQ(busybox.string(), "docker.io/library/busybox:latest");  // unchanged
  EXPECT_EQ(busybox.with_tag("TAG5").tag(), std::optional<std::string>("TAG5"));
  EXPECT_EQ(Reference::parse("test.com:8000/foo@" + sha_f).with_tag("TAG5").string(),
            "test.com:8000/foo:TAG5@" + sha_f);
  EXPECT_EQ(Reference::parse("foo:a@" + sha_f).with_tag("b").string(), "docker.io/library/foo:b@" + sha_f);
}

TEST(Reference, WithTagRefusesInvalidTags) {
  const Reference busybox = Reference::parse("busybox");
  const std::vector<std::string> bad_tags = {"", "-foo", ".foo", "a:b", "a@b", "a/b", std::string(129, 'x')};
  for (const std::string& tag : bad_tags) {
    try {
      (void)busybox.with_tag(tag);
      ADD_FAILURE() << "accepted tag \"" << tag << "\"";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
      EXPECT_THAT(e.what(), StartsWith("cannot tag docker.io/library/busybox:latest: tag "));
    }
  }
  EXPECT_NO_THROW((void)busybox.with_tag(std::string(128, 'x')));
}

TEST(Reference, WithDigestAddsOrReplacesDigestAndKeepsTag) {
  const Digest f = Digest::parse(sha_f);
  const Digest be = Digest::parse(sha_be);
  EXPECT_EQ(Reference::parse("test.com:8000/foo:latest").with_digest(f).string(), "test.com:8000/foo:latest@" + sha_f);
  EXPECT_EQ(Reference::parse("foo@" + sha_f).with_digest(be).string(), "docker.io/library/foo@" + sha_be);
  EXPECT_EQ(Reference::parse("foo:1@" + sha_f).with_digest(be).string(), "docker.io/library/foo:1@" + sha_be);
  EXPECT_EQ(Reference::parse("foo").with_digest(f), Reference::parse("foo:latest@" + sha_f));
}

TEST(Reference, WithoutTagNeedsADigest) {
  EXPECT_EQ(Reference::parse("foo:1@" + sha_f).without_tag().string(), "docker.io/library/foo@" + sha_f);
  EXPECT_EQ(Reference::parse("foo@" + sha_f).without_tag(), Reference::parse("foo@" + sha_f));
  try {
    (void)Reference::parse("foo:1").without_tag();
    ADD_FAILURE() << "removed the only tag";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
    EXPECT_THAT(e.what(), HasSubstr("docker.io/library/foo:1"));
  }
  EXPECT_EQ(Reference::parse("foo").with_digest(Digest::parse(sha_f)).without_tag().string(),
            "docker.io/library/foo@" + sha_f);
}

}  // namespace
