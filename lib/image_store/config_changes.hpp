// Private: the image config of an imported root filesystem, and the Dockerfile-style
// instructions (`docker import --change`) that shape it. Pure: no I/O, no clock.
#pragma once

#include <knast/image_store.hpp>
#include <knast/oci.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// Applies one instruction to @p config, as docker's builder does for `docker import
/// --change` on an empty image:
/// - `CMD` / `ENTRYPOINT`: JSON array form (`["a","b"]`) or shell form (`a b` →
///   ["/bin/sh","-c","a b"]); `ENTRYPOINT []` clears the entrypoint, `CMD []` leaves an
///   empty command.
/// - `ENV A=b C="d e"` (pairs, values of one instruction see the variables as they were
///   before it) or the legacy `ENV A b c` (A = "b c"); `LABEL` likewise.
/// - `EXPOSE 80 53/udp 8000-8001` → "80/tcp", "53/udp", "8000/tcp", "8001/tcp".
/// - `USER`, `WORKDIR` (a relative one is joined to the previous), `VOLUME` (JSON array
///   or words), `STOPSIGNAL`.
/// Arguments other than CMD's and ENTRYPOINT's are shell words, as docker processes them:
/// quotes removed, backslash escapes, and `$VAR`, `${VAR}`, `${VAR:-word}`,
/// `${VAR:+word}` (with or without the colon) expanded from the ENV set so far.
/// The keyword is case-insensitive.
/// @throws Error invalid_argument naming the instruction: unknown (RUN, FROM, ...),
///         missing arguments, malformed ports, unterminated quotes.
void apply_change(ContainerConfig& config, std::string_view instruction);

/// Applies every instruction of @p changes in order; an error names the instruction.
void apply_changes(ContainerConfig& config, const std::vector<std::string>& changes);

/// Whether @p text is an RFC 3339 date-time ("2024-05-01T12:00:00Z",
/// "2024-05-01T12:00:00.5+02:00").
bool is_rfc3339(std::string_view text) noexcept;

/// The config of a one-layer image imported from a rootfs tarball, without its diff_id:
/// the platform (normalised), the changes, `created` (@p options.created, else
/// @p now) and one history entry with the comment (@p options.comment, else
/// @p default_comment).
/// @throws Error invalid_argument for a bad change, platform or `created`.
ImageConfig make_import_config(const ImportOptions& options, std::string_view now, std::string_view default_comment);

}  // namespace detail
}  // namespace v0
}  // namespace knast
