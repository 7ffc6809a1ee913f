#include "image_store/config_changes.hpp"

#include "oci/json_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <optional>
#include <utility>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

// ---------------------------------------------------------------------------------------
// Lexing, after moby/buildkit's frontend/dockerfile parser and shell lexer: the subset a
// single-line instruction can use.

[[noreturn]] void fail(std::string message) { throw Error(ErrorCode::invalid_argument, std::move(message)); }

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Splits at whitespace runs, quotes not considered (docker's EXPOSE and VOLUME words).
std::vector<std::string_view> split_fields(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    const auto start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// Splits at whitespace outside quotes, keeping quotes and escapes in the words: the
// words are shell-processed later (buildkit's parseWords).
std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  bool quoted_word = false;  // "" is a word of its own
  char quote = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quote == 0 && is_space(c)) {
      if (in_word && (quoted_word || !word.empty())) words.push_back(word);
      word.clear();
      in_word = quoted_word = false;
      continue;
    }
    in_word = true;
    if (c == '\\' && quote != '\'') {
      if (i + 1 == s.size()) break;  // a lone escape at the end is dropped
      word += c;
      word += s[++i];
      continue;
    }
    if (quote == 0 && (c == '\'' || c == '"')) {
      quote = c;
      quoted_word = true;
    } else if (c == quote) {
      quote = 0;
    }
    word += c;
  }
  if (in_word && (quoted_word || !word.empty())) words.push_back(word);
  return words;
}

// Shell word processing: quote removal, escapes, variable expansion from the image's ENV.
class WordExpander {
 public:
  explicit WordExpander(const std::vector<std::string>& env) : env_(env) {}

  std::string expand(std::string_view word) const {
    std::string out;
    std::size_t i = 0;
    while (i < word.size()) {
      const char c = word[i];
      if (c == '\'') {
        const auto end = word.find('\'', i + 1);
        if (end == std::string_view::npos) fail("unterminated single quote");
        out += word.substr(i + 1, end - i - 1);
        i = end + 1;
      } else if (c == '"') {
        out += double_quoted(word, i);
      } else if (c == '\\') {
        if (i + 1 < word.size()) out += word[i + 1];
        i += 2;
      } else if (c == '$') {
        out += dollar(word, i);
      } else {
        out += c;
        ++i;
      }
    }
    return out;
  }

 private:
  std::optional<std::string> lookup(std::string_view name) const {
    for (auto it = env_.rbegin(); it != env_.rend(); ++it)
      if (it->size() > name.size() && it->starts_with(name) && (*it)[name.size()] == '=')
        return it->substr(name.size() + 1);
    return std::nullopt;
  }

  // Inside double quotes a backslash escapes only '"', '$' and itself.
  std::string double_quoted(std::string_view word, std::size_t& i) const {
    std::string out;
    for (++i; i < word.size();) {
      const char c = word[i];
      if (c == '"') {
        ++i;
        return out;
      }
      if (c == '\\' && i + 1 < word.size() && (word[i + 1] == '"' || word[i + 1] == '$' || word[i + 1] == '\\')) {
        out += word[i + 1];
        i += 2;
      } else if (c == '$') {
        out += dollar(word, i);
      } else {
        out += c;
        ++i;
      }
    }
    fail("unterminated double quote");
  }

  std::string dollar(std::string_view word, std::size_t& i) const {
    ++i;  // the '$'
    if (i < word.size() && word[i] == '{') return braced(word, i);
    const auto start = i;
    while (i < word.size() && is_name_char(word[i])) ++i;
    if (i == start) return "$";
    return lookup(word.substr(start, i - start)).value_or("");
  }

