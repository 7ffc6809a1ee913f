/// @file digest.hpp
/// @brief Content digests (`sha256:…`, `sha512:…`) and streaming hashing over OpenSSL.
#pragma once

#include <knast/export.hpp>

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace knast {
inline namespace v0 {

/// The digest algorithms knast can compute and verify.
enum class DigestAlgorithm { sha256, sha512 };

/// The OCI name of an algorithm: "sha256" or "sha512".
KNAST_API std::string_view to_string(DigestAlgorithm algorithm) noexcept;

/// A validated content digest as the OCI image spec defines it: `algorithm:encoded`.
///
/// Only the registered algorithms sha256 (64 lower-case hex digits) and sha512 (128) are
/// accepted. A string that fits the spec's general grammar but names another algorithm is
/// refused with ErrorCode::unsupported; anything else with ErrorCode::invalid_argument.
class KNAST_API Digest {
 public:
  /// Parses and validates @p text.
  /// @throws Error invalid_argument (malformed) or unsupported (unknown algorithm).
  static Digest parse(std::string_view text);
  /// Parses @p text, or returns nothing where parse() would throw.
  static std::optional<Digest> try_parse(std::string_view text) noexcept;
  /// The digest of @p data.
  static Digest of(std::span<const std::byte> data, DigestAlgorithm algorithm = DigestAlgorithm::sha256);
  /// The digest of the bytes of @p data.
  static Digest of(std::string_view data, DigestAlgorithm algorithm = DigestAlgorithm::sha256);
  /// Builds a digest from an algorithm and its hex encoding (validated).
  static Digest from_hex(DigestAlgorithm algorithm, std::string_view hex);

  /// The algorithm.
  DigestAlgorithm algorithm() const noexcept { return algorithm_; }
  /// The encoded part: lower-case hex.
  const std::string& hex() const noexcept { return hex_; }
  /// `algorithm:hex`.
  std::string string() const;

  /// Digests compare by algorithm, then hex.
  friend bool operator==(const Digest&, const Digest&) = default;
  /// Orders digests by algorithm, then hex.
  friend std::strong_ordering operator<=>(const Digest&, const Digest&) = default;

 private:
  Digest(DigestAlgorithm algorithm, std::string hex) : algorithm_(algorithm), hex_(std::move(hex)) {}
  DigestAlgorithm algorithm_;
  std::string hex_;
};

/// A streaming hasher over OpenSSL's EVP interface. Move-only; one finish() per hasher.
class KNAST_API Hasher {
 public:
  /// Starts hashing with @p algorithm.
  explicit Hasher(DigestAlgorithm algorithm = DigestAlgorithm::sha256);
  ~Hasher();
  /// Hashers move but do not copy.
  Hasher(Hasher&&) noexcept;
  /// Hashers move but do not copy.
  Hasher& operator=(Hasher&&) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  /// Feeds @p size bytes at @p data.
  void update(const void* data, std::size_t size);
  /// Feeds the bytes of @p data.
  void update(std::string_view data) { update(data.data(), data.size()); }
  /// Ends hashing and returns the digest. @throws Error internal if called twice.
  Digest finish();
  /// Number of bytes fed so far.
  std::uint64_t bytes() const noexcept { return bytes_; }
  /// The algorithm in use.
  DigestAlgorithm algorithm() const noexcept { return algorithm_; }

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
  DigestAlgorithm algorithm_;
  std::uint64_t bytes_ = 0;
};

/// Hashes a stream and checks it against an expected digest (and size) when closed.
///
/// A size overrun is reported as soon as it happens, so a lying or hostile source is
/// stopped before it can fill a disk.
class KNAST_API DigestVerifier {
 public:
  /// Expects content with digest @p expected and, if given, exactly @p expected_size bytes.
  explicit DigestVerifier(Digest expected, std::optional<std::uint64_t> expected_size = std::nullopt);
  /// Feeds bytes. @throws Error integrity once more bytes than expected_size arrive.
  void update(const void* data, std::size_t size);
  /// Feeds the bytes of @p data.
  void update(std::string_view data) { update(data.data(), data.size()); }
  /// Finishes and verifies. @throws Error integrity naming the expected and actual digest or size.
  void close();
  /// Number of bytes fed so far.
  std::uint64_t bytes() const noexcept { return hasher_.bytes(); }
  /// The digest this verifier expects.
  const Digest& expected() const noexcept { return expected_; }

 private:
  Digest expected_;
  std::optional<std::uint64_t> expected_size_;
  Hasher hasher_;
};

}  // namespace v0
}  // namespace knast

/// @cond INTERNAL
/// Digests hash by their hex encoding, so they can key unordered containers (sha256 and
/// sha512 encodings differ in length, so the algorithm needs no hashing of its own).
template <>
struct std::hash<knast::Digest> {
  std::size_t operator()(const knast::Digest& d) const noexcept { return std::hash<std::string>{}(d.hex()); }
};
/// @endcond
