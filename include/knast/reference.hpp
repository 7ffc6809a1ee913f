/// @file reference.hpp
/// @brief Image references (`alpine`, `localhost:5000/team/app:1.2@sha256:…`), parsed and
///        normalised exactly as docker does.
#pragma once

#include <knast/digest.hpp>
#include <knast/export.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace knast {
inline namespace v0 {

/// A fully normalised image reference: registry domain, repository path, and a tag, a
/// digest or both.
///
/// Parsing follows the reference grammar of the distribution project and docker's
/// normalisation: a name without a domain gets `docker.io`, a single-component name on
/// docker.io gets `library/`, `index.docker.io` is an alias of `docker.io`, and a
/// reference with neither tag nor digest gets the tag `latest`. Every way a string can be
/// invalid gives an Error with ErrorCode::invalid_argument naming what is wrong; only a
/// well-formed digest of an algorithm knast does not support gives ErrorCode::unsupported,
/// as Digest::parse does.
class KNAST_API Reference {
 public:
  /// The domain docker uses when a name has none.
  static constexpr std::string_view default_domain = "docker.io";
  /// The tag used when a reference has neither tag nor digest.
  static constexpr std::string_view default_tag = "latest";
  /// Longest allowed tag (128 characters).
  static constexpr std::size_t max_tag_length = 128;
  /// Longest allowed repository path ("library/alpine"). As in the distribution grammar
  /// since 2024, the domain does not count towards it.
  static constexpr std::size_t max_name_length = 255;

  /// Parses and normalises @p text.
  /// @throws Error invalid_argument, naming the input and the problem; unsupported for a
  ///         digest whose algorithm knast does not support.
  static Reference parse(std::string_view text);
  /// As parse(), but returns nothing instead of throwing.
  static std::optional<Reference> try_parse(std::string_view text) noexcept;

  /// Registry domain, possibly with a port: "docker.io", "localhost:5000", "[::1]:5000".
  const std::string& domain() const noexcept { return domain_; }
  /// Repository path inside the registry: "library/alpine".
  const std::string& path() const noexcept { return path_; }
  /// The tag, if the reference has one (normalised references without a digest always do).
  const std::optional<std::string>& tag() const noexcept { return tag_; }
  /// The digest, if the reference has one.
  const std::optional<Digest>& digest() const noexcept { return digest_; }

  /// Domain and path: "docker.io/library/alpine".
  std::string name() const;
  /// The full normalised form: "docker.io/library/alpine:latest", "x/y@sha256:…", "x/y:t@sha256:…".
  std::string string() const;
  /// The short form docker displays: "alpine:latest", "user/app:1", "localhost:5000/x:y".
  std::string familiar() const;
  /// The short form of name() alone: "alpine", "user/app".
  std::string familiar_name() const;

  /// A copy with tag @p tag (validated), keeping the digest.
  Reference with_tag(std::string_view tag) const;
  /// A copy with digest @p digest, keeping the tag.
  Reference with_digest(const Digest& digest) const;
  /// A copy without the tag; only allowed when the reference has a digest.
  Reference without_tag() const;

  /// References compare by their normalised parts.
  friend bool operator==(const Reference&, const Reference&) = default;

 private:
  Reference() = default;
  std::string domain_;
  std::string path_;
  std::optional<std::string> tag_;
  std::optional<Digest> digest_;
};

}  // namespace v0
}  // namespace knast