  // ${NAME}, ${NAME:-word}, ${NAME-word}, ${NAME:+word}, ${NAME+word}, ${NAME:?}, ${NAME?}
  std::string braced(std::string_view word, std::size_t& i) const {
    const auto open = i;
    int depth = 0;
    for (; i < word.size(); ++i) {
      if (word[i] == '{') ++depth;
      if (word[i] == '}' && --depth == 0) break;
    }
    if (i == word.size()) fail("missing '}' in a ${...} substitution");
    const auto inner = word.substr(open + 1, i - open - 1);
    ++i;
    std::size_t name_end = 0;
    while (name_end < inner.size() && is_name_char(inner[name_end])) ++name_end;
    const auto name = inner.substr(0, name_end);
    if (name.empty()) fail(fmt::format("bad substitution ${{{}}}", inner));
    auto rest = inner.substr(name_end);
    const auto value = lookup(name);
    if (rest.empty()) return value.value_or("");
    const bool colon = rest.front() == ':';
    if (colon) rest.remove_prefix(1);
    const bool set = colon ? value && !value->empty() : value.has_value();
    const char op = rest.empty() ? '\0' : rest.front();
    const auto alternative = rest.empty() ? rest : rest.substr(1);
    switch (op) {
      case '-': return set ? *value : expand(alternative);
      case '+': return set ? expand(alternative) : std::string();
      case '?':
        if (!set) fail(fmt::format("{}: {}", name, alternative.empty() ? "is not set" : expand(alternative)));
        return *value;
      default: fail(fmt::format("unsupported substitution ${{{}}}", inner));
    }
  }

  const std::vector<std::string>& env_;
};

// ---------------------------------------------------------------------------------------
// Argument forms.

// `["a","b"]`, if the text is a JSON array of strings (docker's parseMaybeJSON).
std::optional<std::vector<std::string>> json_strings(std::string_view rest) {
  if (!rest.starts_with('[')) return std::nullopt;
  const auto doc = Json::parse(rest, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_array() || !std::all_of(doc.begin(), doc.end(), [](const Json& e) { return e.is_string(); }))
    return std::nullopt;
  return doc.get<std::vector<std::string>>();
}

