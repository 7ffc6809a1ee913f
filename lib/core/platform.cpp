// Platform names, parsing and matching. The rules are containerd's (github.com/containerd/
// platforms: database.go, platforms.go, compare.go), so that knast picks the same image
// from a multi-platform index as containerd and docker would; deviations are noted where
// they are made.
#include <knast/error.hpp>
#include <knast/platform.hpp>

#include <fmt/format.h>
#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <span>
#include <tuple>

namespace knast {
inline namespace v0 {
namespace {

// ---------------------------------------------------------------------------------------
// Names

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

bool contains(std::span<const std::string_view> names, std::string_view name) noexcept {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Go's GOOS and GOARCH lists (go/build/syslist.go), as containerd uses them to tell
// "linux" from "arm64" in a one-component specifier.
constexpr std::array<std::string_view, 17> known_oses = {
    "aix",   "android", "darwin",  "dragonfly", "freebsd", "hurd",    "illumos", "ios", "js",
    "linux", "nacl",    "netbsd",  "openbsd",   "plan9",   "solaris", "windows", "zos"};
constexpr std::array<std::string_view, 24> known_architectures = {
    "386",     "amd64",    "amd64p32", "arm",       "armbe",       "arm64",   "arm64be", "ppc64",
    "ppc64le", "loong64",  "mips",     "mipsle",    "mips64",      "mips64le", "mips64p32", "mips64p32le",
    "ppc",     "riscv",    "riscv64",  "s390",      "s390x",       "sparc",   "sparc64", "wasm"};

// Spellings (uname -m on Linux and FreeBSD, distribution names) of the GOARCH names.
// containerd itself knows only i386, x86_64, x86-64 and aarch64; the others come from
// uname and are unambiguous.
struct ArchAlias {
  std::string_view alias;
  std::string_view arch;
};
constexpr std::array<ArchAlias, 9> arch_aliases = {{{"i386", "386"},
                                                    {"i486", "386"},
                                                    {"i586", "386"},
                                                    {"i686", "386"},
                                                    {"x86_64", "amd64"},
                                                    {"x86-64", "amd64"},
                                                    {"aarch64", "arm64"},
                                                    {"powerpc64le", "ppc64le"},
                                                    {"powerpc64", "ppc64"}}};

// arm64 v8 is the baseline and is dropped; "9" means v9 (containerd's normalizeArch).
std::string arm64_variant(std::string_view variant) {
  if (variant == "8" || variant == "v8" || variant == "v8.0") return {};
  if (variant == "9" || variant == "9.0" || variant == "v9.0") return "v9";
  return std::string(variant);
}

// 32-bit arm without a variant is v7, the armhf baseline (containerd's normalizeArch).
std::string arm_variant(std::string_view variant) {
  if (variant.empty() || variant == "7") return "v7";
  if (variant == "5" || variant == "6" || variant == "8") return fmt::format("v{}", variant);
  return std::string(variant);
}

// uname -m of 32-bit arm names the ISA: "armv7l", "armv6l", "armv5tel", "armv8l".
std::optional<std::string> variant_of_uname_arm(std::string_view arch) {
  if (arch.size() < 5 || !arch.starts_with("armv") || !is_digit(arch[4])) return std::nullopt;
  return std::string("v") + arch[4];
}

// ---------------------------------------------------------------------------------------
// Parsing

constexpr bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-';
}
constexpr bool is_component_char(char c) noexcept { return is_name_char(c) || c == '.'; }
constexpr bool is_os_option_char(char c) noexcept { return is_component_char(c) || c == '%'; }

template <typename Pred>
bool all_nonempty(std::string_view text, Pred pred) {
  return !text.empty() && std::all_of(text.begin(), text.end(), pred);
}

[[noreturn]] void throw_invalid(std::string_view text, std::string_view problem) {
  throw Error(ErrorCode::invalid_argument, fmt::format("invalid platform \"{}\": {}", text, problem));
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const auto end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

int hex_value(char c) noexcept {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// os.version and os.features may hold '%'-escapes (Go's url.PathUnescape), so that
// characters like '+' and ')' fit into the specifier.
std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (text.size() - i < 3) return std::nullopt;
    const int high = hex_value(text[i + 1]);
    const int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

// The first component: `os` or `os(os.version+feature+feature)`.
void parse_os_component(std::string_view text, std::string_view component, Platform& platform) {
  const auto open = component.find('(');
  const auto name = component.substr(0, open);
  if (!all_nonempty(name, is_name_char))
    throw_invalid(text, fmt::format("\"{}\" is not an os name (letters, digits, _ and -)", name));
  platform.os = std::string(name);
  if (open == std::string_view::npos) return;
  if (!component.ends_with(')')) throw_invalid(text, "os.version must be closed by ')'");
  const auto options = split(component.substr(open + 1, component.size() - open - 2), '+');
  for (std::size_t i = 0; i < options.size(); ++i) {
    // The version may be empty ("os(+feature)"); features may not.
    const bool valid = (i == 0 && options[i].empty()) || all_nonempty(options[i], is_os_option_char);
    auto decoded = valid ? percent_decode(options[i]) : std::nullopt;
    if (!decoded) throw_invalid(text, fmt::format("bad os.version or os.feature \"{}\"", options[i]));
    if (i == 0)
      platform.os_version = std::move(*decoded);
    else
      platform.os_features.push_back(std::move(*decoded));
  }
}

// A one-component specifier is an os (with the host's architecture) or an architecture
// (with the host's os), as containerd's Parse decides it.
Platform complete_single(std::string_view text, Platform platform) {
  const Platform host = Platform::host();
  if (contains(known_oses, normalize_os(platform.os))) {
    platform.architecture = host.architecture;
    platform.variant = host.variant;
    return platform;
  }
  const bool bare = platform.os_version.empty() && platform.os_features.empty();
  if (bare && contains(known_architectures, normalize_architecture(platform.os).first)) {
    platform.architecture = std::move(platform.os);
    platform.os = host.os;
    return platform;
  }
  throw_invalid(text, "not a known operating system or architecture");
}

// ---------------------------------------------------------------------------------------
// Matching

// A platform of @p base's os (and os.version, os.features) with another architecture.
Platform sibling(const Platform& base, std::string_view architecture, std::string variant) {
  Platform platform = base;
  platform.architecture = std::string(architecture);
  platform.variant = std::move(variant);
  return platform.normalized();
}

std::optional<int> parse_number(std::string_view digits) {
  if (!all_nonempty(digits, is_digit)) return std::nullopt;
  int number = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (ec != std::errc()) return std::nullopt;
  return number;
}

// The N of "vN" or "N", or @p empty_means for "".
std::optional<int> variant_level(std::string_view variant, int empty_means) {
  if (variant.empty()) return empty_means;
  if (variant.starts_with('v')) variant.remove_prefix(1);
  return parse_number(variant);
}

// arm vN runs arm binaries down to v5 (containerd keeps no older ones compatible).
void append_arm_below(std::vector<Platform>& out, const Platform& base, int level) {
  for (int n = level - 1; n >= 5; --n) out.push_back(sibling(base, "arm", fmt::format("v{}", n)));
}

// amd64 microarchitecture levels: vN runs vN-1 ... v1, and every amd64 runs 386.
void append_amd64_fallbacks(std::vector<Platform>& out, const Platform& wanted) {
  if (const auto level = variant_level(wanted.variant, 1))
    for (int n = *level - 1; n >= 1; --n) out.push_back(sibling(wanted, "amd64", fmt::format("v{}", n)));
  out.push_back(sibling(wanted, "386", ""));
}

struct Arm64Version {
  int major;
  int minor;
};

// "" (the v8 baseline), "vM" or "vM.N" for the ISA versions containerd ranks: v8.x, v9.x.
std::optional<Arm64Version> arm64_version(std::string_view variant) {
  if (variant.empty()) return Arm64Version{8, 0};
  if (!variant.starts_with('v')) return std::nullopt;
  variant.remove_prefix(1);
  const auto dot = variant.find('.');
  const auto major = parse_number(variant.substr(0, dot));
  const auto minor = dot == std::string_view::npos ? std::optional(0) : parse_number(variant.substr(dot + 1));
  if (!major || !minor || (*major != 8 && *major != 9)) return std::nullopt;
  return Arm64Version{*major, *minor};
}

// arm64 vM.top, vM.top-1, ..., vM.
void append_arm64_minors(std::vector<Platform>& out, const Platform& base, int major, int top_minor) {
  for (int minor = top_minor; minor >= 0; --minor)
    out.push_back(sibling(base, "arm64", minor == 0 ? fmt::format("v{}", major) : fmt::format("v{}.{}", major, minor)));
}

// arm64 v8.x runs v8.x-1 ... v8; v9.x runs v9.x-1 ... v9 and then v8.(x+5) ... v8 (as
// containerd's table, which stops at v8.9); every arm64 runs 32-bit arm v8 and below.
// containerd matches nothing at all for an arm64 variant it does not know; knast still
// matches the variant itself.
void append_arm64_fallbacks(std::vector<Platform>& out, const Platform& wanted) {
  const auto version = arm64_version(wanted.variant);
  if (!version) return;
  append_arm64_minors(out, wanted, version->major, version->minor - 1);
  if (version->major == 9) append_arm64_minors(out, wanted, 8, std::min(version->minor + 5, 9));
  out.push_back(sibling(wanted, "arm", "v8"));
  append_arm_below(out, wanted, 8);
}

// The wanted platform and what else runs where it does, best first (containerd's
// platformVector).
std::vector<Platform> compatible_platforms(const Platform& wanted) {
  std::vector<Platform> out{wanted};
  if (wanted.architecture == "amd64") {
    append_amd64_fallbacks(out, wanted);
  } else if (wanted.architecture == "arm64") {
    append_arm64_fallbacks(out, wanted);
  } else if (wanted.architecture == "arm") {
    if (const auto level = variant_level(wanted.variant, 7)) append_arm_below(out, wanted, *level);
  }
  return out;
}

// Both normalised. os.version is not compared: containerd does so only for Windows.
// The candidate's os.features must all be offered by the entry.
bool same_platform(const Platform& entry, const Platform& candidate) {
  return entry.os == candidate.os && entry.architecture == candidate.architecture &&
         entry.variant == candidate.variant &&
         std::includes(entry.os_features.begin(), entry.os_features.end(), candidate.os_features.begin(),
                       candidate.os_features.end());
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Platform

std::string normalize_os(std::string_view os) {
  std::string name = lower(os);
  if (name == "macos") return "darwin";
  return name;
}

std::pair<std::string, std::string> normalize_architecture(std::string_view arch, std::string_view variant) {
  std::string name = lower(arch);
  std::string var = lower(variant);
  if (auto implied = variant_of_uname_arm(name)) return {"arm", std::move(*implied)};
  if (name == "armhf") return {"arm", "v7"};
  if (name == "armel") return {"arm", "v6"};
  const auto alias = std::find_if(arch_aliases.begin(), arch_aliases.end(),
                                  [&](const ArchAlias& a) { return a.alias == name; });
  if (alias != arch_aliases.end()) name = std::string(alias->arch);
  if (name == "386") return {name, ""};  // 386 has no variants
  if (name == "amd64") return {name, var == "v1" ? "" : var};
  if (name == "arm64") return {name, arm64_variant(var)};
  if (name == "arm") return {name, arm_variant(var)};
  return {name, var};
}

Platform Platform::parse(std::string_view text) {
  if (text.empty()) throw_invalid(text, "empty specifier");
  const auto parts = split(text, '/');
  if (parts.size() > 3) throw_invalid(text, "expected os[/architecture[/variant]]");
  Platform platform;
  parse_os_component(text, parts[0], platform);
  for (std::size_t i = 1; i < parts.size(); ++i)
    if (!all_nonempty(parts[i], is_component_char))
      throw_invalid(text, fmt::format("\"{}\" is not an architecture or variant (letters, digits, _ . and -)", parts[i]));
  if (parts.size() == 1) return complete_single(text, std::move(platform)).normalized();
  platform.architecture = std::string(parts[1]);
  if (parts.size() == 3) platform.variant = std::string(parts[2]);
  return platform.normalized();
}

Platform Platform::host() {
  struct utsname names {};
  if (::uname(&names) != 0) throw Error(errno, "uname: cannot tell the host platform");
  auto [architecture, variant] = normalize_architecture(names.machine);
  Platform platform;
  platform.os = normalize_os(names.sysname);
  platform.architecture = std::move(architecture);
  platform.variant = std::move(variant);
  return platform;
}

Platform Platform::normalized() const {
  Platform platform = *this;
  platform.os = normalize_os(os);
  std::tie(platform.architecture, platform.variant) = normalize_architecture(architecture, variant);
  auto& features = platform.os_features;
  std::sort(features.begin(), features.end());
  features.erase(std::unique(features.begin(), features.end()), features.end());
  return platform;
}

std::string Platform::string() const {
  if (variant.empty()) return fmt::format("{}/{}", os, architecture);
  return fmt::format("{}/{}/{}", os, architecture, variant);
}

// ---------------------------------------------------------------------------------------
// PlatformMatcher

PlatformMatcher::PlatformMatcher(const Platform& wanted)
    : wanted_(wanted.normalized()), acceptable_(compatible_platforms(wanted_)) {}

std::optional<std::size_t> PlatformMatcher::rank(const Platform& candidate) const {
  const Platform normal = candidate.normalized();
  const auto entry = std::find_if(acceptable_.begin(), acceptable_.end(),
                                  [&](const Platform& acceptable) { return same_platform(acceptable, normal); });
  if (entry == acceptable_.end()) return std::nullopt;
  return static_cast<std::size_t>(entry - acceptable_.begin());
}

bool PlatformMatcher::matches(const Platform& candidate) const { return rank(candidate).has_value(); }

// Matching before not matching, then by preference; of two equally preferred ones, the
// one with more os.features (containerd's orderedPlatformComparer).
bool PlatformMatcher::less(const Platform& a, const Platform& b) const {
  const auto rank_a = rank(a);
  const auto rank_b = rank(b);
  if (!rank_a) return false;
  if (!rank_b) return true;
  if (*rank_a != *rank_b) return *rank_a < *rank_b;
  return a.os_features.size() > b.os_features.size();
}

std::optional<std::size_t> PlatformMatcher::best(const std::vector<Platform>& candidates) const {
  std::optional<std::size_t> best_index;
  for (std::size_t i = 0; i < candidates.size(); ++i)
    if (matches(candidates[i]) && (!best_index || less(candidates[i], candidates[*best_index]))) best_index = i;
  return best_index;
}

}  // namespace v0
}  // namespace knast
