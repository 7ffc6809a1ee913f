// Helpers for putting untrusted text (from documents, registries, users) into messages,
// and the one way knast writes a timestamp.
#pragma once

#include <string>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace detail {

/// Longest stretch of untrusted text quote_untrusted() shows by default.
inline constexpr std::size_t max_quoted_chars = 200;

/// @p text in double quotes, with quotes and backslashes escaped and bytes outside
/// printable ASCII shown as \xNN, cut after @p max_chars characters ("…"...), so that a
/// hostile or binary value can neither garble a message nor the terminal it is printed on.
std::string quote_untrusted(std::string_view text, std::size_t max_chars = max_quoted_chars);

/// The current time as RFC 3339 UTC, to the second ("2026-12-06T11:40:00Z").
std::string now_rfc3339();

/// A field of Linux's /proc/self/mountinfo with its \ooo escapes (space, tab, newline,
/// backslash) decoded: "/mnt/a\040b" → "/mnt/a b".
std::string unescape_mountinfo(std::string_view field);

}  // namespace detail
}  // namespace v0
}  // namespace knast