// The JSON form as written, else the shell form run by /bin/sh -c.
std::vector<std::string> command_form(std::string_view rest) {
  if (auto json = json_strings(rest)) return std::move(*json);
  if (rest.empty()) fail("requires an argument");
  return {"/bin/sh", "-c", std::string(rest)};
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

// `K=v K2="v 2"`, or the legacy `K v w` (one pair, the value the rest of the line).
Pairs name_values(std::string_view rest, const WordExpander& shell) {
  const auto words = split_words(rest);
  if (words.empty()) fail("requires at least one argument");
  Pairs pairs;
  if (words.front().find('=') == std::string::npos) {
    const auto key_end = std::find_if(rest.begin(), rest.end(), is_space);
    if (key_end == rest.end()) fail("needs a value: NAME=value (or the legacy NAME value)");
    const auto key = rest.substr(0, static_cast<std::size_t>(key_end - rest.begin()));
    pairs.emplace_back(shell.expand(key), shell.expand(trim(rest.substr(key.size()))));
  } else {
    for (const auto& word : words) {
      const auto eq = word.find('=');
      if (eq == std::string::npos)
        fail(fmt::format("cannot find '=' in {}; expected NAME=value", quote_text(word)));
      pairs.emplace_back(shell.expand(std::string_view(word).substr(0, eq)),
                         shell.expand(std::string_view(word).substr(eq + 1)));
    }
  }
  for (const auto& [key, value] : pairs)
    if (key.empty()) fail("names must not be empty");
  return pairs;
}

std::string one_word(std::string_view rest, const WordExpander& shell) {
  auto word = shell.expand(rest);
  if (word.empty()) fail("requires an argument");
  return word;
}

std::uint16_t parse_port(std::string_view text, std::string_view spec) {
  std::uint16_t port = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    fail(fmt::format("invalid port {}: expected PORT[-PORT][/tcp|udp|sctp]", quote_text(spec)));
  return port;
}

// "80" → {"80/tcp"}; "8000-8001/udp" → {"8000/udp", "8001/udp"} (nat.ParsePortSpecs).
std::vector<std::string> exposed_ports(std::string_view spec) {
  const auto slash = spec.find('/');
  const auto ports = spec.substr(0, slash);
  std::string protocol = slash == std::string_view::npos ? "tcp" : std::string(spec.substr(slash + 1));
  std::transform(protocol.begin(), protocol.end(), protocol.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  if (protocol != "tcp" && protocol != "udp" && protocol != "sctp")
    fail(fmt::format("invalid protocol in {}: expected tcp, udp or sctp", quote_text(spec)));
  const auto dash = ports.find('-');
  const auto first = parse_port(ports.substr(0, dash), spec);
  const auto last = dash == std::string_view::npos ? first : parse_port(ports.substr(dash + 1), spec);
  if (last < first) fail(fmt::format("invalid port range {}", quote_text(spec)));
  std::vector<std::string> out;
  for (unsigned p = first; p <= last; ++p) out.push_back(fmt::format("{}/{}", p, protocol));
  return out;
}

void add_sorted_unique(std::vector<std::string>& set, std::vector<std::string> items) {
  set.insert(set.end(), std::make_move_iterator(items.begin()), std::make_move_iterator(items.end()));
  std::sort(set.begin(), set.end());
  set.erase(std::unique(set.begin(), set.end()), set.end());
}

// A lexically cleaned absolute path: "/a/./b/../c" → "/a/c".
std::string clean_absolute_path(std::string_view path) {
  std::vector<std::string_view> kept;
  std::size_t i = 0;
  while (i <= path.size()) {
    const auto slash = std::min(path.find('/', i), path.size());
    const auto part = path.substr(i, slash - i);
    if (part == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (!part.empty() && part != ".") {
      kept.push_back(part);
    }
    i = slash + 1;
  }
  std::string out;
  for (const auto part : kept) out += "/" + std::string(part);
  return out.empty() ? "/" : out;
}

// ---------------------------------------------------------------------------------------
// Instructions.

using Handler = void (*)(ContainerConfig&, std::string_view rest, const WordExpander& shell);

void set_cmd(ContainerConfig& c, std::string_view rest, const WordExpander&) { c.cmd = command_form(rest); }

void set_entrypoint(ContainerConfig& c, std::string_view rest, const WordExpander&) {
  auto command = command_form(rest);
  if (command.empty()) {
    c.entrypoint.reset();  // `ENTRYPOINT []` removes it, as in docker
  } else {
    c.entrypoint = std::move(command);
  }
}

void set_env(ContainerConfig& c, std::string_view rest, const WordExpander& shell) {
  for (const auto& pair : name_values(rest, shell)) {
    const auto& name = pair.first;  // not a structured binding: clang 14 cannot capture one
    auto entry = name + "=" + pair.second;
    const auto same = std::find_if(c.env.begin(), c.env.end(), [&name](const std::string& e) {
      return e.size() > name.size() && e.starts_with(name) && e[name.size()] == '=';
    });
    if (same == c.env.end()) {
      c.env.push_back(std::move(entry));
    } else {
      *same = std::move(entry);
    }
  }
}

void set_label(ContainerConfig& c, std::string_view rest, const WordExpander& shell) {
  for (auto& [name, value] : name_values(rest, shell)) c.labels[name] = std::move(value);
}

void add_expose(ContainerConfig& c, std::string_view rest, const WordExpander& shell) {
  const auto specs = split_fields(rest);
  if (specs.empty()) fail("requires at least one port");
  for (const auto spec : specs) add_sorted_unique(c.exposed_ports, exposed_ports(shell.expand(spec)));
}

void set_user(ContainerConfig& c, std::string_view rest, const WordExpander& shell) { c.user = one_word(rest, shell); }

void set_workdir(ContainerConfig& c, std::string_view rest, const WordExpander& shell) {
  auto dir = one_word(rest, shell);
  if (!dir.starts_with('/')) dir = clean_absolute_path(c.working_dir.value_or("/") + "/" + dir);
  c.working_dir = std::move(dir);
}

void add_volume(ContainerConfig& c, std::string_view rest, const WordExpander& shell) {
  std::vector<std::string> volumes;
  if (auto json = json_strings(rest)) {
    volumes = std::move(*json);
  } else {
    for (const auto word : split_fields(rest)) volumes.push_back(shell.expand(word));
  }
  if (volumes.empty()) fail("requires at least one path");
  if (std::any_of(volumes.begin(), volumes.end(), [](const std::string& v) { return v.empty(); }))
    fail("a volume must not be an empty string");
  add_sorted_unique(c.volumes, std::move(volumes));
}

void set_stop_signal(ContainerConfig& c, std::string_view rest, const WordExpander& shell) {
  auto signal = one_word(rest, shell);
  const bool plausible = std::all_of(signal.begin(), signal.end(), [](char ch) {
    return is_name_char(ch) || ch == '+' || ch == '-';
  });
  if (!plausible) fail(fmt::format("{} is not a signal name or number", quote_text(signal)));
  c.stop_signal = std::move(signal);
}

struct Instruction {
  std::string_view keyword;
  Handler handler;
};

constexpr std::array instructions{
    Instruction{"CMD", set_cmd},         Instruction{"ENTRYPOINT", set_entrypoint},
    Instruction{"ENV", set_env},         Instruction{"EXPOSE", add_expose},
    Instruction{"LABEL", set_label},     Instruction{"STOPSIGNAL", set_stop_signal},
    Instruction{"USER", set_user},       Instruction{"VOLUME", add_volume},
    Instruction{"WORKDIR", set_workdir},
};

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; });
  return out;
}

