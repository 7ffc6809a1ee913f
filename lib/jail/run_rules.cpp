#include "jail/run_rules.hpp"

#include "core/text.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

std::string_view env_name(std::string_view entry) { return entry.substr(0, entry.find('=')); }

bool same_name(std::string_view a, std::string_view b) { return env_name(a) == env_name(b); }

// Docker's ReplaceOrAppendEnvValues, except that an entry also replaces an earlier
// override of the same name (docker would keep both, and which one a program sees then
// depends on its libc).
void replace_or_append(std::vector<std::string>& env, const std::string& entry) {
  const bool unset = entry.find('=') == std::string::npos;
  const auto it = std::find_if(env.begin(), env.end(), [&](const std::string& e) { return same_name(e, entry); });
  if (unset) {
    if (it != env.end()) env.erase(it);
  } else if (it != env.end()) {
    *it = entry;
  } else {
    env.push_back(entry);
  }
}

}  // namespace

std::vector<std::string> docker_args(const ContainerConfig& image, const RunOverrides& overrides) {
  std::optional<std::vector<std::string>> entrypoint = overrides.entrypoint;
  std::optional<std::vector<std::string>> cmd;
  if (overrides.args && !overrides.args->empty()) cmd = overrides.args;
  // moby merge(): the image's Cmd only counts when the caller gave no entrypoint (an
  // empty list is none), and the image's Entrypoint only when the caller gave nothing.
  if (!entrypoint || entrypoint->empty()) {
    if (!cmd) cmd = image.cmd;
    if (!entrypoint) entrypoint = image.entrypoint;
  }
  // Then `--entrypoint ""` (or an image Entrypoint of [""]) means no entrypoint.
  if (entrypoint && entrypoint->size() == 1 && entrypoint->front().empty()) entrypoint.reset();
  std::vector<std::string> args = entrypoint.value_or(std::vector<std::string>{});
  if (cmd) args.insert(args.end(), cmd->begin(), cmd->end());
  if (args.empty())
    throw Error(ErrorCode::invalid_argument,
                fmt::format("run {}: no command specified: the image has no Entrypoint or Cmd and none was given",
                            overrides.image_ref.empty() ? "image" : quote_untrusted(overrides.image_ref)));
  return args;
}

std::vector<std::string> docker_env(const std::vector<std::string>& image_env, const std::vector<std::string>& user_env,
                                    const EnvDefaults& defaults) {
  std::vector<std::string> env{"PATH=" + std::string(docker_default_path)};
  if (!defaults.hostname.empty()) env.push_back("HOSTNAME=" + defaults.hostname);
  if (defaults.terminal) env.emplace_back("TERM=xterm");
  for (const auto& entry : user_env) replace_or_append(env, entry);
  for (const auto& entry : image_env) {
    const bool overridden =
        std::any_of(user_env.begin(), user_env.end(), [&](const std::string& u) { return same_name(u, entry); });
    if (!overridden) replace_or_append(env, entry);
  }
  const bool has_home = std::any_of(env.begin(), env.end(), [](const std::string& e) { return env_name(e) == "HOME"; });
  if (!has_home && !defaults.home.empty()) env.push_back("HOME=" + defaults.home);
  return env;
}

std::string docker_workdir(const ContainerConfig& image, const RunOverrides& overrides) {
  std::string dir = overrides.workdir.value_or("");
  if (dir.empty()) dir = image.working_dir.value_or("");
  if (dir.empty()) return "/";
  if (dir.front() != '/')
    throw Error(ErrorCode::invalid_argument,
                fmt::format("working directory {} is invalid: it must be an absolute path", quote_untrusted(dir)));
  auto normal = std::filesystem::path(dir).lexically_normal().string();
  if (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

std::optional<std::string> docker_hostname(const RunOverrides& overrides) {
  if (overrides.hostname) {
    const auto& name = *overrides.hostname;
    // 64 is Linux's HOST_NAME_MAX (FreeBSD allows more); no blanks, slashes or controls.
    const bool usable = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
      const auto b = static_cast<unsigned char>(c);
      return b > 0x20 && b < 0x7f && c != '/';
    });
    if (!usable)
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("hostname {} is invalid: 1 to 64 printable characters without blanks or '/'",
                              quote_untrusted(name)));
    return name;
  }
  if (!overrides.container_id.empty()) return overrides.container_id.substr(0, 12);
  return std::nullopt;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
