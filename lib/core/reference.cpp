// Image references: the grammar of github.com/distribution/reference (reference.go,
// regexp.go) and docker's normalisation (normalize.go: ParseNormalizedNamed + TagNameOnly),
// implemented as a hand-written scanner rather than regular expressions so that every way
// a reference can be wrong gets its own message.
//
//   reference        := name [ ":" tag ] [ "@" digest ]
//   name             := [ domain "/" ] path
//   domain           := host [ ":" port ]
//   host             := domain-name | "[" ipv6 "]"
//   domain-name      := domain-component ( "." domain-component )*
//   domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
//   ipv6             := [a-fA-F0-9:]+
//   port             := [0-9]+
//   path             := path-component ( "/" path-component )*
//   path-component   := [a-z0-9]+ ( separator [a-z0-9]+ )*
//   separator        := "." | "_" | "__" | "-"+
//   tag              := [\w][\w.-]{0,127}
#include <knast/error.hpp>
#include <knast/reference.hpp>

#include "core/text.hpp"

#include <algorithm>
#include <string>

namespace knast {
inline namespace v0 {
namespace {

/// The namespace of Docker Hub's official images.
constexpr std::string_view official_prefix = "library/";
/// The old name of Docker Hub, still accepted as an alias of docker.io.
constexpr std::string_view legacy_default_domain = "index.docker.io";
/// Always a domain when it is the first of several components.
constexpr std::string_view localhost = "localhost";
/// Length of an image id ("identifier"), which docker refuses as a repository name.
constexpr std::size_t identifier_length = 64;

/// What is wrong with one part of a reference, or nothing when it is valid. The callers
/// put the whole input or the reference being changed in front of it.
using Problem = std::optional<std::string>;

// Character classes in the "C" locale, independent of the process locale.
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_lower(char c) noexcept { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) noexcept { return c >= 'A' && c <= 'Z'; }
bool is_lower_alnum(char c) noexcept { return is_lower(c) || is_digit(c); }
bool is_alnum(char c) noexcept { return is_lower_alnum(c) || is_upper(c); }
bool is_word(char c) noexcept { return is_alnum(c) || c == '_'; }
bool is_hex(char c) noexcept { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_lower_hex(char c) noexcept { return is_digit(c) || (c >= 'a' && c <= 'f'); }

bool all_of(std::string_view s, bool (*pred)(char) noexcept) noexcept { return std::all_of(s.begin(), s.end(), pred); }
bool has_upper(std::string_view s) noexcept { return std::any_of(s.begin(), s.end(), is_upper); }

// References are short by grammar; a cap of twice the longest valid one still shows any
// real mistake whole while keeping a hostile megabyte out of the message.
std::string quote(std::string_view s) { return detail::quote_untrusted(s, 2 * Reference::max_name_length + 64); }

/// A character for a message: 'x', or its escaped byte value when it is not printable.
std::string describe(char c) {
  std::string quoted = quote(std::string_view(&c, 1));
  quoted.front() = quoted.back() = '\'';
  return quoted;
}

[[noreturn]] void fail(std::string_view input, std::string_view problem) {
  throw Error(ErrorCode::invalid_argument, "invalid reference " + quote(input) + ": " + std::string(problem));
}

/// A string docker would take for an image id rather than a name.
bool is_identifier(std::string_view s) noexcept { return s.size() == identifier_length && all_of(s, is_lower_hex); }

// ---- domain -----------------------------------------------------------------------------

Problem domain_component_problem(std::string_view component) {
  if (component.empty()) return "domain has an empty component";
  for (char c : component)
    if (!is_alnum(c) && c != '-') return "domain contains invalid character " + describe(c);
  if (component.front() == '-' || component.back() == '-')
    return "domain component " + quote(component) + " must not start or end with '-'";
  return std::nullopt;
}

Problem domain_name_problem(std::string_view host) {
  for (std::size_t start = 0;;) {
    const auto dot = host.find('.', start);
    if (auto problem = domain_component_problem(host.substr(start, dot - start))) return problem;
    if (dot == std::string_view::npos) return std::nullopt;
    start = dot + 1;
  }
}

/// The grammar's IPv6 literal is deliberately loose (any hex digits and colons), so zone
/// identifiers and embedded IPv4 addresses are refused while odd groupings are not.
Problem ipv6_problem(std::string_view address) {
  if (address.empty()) return "IPv6 address is empty";
  for (char c : address)
    if (!is_hex(c) && c != ':') return "IPv6 address may only contain hex digits and ':', not " + describe(c);
  return std::nullopt;
}

/// @p port_part is empty or ":digits". Docker does not check the range, so neither do we:
/// a reference names an image, and whether it can be reached is for the transport to say.
Problem port_problem(std::string_view port_part) {
  if (port_part.empty()) return std::nullopt;
  const auto port = port_part.substr(1);
  if (port.empty()) return "port is empty";
  if (!all_of(port, is_digit)) return "port " + quote(port) + " must be a number";
  return std::nullopt;
}

Problem host_and_port_problem(std::string_view domain) {
  if (domain.empty()) return "domain is empty";
  if (domain.front() == '[') {
    const auto close = domain.find(']');
    if (close == std::string_view::npos) return "IPv6 address lacks its closing ']'";
    if (auto problem = ipv6_problem(domain.substr(1, close - 1))) return problem;
    const auto rest = domain.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return "IPv6 address must be followed by ':port' or '/'";
    return port_problem(rest);
  }
  const auto colon = domain.find(':');
  if (auto problem = domain_name_problem(domain.substr(0, colon))) return problem;
  return colon == std::string_view::npos ? std::nullopt : port_problem(domain.substr(colon));
}

Problem domain_problem(std::string_view domain) {
  if (auto problem = host_and_port_problem(domain)) return "invalid domain " + quote(domain) + ": " + *problem;
  return std::nullopt;
}

// ---- path -------------------------------------------------------------------------------

bool is_separator_char(char c) noexcept { return c == '.' || c == '_' || c == '-'; }

/// One '.', one or two '_', or any number of '-' (so that host names can be path components).
bool is_separator(std::string_view run) noexcept {
  return run == "." || run == "_" || run == "__" || run.find_first_not_of('-') == std::string_view::npos;
}

Problem path_component_problem(std::string_view component) {
  if (component.empty()) return "repository path has an empty component";
  for (char c : component)
    if (!is_lower_alnum(c) && !is_separator_char(c))
      return "path component " + quote(component) + " contains invalid character " + describe(c);
  if (!is_lower_alnum(component.front()) || !is_lower_alnum(component.back()))
    return "path component " + quote(component) + " must start and end with a lower-case letter or digit";
  constexpr std::string_view separator_chars = "._-";
  for (auto i = component.find_first_of(separator_chars); i != std::string_view::npos;) {
    const auto end = component.find_first_not_of(separator_chars, i);  // never npos: back() is alnum
    const auto run = component.substr(i, end - i);
    if (!is_separator(run)) return "path component " + quote(component) + " has invalid separator " + quote(run);
    i = component.find_first_of(separator_chars, end);
  }
  return std::nullopt;
}

Problem path_problem(std::string_view path) {
  // Checked first, as docker does, because it is the commonest mistake ("Alpine").
  if (has_upper(path)) return "repository name must be lowercase";
  for (std::size_t start = 0;;) {
    const auto slash = path.find('/', start);
    if (auto problem = path_component_problem(path.substr(start, slash - start))) return problem;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  // Only the path counts, not the domain: distribution changed this in 2024 (commit
  // "Exclude domain from name length check"), and docker follows it.
  if (path.size() > Reference::max_name_length)
    return "repository path must not be longer than " + std::to_string(Reference::max_name_length) +
           " characters (it has " + std::to_string(path.size()) + ")";
  return std::nullopt;
}

// ---- tag --------------------------------------------------------------------------------

Problem tag_problem(std::string_view tag) {
  if (tag.empty()) return "tag is empty";
  if (tag.size() > Reference::max_tag_length)
    return "tag must not be longer than " + std::to_string(Reference::max_tag_length) + " characters (it has " +
           std::to_string(tag.size()) + ")";
  if (!is_word(tag.front())) return "tag " + quote(tag) + " must start with a letter, digit or '_'";
  for (char c : tag)
    if (!is_word(c) && c != '.' && c != '-') return "tag " + quote(tag) + " contains invalid character " + describe(c);
  return std::nullopt;
}

// ---- splitting --------------------------------------------------------------------------

/// The three textual parts of a reference, not yet validated.
struct Parts {
  std::string_view name;
  std::optional<std::string_view> tag;
  std::optional<std::string_view> digest;
};

/// '@' occurs nowhere but before the digest. A ':' after the last '/' starts the tag; any
/// other ':' belongs to the domain's port (or IPv6 address), which is always followed by '/'.
Parts split_reference(std::string_view text) {
  Parts parts;
  if (const auto at = text.find('@'); at != std::string_view::npos) {
    parts.digest = text.substr(at + 1);
    text = text.substr(0, at);
  }
  const auto colon = text.rfind(':');
  if (colon != std::string_view::npos && text.find('/', colon) == std::string_view::npos) {
    parts.tag = text.substr(colon + 1);
    text = text.substr(0, colon);
  }
  parts.name = text;
  return parts;
}

/// Docker Hub namespaces are lower-case path components without '.' or ':', so a first
/// component that has either, or upper case, or is "localhost", must name a registry.
bool is_domain_like(std::string_view first) noexcept {
  return first == localhost || first.find_first_of(".:") != std::string_view::npos || has_upper(first);
}

struct Name {
  std::string domain;
  std::string path;
};

/// distribution's splitDockerDomain. A lone component is always a Docker Hub name, even
/// "localhost" or "example.com" (docker's own FIXME; kept for compatibility).
Name split_docker_domain(std::string_view name) {
  Name out;
  const auto slash = name.find('/');
  const auto first = name.substr(0, slash);
  if (slash != std::string_view::npos && is_domain_like(first)) {
    out.domain = first == legacy_default_domain ? Reference::default_domain : first;
    out.path = name.substr(slash + 1);
  } else {
    out.domain = Reference::default_domain;
    out.path = name;
  }
  if (out.domain == Reference::default_domain && out.path.find('/') == std::string::npos)
    out.path.insert(0, official_prefix);
  return out;
}

Digest parse_digest(std::string_view input, std::string_view digest) {
  try {
    return Digest::parse(digest);
  } catch (const Error& e) {
    // Keep Digest's code: unsupported for a well-formed digest of an unknown algorithm.
    throw e.with_context("invalid reference " + quote(input));
  }
}

/// @p base followed by ":tag" and "@digest" where present.
std::string with_suffix(std::string base, const std::optional<std::string>& tag, const std::optional<Digest>& digest) {
  if (tag) base += ':' + *tag;
  if (digest) base += '@' + digest->string();
  return base;
}

}  // namespace

Reference Reference::parse(std::string_view text) {
  if (text.empty()) fail(text, "reference is empty");
  // An image id could be mistaken for a name; docker refuses it so that it never is.
  if (is_identifier(text)) fail(text, "cannot specify 64-byte hexadecimal strings as a repository name");

  // A bare IPv6 registry ("[::1]:5000") would otherwise be reported as a bad path character.
  if (text.front() == '[' && text.find('/') == std::string_view::npos)
    fail(text, "an IPv6 registry address must be followed by '/' and a repository path");

  const Parts parts = split_reference(text);
  if (parts.name.empty()) fail(text, "repository name is empty");
  Name name = split_docker_domain(parts.name);
  if (auto problem = domain_problem(name.domain)) fail(text, *problem);
  if (auto problem = path_problem(name.path)) fail(text, *problem);
  if (parts.tag)
    if (auto problem = tag_problem(*parts.tag)) fail(text, *problem);

  Reference ref;
  ref.domain_ = std::move(name.domain);
  ref.path_ = std::move(name.path);
  if (parts.tag) ref.tag_ = std::string(*parts.tag);
  if (parts.digest) ref.digest_ = parse_digest(text, *parts.digest);
  // docker's TagNameOnly: a digest pins the image, so only a bare name gets "latest".
  if (!ref.tag_ && !ref.digest_) ref.tag_ = std::string(default_tag);
  return ref;
}

std::optional<Reference> Reference::try_parse(std::string_view text) noexcept {
  try {
    return parse(text);
  } catch (...) {
    return std::nullopt;
  }
}

std::string Reference::name() const { return domain_ + '/' + path_; }

std::string Reference::string() const { return with_suffix(name(), tag_, digest_); }

std::string Reference::familiar_name() const {
  if (domain_ != default_domain) return name();
  std::string_view path = path_;
  // Only "library/x" shortens to "x": "library/x/y" would read back as "docker.io/x/y".
  if (path.starts_with(official_prefix) && path.find('/', official_prefix.size()) == std::string_view::npos)
    path.remove_prefix(official_prefix.size());
  return std::string(path);
}

std::string Reference::familiar() const { return with_suffix(familiar_name(), tag_, digest_); }

Reference Reference::with_tag(std::string_view tag) const {
  if (auto problem = tag_problem(tag))
    throw Error(ErrorCode::invalid_argument, "cannot tag " + string() + ": " + *problem);
  Reference copy = *this;
  copy.tag_ = std::string(tag);
  return copy;
}

Reference Reference::with_digest(const Digest& digest) const {
  Reference copy = *this;
  copy.digest_ = digest;
  return copy;
}

Reference Reference::without_tag() const {
  if (!digest_)
    throw Error(ErrorCode::invalid_argument,
                "cannot remove the tag of " + string() + ": a reference without a digest needs a tag");
  Reference copy = *this;
  copy.tag_.reset();
  return copy;
}

}  // namespace v0
}  // namespace knast