std::string known_keywords() {
  std::string out;
  for (const auto& i : instructions) out += (out.empty() ? "" : ", ") + std::string(i.keyword);
  return out;
}

// ---------------------------------------------------------------------------------------
// RFC 3339: date-time = full-date "T" full-time.

bool digits_at(std::string_view s, std::size_t at, std::size_t count, int low, int high) noexcept {
  if (at + count > s.size()) return false;
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    value = value * 10 + (s[i] - '0');
  }
  return value >= low && value <= high;
}

bool is_time_offset(std::string_view s) noexcept {
  if (s == "Z" || s == "z") return true;
  return s.size() == 6 && (s[0] == '+' || s[0] == '-') && digits_at(s, 1, 2, 0, 23) && s[3] == ':' &&
         digits_at(s, 4, 2, 0, 59);
}

}  // namespace

void apply_change(ContainerConfig& config, std::string_view instruction) {
  const auto text = trim(instruction);
  const auto keyword_end = static_cast<std::size_t>(std::find_if(text.begin(), text.end(), is_space) - text.begin());
  const auto keyword = upper(text.substr(0, keyword_end));
  const auto rest = trim(text.substr(keyword_end));
  const auto it = std::find_if(instructions.begin(), instructions.end(),
                               [&](const Instruction& i) { return i.keyword == keyword; });
  if (it == instructions.end())
    fail(fmt::format("unknown or unsupported instruction {} (a change may be {})",
                     quote_text(text.substr(0, keyword_end)), known_keywords()));
  try {
    it->handler(config, rest, WordExpander(config.env));
  } catch (const Error& e) {
    throw e.with_context(keyword);
  }
}

void apply_changes(ContainerConfig& config, const std::vector<std::string>& changes) {
  for (const auto& change : changes) {
    try {
      apply_change(config, change);
    } catch (const Error& e) {
      throw e.with_context(fmt::format("change {}", quote_text(change)));
    }
  }
}

bool is_rfc3339(std::string_view s) noexcept {
  constexpr std::size_t seconds_end = 19;  // "YYYY-MM-DDTHH:MM:SS"
  if (s.size() <= seconds_end) return false;
  const bool date_time = digits_at(s, 0, 4, 0, 9999) && s[4] == '-' && digits_at(s, 5, 2, 1, 12) && s[7] == '-' &&
                         digits_at(s, 8, 2, 1, 31) && (s[10] == 'T' || s[10] == 't') && digits_at(s, 11, 2, 0, 23) &&
                         s[13] == ':' && digits_at(s, 14, 2, 0, 59) && s[16] == ':' && digits_at(s, 17, 2, 0, 60);
  if (!date_time) return false;
  auto rest = s.substr(seconds_end);
  if (rest.front() == '.') {
    std::size_t n = 1;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
    if (n == 1) return false;
    rest.remove_prefix(n);
  }
  return is_time_offset(rest);
}

ImageConfig make_import_config(const ImportOptions& options, std::string_view now, std::string_view default_comment) {
  const auto platform = options.platform.normalized();
  if (platform.os.empty() || platform.architecture.empty())
    fail(fmt::format("platform {}: os and architecture are required", quote_text(platform.string())));
  if (options.created && !is_rfc3339(*options.created))
    fail(fmt::format("created {}: not an RFC 3339 time such as 2024-05-01T12:00:00Z", quote_text(*options.created)));
  ImageConfig config;
  config.created = options.created.value_or(std::string(now));
  config.architecture = platform.architecture;
  config.os = platform.os;
  if (!platform.variant.empty()) config.variant = platform.variant;
  if (!platform.os_version.empty()) config.os_version = platform.os_version;
  config.os_features = platform.os_features;
  apply_changes(config.config, options.changes);
  HistoryEntry history;
  history.created = config.created;
  history.comment = options.comment.value_or(std::string(default_comment));
  config.history.push_back(std::move(history));
  return config;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
