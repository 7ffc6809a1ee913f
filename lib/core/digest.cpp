#include <knast/digest.hpp>
#include <knast/error.hpp>

#include "core/text.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>

namespace knast {
inline namespace v0 {
namespace {

// ---------------------------------------------------------------------------------------
// Validation. The checks report a Flaw rather than throwing so that try_parse() needs
// neither exceptions nor message formatting; parse() turns a Flaw into the message.

enum class Flaw { none, no_colon, bad_algorithm, bad_encoded, unknown_algorithm, not_lower_hex, wrong_length };

constexpr bool is_lower_alnum(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
constexpr bool is_lower_hex(char c) noexcept { return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9'); }
constexpr bool is_algorithm_separator(char c) noexcept { return c == '+' || c == '.' || c == '_' || c == '-'; }
constexpr bool is_encoded_char(char c) noexcept {
  return is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '=' || c == '_' || c == '-';
}

// algorithm ::= component (separator component)*, component ::= [a-z0-9]+
bool is_algorithm_grammar(std::string_view algorithm) noexcept {
  bool after_component = false;
  for (char c : algorithm) {
    if (is_lower_alnum(c)) {
      after_component = true;
    } else if (is_algorithm_separator(c) && after_component) {
      after_component = false;
    } else {
      return false;
    }
  }
  return after_component;  // also false when empty or ending in a separator
}

bool is_encoded_grammar(std::string_view encoded) noexcept {
  return !encoded.empty() && std::all_of(encoded.begin(), encoded.end(), is_encoded_char);
}

std::optional<DigestAlgorithm> registered_algorithm(std::string_view name) noexcept {
  if (name == "sha256") return DigestAlgorithm::sha256;
  if (name == "sha512") return DigestAlgorithm::sha512;
  return std::nullopt;
}

constexpr std::size_t hex_length(DigestAlgorithm algorithm) noexcept {
  return algorithm == DigestAlgorithm::sha512 ? 128 : 64;
}

Flaw check_hex(DigestAlgorithm algorithm, std::string_view hex) noexcept {
  if (!std::all_of(hex.begin(), hex.end(), is_lower_hex)) return Flaw::not_lower_hex;
  if (hex.size() != hex_length(algorithm)) return Flaw::wrong_length;
  return Flaw::none;
}

struct Parts {
  std::string_view algorithm_name;
  std::string_view encoded;
  DigestAlgorithm algorithm = DigestAlgorithm::sha256;
};

// The spec's grammar is checked first, so that a well-formed digest of an algorithm we do
// not know is told apart (unsupported) from a malformed one (invalid_argument).
Flaw examine(std::string_view text, Parts& parts) noexcept {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return Flaw::no_colon;
  parts.algorithm_name = text.substr(0, colon);
  parts.encoded = text.substr(colon + 1);
  if (!is_algorithm_grammar(parts.algorithm_name)) return Flaw::bad_algorithm;
  if (!is_encoded_grammar(parts.encoded)) return Flaw::bad_encoded;
  const auto algorithm = registered_algorithm(parts.algorithm_name);
  if (!algorithm) return Flaw::unknown_algorithm;
  parts.algorithm = *algorithm;
  return check_hex(parts.algorithm, parts.encoded);
}

// Digests come from untrusted documents: keep messages short and printable.
std::string quoted(std::string_view text) { return detail::quote_untrusted(text); }

std::string describe(Flaw flaw, const Parts& parts) {
  const auto name = to_string(parts.algorithm);
  switch (flaw) {
    case Flaw::none: return "no flaw";
    case Flaw::no_colon: return "expected algorithm:encoded";
    case Flaw::bad_algorithm:
      if (parts.algorithm_name.empty()) return "empty algorithm";
      return fmt::format("algorithm {} must be lower-case letters and digits joined by + . _ or -",
                         quoted(parts.algorithm_name));
    case Flaw::bad_encoded:
      if (parts.encoded.empty()) return "empty encoded part";
      return "encoded part may only hold letters, digits, = _ and -";
    case Flaw::unknown_algorithm:
      return fmt::format("algorithm {} is not supported, only sha256 and sha512", quoted(parts.algorithm_name));
    case Flaw::not_lower_hex: return fmt::format("{} needs lower-case hex digits", name);
    case Flaw::wrong_length:
      return fmt::format("{} needs {} hex digits, got {}", name, hex_length(parts.algorithm), parts.encoded.size());
  }
  return "unknown flaw";
}

// A well-formed digest of another algorithm is "unsupported", not "invalid": the caller
// may know it is legitimate content that this build cannot verify.
[[noreturn]] void throw_flaw(Flaw flaw, std::string_view text, const Parts& parts) {
  const bool unsupported = flaw == Flaw::unknown_algorithm;
  throw Error(unsupported ? ErrorCode::unsupported : ErrorCode::invalid_argument,
              fmt::format("{} digest {}: {}", unsupported ? "unsupported" : "invalid", quoted(text), describe(flaw, parts)));
}

// ---------------------------------------------------------------------------------------
// OpenSSL helpers.

[[noreturn]] void throw_openssl(std::string_view what) {
  std::string reason = "unknown OpenSSL error";
  if (const unsigned long code = ERR_get_error(); code != 0) {
    std::array<char, 256> buffer{};
    ERR_error_string_n(code, buffer.data(), buffer.size());
    reason = buffer.data();
  }
  ERR_clear_error();  // the queue is per thread; leave it clean for the next caller
  throw Error(ErrorCode::internal, fmt::format("{}: {}", what, reason));
}

const EVP_MD* evp_md(DigestAlgorithm algorithm) noexcept {
  return algorithm == DigestAlgorithm::sha512 ? EVP_sha512() : EVP_sha256();
}

std::string to_hex(const unsigned char* data, std::size_t size) {
  constexpr std::string_view digits = "0123456789abcdef";
  std::string hex(size * 2, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    hex[2 * i] = digits[static_cast<std::size_t>(data[i] >> 4)];
    hex[2 * i + 1] = digits[static_cast<std::size_t>(data[i] & 0x0f)];
  }
  return hex;
}

}  // namespace

std::string_view to_string(DigestAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case DigestAlgorithm::sha256: return "sha256";
    case DigestAlgorithm::sha512: return "sha512";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------
// Digest

Digest Digest::parse(std::string_view text) {
  Parts parts;
  if (const Flaw flaw = examine(text, parts); flaw != Flaw::none) throw_flaw(flaw, text, parts);
  return Digest(parts.algorithm, std::string(parts.encoded));
}

std::optional<Digest> Digest::try_parse(std::string_view text) noexcept {
  Parts parts;
  if (examine(text, parts) != Flaw::none) return std::nullopt;
  return Digest(parts.algorithm, std::string(parts.encoded));
}

Digest Digest::from_hex(DigestAlgorithm algorithm, std::string_view hex) {
  const Parts parts{to_string(algorithm), hex, algorithm};
  if (const Flaw flaw = check_hex(algorithm, hex); flaw != Flaw::none)
    throw_flaw(flaw, fmt::format("{}:{}", parts.algorithm_name, hex), parts);
  return Digest(algorithm, std::string(hex));
}

Digest Digest::of(std::span<const std::byte> data, DigestAlgorithm algorithm) {
  Hasher hasher(algorithm);
  hasher.update(data.data(), data.size());
  return hasher.finish();
}

Digest Digest::of(std::string_view data, DigestAlgorithm algorithm) {
  return of(std::as_bytes(std::span(data.data(), data.size())), algorithm);
}

std::string Digest::string() const { return fmt::format("{}:{}", to_string(algorithm_), hex_); }

// ---------------------------------------------------------------------------------------
// Hasher

// Owns the EVP context; freed as soon as the digest is final, so a null Context pointer
// means "finished or moved from".
struct Hasher::Context {
  explicit Context(DigestAlgorithm algorithm) : md(EVP_MD_CTX_new()) {
    if (md == nullptr) throw_openssl("EVP_MD_CTX_new");
    if (EVP_DigestInit_ex(md, evp_md(algorithm), nullptr) != 1) {
      EVP_MD_CTX_free(md);
      throw_openssl(fmt::format("starting {} hash", to_string(algorithm)));
    }
  }
  ~Context() { EVP_MD_CTX_free(md); }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  EVP_MD_CTX* md;
};

Hasher::Hasher(DigestAlgorithm algorithm) : ctx_(std::make_unique<Context>(algorithm)), algorithm_(algorithm) {}
Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::update(const void* data, std::size_t size) {
  if (!ctx_) throw Error(ErrorCode::internal, "Hasher::update after finish() or move");
  if (size == 0) return;  // data may be null then; OpenSSL need not see it
  if (EVP_DigestUpdate(ctx_->md, data, size) != 1) throw_openssl(fmt::format("{} hash update", to_string(algorithm_)));
  bytes_ += size;
}

Digest Hasher::finish() {
  if (!ctx_) throw Error(ErrorCode::internal, "Hasher::finish called twice (or after move)");
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx_->md, md.data(), &size) != 1)
    throw_openssl(fmt::format("{} hash finish", to_string(algorithm_)));
  ctx_.reset();
  return Digest::from_hex(algorithm_, to_hex(md.data(), size));
}

// ---------------------------------------------------------------------------------------
// DigestVerifier

DigestVerifier::DigestVerifier(Digest expected, std::optional<std::uint64_t> expected_size)
    : expected_(std::move(expected)), expected_size_(expected_size), hasher_(expected_.algorithm()) {}

void DigestVerifier::update(const void* data, std::size_t size) {
  // bytes() never exceeds expected_size_: overrunning bytes are refused, not hashed.
  if (expected_size_ && size > *expected_size_ - bytes())
    throw Error(ErrorCode::integrity, fmt::format("content of {} is larger than the expected {} bytes (got at least {})",
                                                  expected_.string(), *expected_size_, bytes() + size));
  hasher_.update(data, size);
}

void DigestVerifier::close() {
  if (expected_size_ && bytes() != *expected_size_)
    throw Error(ErrorCode::integrity, fmt::format("content of {} has {} bytes, expected {}", expected_.string(),
                                                  bytes(), *expected_size_));
  const Digest actual = hasher_.finish();
  if (actual != expected_)
    throw Error(ErrorCode::integrity,
                fmt::format("content has digest {}, expected {}", actual.string(), expected_.string()));
}

}  // namespace v0
}  // namespace knast
