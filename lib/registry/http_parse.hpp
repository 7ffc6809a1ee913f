/// @file http_parse.hpp
/// @brief Private: pure parsers of the HTTP headers and bodies the distribution API
///        speaks (WWW-Authenticate, Link, Content-Range, Range, Retry-After, error
///        bodies, token responses). No I/O, so unit tests call them directly.
///
/// Every parser treats its input as hostile: a malformed header is refused with an Error
/// (invalid_argument) or read as absent, never half-understood, and nothing a server
/// sends is copied into a message without being quoted and cut (quote_header()).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace registry_detail {

/// Lower-cases ASCII letters (header names, auth schemes and parameter names are
/// case-insensitive; nothing else is touched).
std::string ascii_lower(std::string_view text);
/// Whether @p a and @p b are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b) noexcept;
/// @p text without leading and trailing spaces and tabs (HTTP's optional whitespace).
std::string_view trim_ows(std::string_view text) noexcept;
/// @p text quoted for an error message: control characters escaped, cut to 200 chars.
std::string quote_header(std::string_view text);

/// One challenge of a WWW-Authenticate header (RFC 7235 section 4.1).
struct AuthChallenge {
  std::string scheme;                         ///< Lower-cased: "bearer", "basic", ...
  std::map<std::string, std::string> params;  ///< Parameter names lower-cased, values unquoted.
  std::string token68;                        ///< The token68 form, if the challenge used it.

  /// The parameter @p name (lower case), or "" if absent.
  std::string param(std::string_view name) const;
  /// Challenges compare field by field.
  friend bool operator==(const AuthChallenge&, const AuthChallenge&) = default;
};

/// Parses the value of one WWW-Authenticate header, which may hold several challenges
/// separated by commas (`Bearer realm="a",service="b", Basic realm="c"`).
/// @throws Error invalid_argument for anything that is not the RFC 7235 grammar: an
///         unterminated quote, a parameter without a value, a duplicate parameter, a
///         scheme that is not a token, ...
std::vector<AuthChallenge> parse_www_authenticate(std::string_view value);

/// The target of the `rel="next"` link of a Link header (RFC 8288), as written (usually a
/// path relative to the registry: `</v2/_catalog?last=b&n=2>; rel="next"`), or nothing
/// if the header has no next link. @throws Error invalid_argument if malformed.
std::optional<std::string> parse_link_next(std::string_view value);

/// A Content-Range header of a 206 or 416 response (RFC 9110 section 14.4).
struct ContentRange {
  std::optional<std::uint64_t> first;     ///< First byte position; absent in `bytes */N`.
  std::optional<std::uint64_t> last;      ///< Last byte position (inclusive).
  std::optional<std::uint64_t> complete;  ///< Complete length; absent in `bytes a-b/ *`.
  /// Ranges compare field by field.
  friend bool operator==(const ContentRange&, const ContentRange&) = default;
};

/// Parses `bytes first-last/complete`, `bytes first-last/ *` or `bytes * /complete`
/// (without the spaces). @throws Error invalid_argument if malformed or if last < first
///         or last >= complete.
ContentRange parse_content_range(std::string_view value);

/// The Range header a registry sends in upload responses: `0-1023` (distribution) or
/// `bytes=0-1023`. Returns the number of bytes the registry holds (last + 1).
/// @throws Error invalid_argument if malformed or the range does not start at 0.
std::uint64_t parse_upload_range(std::string_view value);

/// A Content-Length value: digits only (no sign, no spaces inside), at most 19 of them;
/// nothing if malformed.
std::optional<std::uint64_t> parse_content_length(std::string_view value) noexcept;

/// The request header value that asks for the bytes from @p offset on: `bytes=N-`.
std::string range_from(std::uint64_t offset);

/// Parses a Retry-After header: delta-seconds, or an HTTP-date (IMF-fixdate, RFC 850 or
/// asctime) turned into a wait from @p now (zero if in the past). Returns nothing if
/// the value is malformed, since a bad hint should not fail a retry.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

/// The messages of a distribution error body (`{"errors":[{"code":"MANIFEST_UNKNOWN",
/// "message":"manifest unknown"}]}`) as `MANIFEST_UNKNOWN: manifest unknown; ...`, each
/// quoted-safe and cut; "" if the body is not such a document.
std::string describe_registry_errors(std::string_view body);

/// Whether a distribution error body lists error code @p code ("DENIED", "UNAUTHORIZED").
bool has_registry_error(std::string_view body, std::string_view code);

/// What a token server answered (the distribution token spec, and OAuth2's fields).
struct TokenResponse {
  std::string token;                         ///< `token`, or `access_token` when given (they are equivalent).
  std::chrono::seconds expires_in{60};       ///< `expires_in`, at least 60 s as the spec says.
  std::optional<std::string> refresh_token;  ///< `refresh_token` (OAuth2 grants).
};

/// Parses a token server's JSON answer. @throws Error invalid_argument if it is not an
/// object with a non-empty `token` or `access_token` string (the message never contains
/// the body, which may hold secrets).
TokenResponse parse_token_response(std::string_view body);

/// A `application/x-www-form-urlencoded` body or query string of @p fields, in order
/// (names and values percent-encoded as RFC 3986 unreserved characters).
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

/// The media type of a Content-Type header without parameters or case:
/// `application/vnd.oci.image.index.v1+json; charset=utf-8` → the bare type.
std::string media_type_of(std::string_view content_type);

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
