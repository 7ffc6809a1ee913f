#include "registry/http_parse.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <limits>

namespace knast {
inline namespace v0 {
namespace registry_detail {
namespace {

using Json = nlohmann::json;

constexpr std::size_t max_quoted_header = 200;
constexpr std::size_t max_error_message = 200;
constexpr std::size_t max_error_entries = 5;

bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token68_char(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~+/").find(c) != std::string_view::npos;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

[[noreturn]] void malformed(std::string_view what, std::string_view value, std::string_view problem) {
  throw Error(ErrorCode::invalid_argument, fmt::format("malformed {} header {}: {}", what, quote_header(value), problem));
}

/// A cursor over a header value, with the RFC 9110 building blocks (token, quoted-string,
/// OWS) that the structured headers here are made of.
class Cursor {
 public:
  Cursor(std::string_view text, std::string_view what) : text_(text), what_(what) {}

  bool at_end() const noexcept { return pos_ >= text_.size(); }
  char peek() const noexcept { return at_end() ? '\0' : text_[pos_]; }
  std::size_t position() const noexcept { return pos_; }
  void seek(std::size_t pos) noexcept { pos_ = pos; }
  void skip_ows() noexcept {
    while (!at_end() && is_ows(text_[pos_])) ++pos_;
  }
  bool consume(char c) noexcept {
    if (peek() != c || at_end()) return false;
    ++pos_;
    return true;
  }
  /// Skips OWS and any number of list separators: `#rule` lists allow empty elements.
  void skip_list_separators() noexcept {
    while (!at_end() && (is_ows(text_[pos_]) || text_[pos_] == ',')) ++pos_;
  }
  /// A token, possibly empty (the caller decides whether empty is an error).
  std::string_view token() noexcept {
    const std::size_t start = pos_;
    while (!at_end() && is_tchar(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }
  std::string_view required_token(std::string_view of) {
    const auto t = token();
    if (t.empty()) fail(fmt::format("expected {} at offset {}", of, pos_));
    return t;
  }
  /// A token or a quoted-string (unescaped).
  std::string value() {
    if (peek() == '"') return quoted_string();
    return std::string(required_token("a value"));
  }
  std::string quoted_string() {
    ++pos_;  // the opening quote
    std::string out;
    while (!at_end()) {
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (c == '\\') {
        if (at_end()) break;
        out += text_[pos_++];
        continue;
      }
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) fail("control character in a quoted string");
      out += c;
    }
    fail("unterminated quoted string");
  }
  [[noreturn]] void fail(std::string_view problem) const { malformed(what_, text_, problem); }

 private:
  std::string_view text_;
  std::string_view what_;
  std::size_t pos_ = 0;
};

/// Whether a token68 starts at the cursor and ends the challenge (end or a comma follows);
/// if so, consumes and returns it.
std::optional<std::string> try_token68(Cursor& in, std::string_view text) {
  const std::size_t start = in.position();
  std::size_t end = start;
  while (end < text.size() && is_token68_char(text[end])) ++end;
  if (end == start) return std::nullopt;
  while (end < text.size() && text[end] == '=') ++end;
  std::size_t after = end;
  while (after < text.size() && is_ows(text[after])) ++after;
  if (after < text.size() && text[after] != ',') return std::nullopt;
  in.seek(end);
  return std::string(text.substr(start, end - start));
}

/// Whether the cursor is at `token OWS "="`, i.e. an auth-param rather than the scheme of
/// the next challenge. Does not move the cursor.
bool at_auth_param(Cursor& in) {
  const std::size_t start = in.position();
  const bool param = !in.token().empty() && (in.skip_ows(), in.peek() == '=');
  in.seek(start);
  return param;
}

void parse_auth_params(Cursor& in, AuthChallenge& challenge) {
  while (true) {
    const std::string name = ascii_lower(in.required_token("a parameter name"));
    in.skip_ows();
    if (!in.consume('=')) in.fail("parameter " + name + " has no value");
    in.skip_ows();
    if (!challenge.params.emplace(name, in.value()).second) in.fail("parameter " + name + " given twice");
    in.skip_ows();
    if (in.at_end()) return;
    if (!in.consume(',')) in.fail(fmt::format("expected ',' at offset {}", in.position()));
    in.skip_list_separators();
    if (in.at_end() || !at_auth_param(in)) return;  // the next challenge starts here
  }
}

AuthChallenge parse_challenge(Cursor& in, std::string_view text) {
  AuthChallenge challenge;
  challenge.scheme = ascii_lower(in.required_token("an authentication scheme"));
  if (in.at_end() || in.peek() == ',') return challenge;
  if (!is_ows(in.peek())) in.fail("expected a space after the scheme");
  in.skip_ows();
  if (in.at_end() || in.peek() == ',') return challenge;
  if (auto token68 = try_token68(in, text)) {
    challenge.token68 = std::move(*token68);
    return challenge;
  }
  parse_auth_params(in, challenge);
  return challenge;
}

std::optional<std::uint64_t> parse_uint(std::string_view digits) noexcept {
  if (digits.empty() || digits.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : digits) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

std::uint64_t required_uint(std::string_view digits, std::string_view what, std::string_view value) {
  const auto n = parse_uint(digits);
  if (!n) malformed(what, value, fmt::format("{} is not a byte position", quote_header(digits)));
  return *n;
}

// ---- HTTP dates (RFC 9110 section 5.6.7) -------------------------------------------------

std::optional<unsigned> month_number(std::string_view name) noexcept {
  static constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (std::size_t i = 0; i < months.size(); ++i)
    if (months[i] == name) return static_cast<unsigned>(i + 1);
  return std::nullopt;
}

std::optional<int> fixed_number(std::string_view text, std::size_t pos, std::size_t width) noexcept {
  if (pos + width > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    char c = text[i];
    if (c == ' ' && i == pos && width == 2) c = '0';  // asctime pads the day with a space
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

struct DateParts {
  int year = 0;
  unsigned month = 0;
  int day = 0;
  std::string_view time;  // "hh:mm:ss"
};

std::optional<std::chrono::system_clock::time_point> to_time_point(const DateParts& parts) noexcept {
  using namespace std::chrono;
  const year_month_day date{year{parts.year}, month{parts.month}, day{static_cast<unsigned>(parts.day)}};
  if (!date.ok() || parts.time.size() != 8 || parts.time[2] != ':' || parts.time[5] != ':') return std::nullopt;
  const auto h = fixed_number(parts.time, 0, 2), m = fixed_number(parts.time, 3, 2), s = fixed_number(parts.time, 6, 2);
  if (!h || !m || !s || *h > 23 || *m > 59 || *s > 60) return std::nullopt;
  return sys_days{date} + hours{*h} + minutes{*m} + seconds{*s};
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`
std::optional<DateParts> imf_fixdate(std::string_view v) noexcept {
  if (v.size() != 29 || v[3] != ',' || v[4] != ' ' || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' ||
      v.substr(25) != " GMT")
    return std::nullopt;
  const auto day = fixed_number(v, 5, 2), year = fixed_number(v, 12, 4);
  const auto month = month_number(v.substr(8, 3));
  if (!day || !year || !month) return std::nullopt;
  return DateParts{*year, *month, *day, v.substr(17, 8)};
}

/// `Sunday, 06-Nov-94 08:49:37 GMT`
std::optional<DateParts> rfc850_date(std::string_view v) noexcept {
  const auto comma = v.find(", ");
  if (comma == std::string_view::npos) return std::nullopt;
  const auto rest = v.substr(comma + 2);
  if (rest.size() != 22 || rest[2] != '-' || rest[6] != '-' || rest[9] != ' ' || rest.substr(18) != " GMT")
    return std::nullopt;
  const auto day = fixed_number(rest, 0, 2), yy = fixed_number(rest, 7, 2);
  const auto month = month_number(rest.substr(3, 3));
  if (!day || !yy || !month) return std::nullopt;
  // Two-digit years: RFC 9110 says to read a year more than 50 years ahead as the past.
  return DateParts{*yy < 70 ? 2000 + *yy : 1900 + *yy, *month, *day, rest.substr(10, 8)};
}

/// `Sun Nov  6 08:49:37 1994`
std::optional<DateParts> asctime_date(std::string_view v) noexcept {
  if (v.size() != 24 || v[3] != ' ' || v[7] != ' ' || v[10] != ' ' || v[19] != ' ') return std::nullopt;
  const auto day = fixed_number(v, 8, 2), year = fixed_number(v, 20, 4);
  const auto month = month_number(v.substr(4, 3));
  if (!day || !year || !month) return std::nullopt;
  return DateParts{*year, *month, *day, v.substr(11, 8)};
}

std::string printable(std::string_view text, std::size_t max) {
  std::string out;
  for (char c : text.substr(0, max)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  if (text.size() > max) out += "...";
  return out;
}

std::optional<Json> parse_json_or_nothing(std::string_view body) {
  Json doc = Json::parse(body, nullptr, false);
  if (doc.is_discarded()) return std::nullopt;
  return doc;
}

}  // namespace

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

std::string_view trim_ows(std::string_view text) noexcept {
  while (!text.empty() && is_ows(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_ows(text.back())) text.remove_suffix(1);
  return text;
}

std::string quote_header(std::string_view text) {
  std::string out = "\"";
  for (char c : text.substr(0, max_quoted_header)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || byte >= 0x80) {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
  }
  out += '"';
  if (text.size() > max_quoted_header) out += "...";
  return out;
}

std::string AuthChallenge::param(std::string_view name) const {
  const auto it = params.find(std::string(name));
  return it == params.end() ? std::string() : it->second;
}

std::vector<AuthChallenge> parse_www_authenticate(std::string_view value) {
  Cursor in(value, "WWW-Authenticate");
  std::vector<AuthChallenge> challenges;
  in.skip_list_separators();
  while (!in.at_end()) {
    challenges.push_back(parse_challenge(in, value));
    in.skip_list_separators();
  }
  if (challenges.empty()) in.fail("no challenge");
  return challenges;
}

std::optional<std::string> parse_link_next(std::string_view value) {
  Cursor in(value, "Link");
  std::optional<std::string> next;
  in.skip_list_separators();
  while (!in.at_end()) {
    if (!in.consume('<')) in.fail(fmt::format("expected '<' at offset {}", in.position()));
    const std::size_t start = in.position();
    const std::size_t close = value.find('>', start);
    if (close == std::string_view::npos) in.fail("unterminated '<'");
    const std::string target(value.substr(start, close - start));
    in.seek(close + 1);
    bool is_next = false;
    in.skip_ows();
    while (in.consume(';')) {
      in.skip_ows();
      const std::string name = ascii_lower(in.required_token("a link parameter"));
      in.skip_ows();
      std::string param_value;
      if (in.consume('=')) {
        in.skip_ows();
        param_value = in.value();
      }
      // rel is a space-separated list of relation types (RFC 8288 section 3.3).
      if (name == "rel") {
        std::string_view rels = param_value;
        while (!rels.empty()) {
          const auto space = rels.find(' ');
          if (iequals(rels.substr(0, space), "next")) is_next = true;
          rels = space == std::string_view::npos ? std::string_view() : rels.substr(space + 1);
        }
      }
      in.skip_ows();
    }
    if (!in.at_end() && in.peek() != ',') in.fail(fmt::format("expected ',' or ';' at offset {}", in.position()));
    if (is_next && !next) next = target;
    in.skip_list_separators();
  }
  return next;
}

ContentRange parse_content_range(std::string_view value) {
  constexpr std::string_view what = "Content-Range";
  const std::string_view v = trim_ows(value);
  if (v.size() < 6 || !iequals(v.substr(0, 6), "bytes ")) malformed(what, value, "expected 'bytes '");
  const std::string_view spec = v.substr(6);
  const auto slash = spec.find('/');
  if (slash == std::string_view::npos) malformed(what, value, "expected '/'");
  const std::string_view range = spec.substr(0, slash), complete = spec.substr(slash + 1);
  ContentRange out;
  if (complete != "*") out.complete = required_uint(complete, what, value);
  if (range == "*") {
    if (!out.complete) malformed(what, value, "neither a range nor a length");
    return out;
  }
  const auto dash = range.find('-');
  if (dash == std::string_view::npos) malformed(what, value, "expected first-last");
  out.first = required_uint(range.substr(0, dash), what, value);
  out.last = required_uint(range.substr(dash + 1), what, value);
  if (*out.last < *out.first) malformed(what, value, "last byte before first");
  if (out.complete && *out.last >= *out.complete) malformed(what, value, "range beyond the complete length");
  return out;
}

std::uint64_t parse_upload_range(std::string_view value) {
  constexpr std::string_view what = "Range";
  std::string_view v = trim_ows(value);
  if (v.size() >= 6 && iequals(v.substr(0, 6), "bytes=")) v.remove_prefix(6);
  const auto dash = v.find('-');
  if (dash == std::string_view::npos) malformed(what, value, "expected first-last");
  if (required_uint(v.substr(0, dash), what, value) != 0) malformed(what, value, "upload range must start at 0");
  const std::uint64_t last = required_uint(v.substr(dash + 1), what, value);
  if (last == std::numeric_limits<std::uint64_t>::max()) malformed(what, value, "range too large");
  return last + 1;
}

std::optional<std::uint64_t> parse_content_length(std::string_view value) noexcept {
  return parse_uint(trim_ows(value));
}

std::string range_from(std::uint64_t offset) { return fmt::format("bytes={}-", offset); }

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now) {
  const std::string_view v = trim_ows(value);
  if (!v.empty() && std::all_of(v.begin(), v.end(), is_digit)) {
    // A huge delay is as good as "very long"; the caller caps it anyway.
    constexpr std::int64_t cap = 1'000'000'000;
    const auto n = parse_uint(v);
    return std::chrono::seconds(n && *n < static_cast<std::uint64_t>(cap) ? static_cast<std::int64_t>(*n) : cap);
  }
  std::optional<DateParts> parts = imf_fixdate(v);
  if (!parts) parts = rfc850_date(v);
  if (!parts) parts = asctime_date(v);
  if (!parts) return std::nullopt;
  const auto when = to_time_point(*parts);
  if (!when) return std::nullopt;
  if (*when <= now) return std::chrono::seconds(0);
  return std::chrono::ceil<std::chrono::seconds>(*when - now);
}

std::string describe_registry_errors(std::string_view body) {
  const auto doc = parse_json_or_nothing(body);
  if (!doc || !doc->is_object() || !doc->contains("errors") || !(*doc)["errors"].is_array()) return {};
  std::string out;
  std::size_t count = 0;
  for (const auto& entry : (*doc)["errors"]) {
    if (!entry.is_object()) continue;
    if (count == max_error_entries) {
      out += "; ...";
      break;
    }
    const auto text = [&](const char* key) {
      const auto it = entry.find(key);
      return it != entry.end() && it->is_string() ? printable(it->get_ref<const std::string&>(), max_error_message)
                                                  : std::string();
    };
    std::string one = text("code");
    const std::string message = text("message");
    if (!message.empty()) one += one.empty() ? message : ": " + message;
    if (one.empty()) continue;
    out += (count++ ? "; " : "") + one;
  }
  return out;
}

bool has_registry_error(std::string_view body, std::string_view code) {
  const auto doc = parse_json_or_nothing(body);
  if (!doc || !doc->is_object() || !doc->contains("errors") || !(*doc)["errors"].is_array()) return false;
  return std::any_of((*doc)["errors"].begin(), (*doc)["errors"].end(), [&](const Json& entry) {
    return entry.is_object() && entry.contains("code") && entry["code"].is_string() &&
           entry["code"].get_ref<const std::string&>() == code;
  });
}

TokenResponse parse_token_response(std::string_view body) {
  const auto doc = parse_json_or_nothing(body);
  if (!doc || !doc->is_object())
    throw Error(ErrorCode::invalid_argument, "token server answer is not a JSON object");
  const auto string_member = [&](const char* key) -> std::optional<std::string> {
    const auto it = doc->find(key);
    if (it == doc->end() || !it->is_string() || it->get_ref<const std::string&>().empty()) return std::nullopt;
    return it->get<std::string>();
  };
  TokenResponse out;
  // access_token is the OAuth2 name of the same thing; distribution prefers it when both
  // are present, and so do we.
  if (auto access = string_member("access_token")) {
    out.token = std::move(*access);
  } else if (auto token = string_member("token")) {
    out.token = std::move(*token);
  } else {
    throw Error(ErrorCode::invalid_argument, "token server answer has no token or access_token");
  }
  const auto expires = doc->find("expires_in");
  if (expires != doc->end() && expires->is_number_integer()) {
    const auto seconds = expires->get<std::int64_t>();
    if (seconds > out.expires_in.count()) out.expires_in = std::chrono::seconds(seconds);
  }
  out.refresh_token = string_member("refresh_token");
  return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  const auto encode = [](std::string_view text) {
    std::string out;
    for (char c : text) {
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
          c == '_' || c == '~')
        out += c;
      else
        out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
    return out;
  };
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += encode(name) + "=" + encode(value);
  }
  return out;
}

std::string media_type_of(std::string_view content_type) {
  return ascii_lower(trim_ows(content_type.substr(0, content_type.find(';'))));
}

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
