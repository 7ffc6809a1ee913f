// The `docker run` option syntaxes RunOverrides carries as text: sizes, --cpus, -v, --tmpfs.
#include "core/text.hpp"

#include <knast/error.hpp>
#include <knast/run_spec.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <limits>
#include <utility>

namespace knast {
inline namespace v0 {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

[[noreturn]] void bad(std::string_view what, std::string_view text, std::string_view why) {
  throw Error(ErrorCode::invalid_argument, fmt::format("{} {}: {}", what, detail::quote_untrusted(text), why));
}

// A decimal "123" or "1.25" as a whole part and a fraction of up to 18 digits; what is
// left of @p text after it is returned in @p rest.
struct Decimal {
  std::uint64_t whole = 0;
  std::uint64_t fraction = 0;
  int fraction_digits = 0;
};

std::optional<Decimal> read_decimal(std::string_view& text) {
  Decimal d;
  std::size_t i = 0;
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  for (; i < text.size() && is_digit(text[i]); ++i) {
    const auto digit = static_cast<std::uint64_t>(text[i] - '0');
    if (d.whole > (max - digit) / 10) return std::nullopt;
    d.whole = d.whole * 10 + digit;
  }
  if (i == 0) return std::nullopt;
  if (i < text.size() && text[i] == '.') {
    const std::size_t start = ++i;
    for (; i < text.size() && is_digit(text[i]); ++i) {
      if (d.fraction_digits == 18) return std::nullopt;
      d.fraction = d.fraction * 10 + static_cast<std::uint64_t>(text[i] - '0');
      ++d.fraction_digits;
    }
    if (i == start) return std::nullopt;
  }
  text.remove_prefix(i);
  return d;
}

std::uint64_t pow10(int n) {
  std::uint64_t v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

// whole * multiplier + fraction * multiplier / 10^digits, or nothing on overflow of int64.
std::optional<std::int64_t> scale(const Decimal& d, std::uint64_t multiplier) {
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (d.whole != 0 && d.whole > max / multiplier) return std::nullopt;
  const auto whole = d.whole * multiplier;
  // fraction < 10^18 and multiplier ≤ 2^50: the product needs 128 bits.
  __extension__ using Wide = unsigned __int128;
  const auto part = static_cast<std::uint64_t>(Wide{d.fraction} * multiplier / pow10(d.fraction_digits));
  if (whole > max - part) return std::nullopt;
  return static_cast<std::int64_t>(whole + part);
}

bool is_absolute(std::string_view path) { return !path.empty() && path.front() == '/'; }

std::string clean_path(std::string_view path) {
  auto normal = std::filesystem::path(path).lexically_normal().string();
  if (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

// Flags tmpfs takes that come in opposite pairs: a later one replaces its partner.
constexpr std::array<std::pair<std::string_view, std::string_view>, 8> opposite_flags = {{
    {"ro", "rw"},
    {"exec", "noexec"},
    {"suid", "nosuid"},
    {"dev", "nodev"},
    {"atime", "noatime"},
    {"relatime", "norelatime"},
    {"strictatime", "nostrictatime"},
    {"sync", "async"},
}};

std::optional<std::string_view> opposite_of(std::string_view flag) {
  for (const auto& [a, b] : opposite_flags) {
    if (flag == a) return b;
    if (flag == b) return a;
  }
  return std::nullopt;
}

std::string_view option_key(std::string_view option) { return option.substr(0, option.find('=')); }

// A tmpfs key=value option with its value checked and, for size, made a byte count.
std::string tmpfs_value_option(std::string_view option, std::string_view text) {
  const auto key = option_key(option);
  const auto value = option.substr(key.size() + 1);
  if (key == "size") {
    try {
      return fmt::format("size={}", parse_byte_size(value));
    } catch (const Error& e) {
      throw e.with_context(fmt::format("tmpfs {}", detail::quote_untrusted(text)));
    }
  }
  if (key == "mode") {
    const bool octal = !value.empty() && value.size() <= 4 &&
                       std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '7'; });
    if (!octal)
      bad("tmpfs", text,
          fmt::format("mode {} must be octal, at most 4 digits (\"1777\")", detail::quote_untrusted(value)));
    return std::string(option);
  }
  const bool known = key == "uid" || key == "gid" || key == "nr_inodes" || key == "inodes";
  if (!known || value.empty() || !std::all_of(value.begin(), value.end(), is_digit))
    bad("tmpfs", text,
        fmt::format("unknown option {}: expected size=, mode=, uid=, gid=, nr_inodes= or a flag such as noexec",
                    detail::quote_untrusted(option)));
  return std::string(option);
}

void merge_tmpfs_option(std::vector<std::string>& options, std::string_view option, std::string_view text) {
  if (option.find('=') != std::string_view::npos) {
    auto value = tmpfs_value_option(option, text);
    const auto key = option_key(value);
    std::erase_if(options,
                  [&](const std::string& o) { return o.find('=') != std::string::npos && option_key(o) == key; });
    options.push_back(std::move(value));
    return;
  }
  const auto opposite = opposite_of(option);
  if (!opposite) bad("tmpfs", text, fmt::format("unknown option {}", detail::quote_untrusted(option)));
  std::erase_if(options, [&](const std::string& o) { return o == option || o == *opposite; });
  options.emplace_back(option);
}

}  // namespace

std::int64_t parse_byte_size(std::string_view text) {
  auto rest = text;
  const auto number = read_decimal(rest);
  if (!number) bad("size", text, "expected a number with an optional unit b, k, m, g, t or p (\"512m\")");
  if (rest.starts_with(' ')) rest.remove_prefix(1);
  std::uint64_t multiplier = 1;
  if (!rest.empty()) {
    constexpr std::string_view units = "bkmgtp";
    const auto unit = units.find(static_cast<char>(std::tolower(static_cast<unsigned char>(rest.front()))));
    if (unit != std::string_view::npos && unit > 0) {
      multiplier = std::uint64_t{1} << (10 * unit);
      rest.remove_prefix(1);
    }
  }
  if (!rest.empty() && (rest.front() == 'i' || rest.front() == 'I')) rest.remove_prefix(1);
  if (!rest.empty() && (rest.front() == 'b' || rest.front() == 'B')) rest.remove_prefix(1);
  if (!rest.empty()) bad("size", text, "expected a number with an optional unit b, k, m, g, t or p (\"512m\")");
  const auto bytes = scale(*number, multiplier);
  if (!bytes) bad("size", text, "too large");
  return *bytes;
}

std::int64_t parse_cpus(std::string_view text) {
  auto rest = text;
  const auto number = read_decimal(rest);
  if (!number || !rest.empty()) bad("cpus", text, "expected a decimal number of CPUs (\"1.5\")");
  if (number->fraction_digits > 9) bad("cpus", text, "too precise: at most 9 decimals");
  const auto nano = scale(*number, 1'000'000'000);
  if (!nano) bad("cpus", text, "too large");
  if (*nano <= 0) bad("cpus", text, "must be more than 0");
  return *nano;
}

RunMount parse_volume(std::string_view text, std::string_view host_os) {
  std::vector<std::string_view> parts;
  for (auto rest = text;;) {
    const auto colon = rest.find(':');
    parts.push_back(rest.substr(0, colon));
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  if (parts.size() < 2 || parts.size() > 3) bad("volume", text, "expected SRC:DST or SRC:DST:ro|rw");
  const auto source = parts[0];
  const auto destination = parts[1];
  if (source.empty()) bad("volume", text, "the source is empty");
  if (!is_absolute(source))
    throw Error(ErrorCode::unsupported,
                fmt::format("volume {}: named volumes are not supported: give an absolute host path as the source",
                            detail::quote_untrusted(text)));
  if (!is_absolute(destination)) bad("volume", text, "the destination must be an absolute path");
  if (clean_path(destination) == "/") bad("volume", text, "the destination cannot be \"/\"");
  bool read_only = false;
  if (parts.size() == 3) {
    if (parts[2] == "ro")
      read_only = true;
    else if (parts[2] != "rw")
      bad("volume", text, fmt::format("unknown mode {}: expected ro or rw", detail::quote_untrusted(parts[2])));
  }
  const std::string mode = read_only ? "ro" : "rw";
  if (host_os == "freebsd") return RunMount{clean_path(destination), "nullfs", clean_path(source), {mode}};
  return RunMount{clean_path(destination), "bind", clean_path(source), {"rbind", mode}};
}

RunMount parse_tmpfs(std::string_view text) {
  const auto colon = text.find(':');
  const auto destination = text.substr(0, colon);
  if (!is_absolute(destination)) bad("tmpfs", text, "the destination must be an absolute path");
  if (clean_path(destination) == "/") bad("tmpfs", text, "the destination cannot be \"/\"");
  std::vector<std::string> options{"noexec", "nosuid", "nodev"};
  if (colon != std::string_view::npos) {
    auto rest = text.substr(colon + 1);
    for (;;) {
      const auto comma = rest.find(',');
      const auto option = rest.substr(0, comma);
      if (option.empty()) bad("tmpfs", text, "empty option");
      merge_tmpfs_option(options, option, text);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return RunMount{clean_path(destination), "tmpfs", "tmpfs", std::move(options)};
}

}  // namespace v0
}  // namespace knast
