/// @file platform.hpp
/// @brief Image platforms (os/architecture/variant), host detection and the matching
///        rules containerd applies when choosing from a multi-platform index.
#pragma once

#include <knast/export.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace knast {
inline namespace v0 {

/// An OCI platform: the `platform` object of an index entry, or the os/architecture of an
/// image config.
struct KNAST_API Platform {
  std::string os;                        ///< "linux", "freebsd", ...
  std::string architecture;              ///< GOARCH names: "amd64", "arm64", "386", "arm", ...
  std::string variant;                   ///< "v8", "v7", "v3", or empty.
  std::string os_version;                ///< `os.version`, mostly empty.
  std::vector<std::string> os_features;  ///< `os.features`, mostly empty.

  /// Parses a specifier as containerd does and normalises it: "os/arch[/variant]"
  /// (`linux/arm64/v8`, `freebsd/amd64`), a known os alone (`linux`: the host's
  /// architecture) or a known architecture alone (`arm64`: the host's os). The os may
  /// carry `(os.version+feature+...)` with %-escapes, as in `windows(10.0.17763)/amd64`.
  /// Unlike containerd's Parse, the result is always normalised (`linux/arm` gives
  /// variant "v7"). @throws Error invalid_argument.
  static Platform parse(std::string_view text);
  /// The platform of the running host, from uname(3) (FreeBSD or Linux; amd64, arm64, ...).
  static Platform host();

  /// The normalised form: lower-case os, canonical architecture ("x86_64" → "amd64",
  /// "aarch64" → "arm64"), canonical variant ("8" → "v8"; arm64 "v8" is the default and
  /// is dropped, as containerd does; amd64 "v1" is dropped likewise; 32-bit arm without
  /// a variant is "v7"); os_features sorted without duplicates.
  Platform normalized() const;
  /// "os/arch" or "os/arch/variant".
  std::string string() const;

  /// Platforms compare by every field.
  friend bool operator==(const Platform&, const Platform&) = default;
};

/// Maps an OS name as uname(3) or a user spells it to the OCI name ("FreeBSD" → "freebsd",
/// "Darwin" → "darwin", "macos" → "darwin"). Unlike containerd, "" stays "" rather than
/// becoming the host's os: the function does not look at the host.
KNAST_API std::string normalize_os(std::string_view os);
/// Maps an architecture name as uname(3) or a user spells it to the OCI (GOARCH) name,
/// with the variant it implies: "x86_64" → {"amd64",""}, "aarch64" → {"arm64",""},
/// "armv7l" → {"arm","v7"}, "i686" → {"386",""}. Names and variants are lower-cased first;
/// names it does not know are kept (lower-cased) with their variant.
KNAST_API std::pair<std::string, std::string> normalize_architecture(std::string_view arch, std::string_view variant = {});

/// Decides which platforms can run where a wanted platform is asked for, and which of
/// several candidates is best, with containerd's rules: the os must be equal; an arm64
/// host also runs arm v8/v7/v6/v5 images; an arm vN host runs arm variants up to N; an
/// amd64 vN host runs amd64 variants up to N and 386 (containerd's `platforms.Only`).
/// os.version is not compared (containerd compares it for Windows only); a candidate's
/// os.features must all be among the wanted platform's. Images for another os never
/// match: to run Linux images on a FreeBSD host, ask for a linux platform.
class KNAST_API PlatformMatcher {
 public:
  /// A matcher for @p wanted (normalised first).
  explicit PlatformMatcher(const Platform& wanted);
  /// Whether @p candidate can be used where the wanted platform is asked for.
  bool matches(const Platform& candidate) const;
  /// Whether @p a is preferred over @p b: a match over a non-match, then the order above
  /// (exact, then lower variants, then the 32-bit cousin), then more os.features.
  bool less(const Platform& a, const Platform& b) const;
  /// Index of the best matching candidate (the first of equally good ones), or nothing if
  /// none matches.
  std::optional<std::size_t> best(const std::vector<Platform>& candidates) const;
  /// The platform this matcher wants (normalised).
  const Platform& wanted() const noexcept { return wanted_; }

 private:
  std::optional<std::size_t> rank(const Platform& candidate) const;
  Platform wanted_;
  std::vector<Platform> acceptable_;  // in order of preference
};

}  // namespace v0
}  // namespace knast
