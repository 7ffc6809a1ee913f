// docker's rules for turning an image config plus `docker run` options into the process
// of a container: argv (moby daemon merge + "Reset the Entrypoint if it is [\"\"]"),
// environment (merge, then container.CreateDaemonEnvironment and
// ReplaceOrAppendEnvValues), working directory and hostname. Pure functions, so the unit
// tests can hold them to docker's behaviour case by case.
#pragma once

#include <knast/oci.hpp>
#include <knast/run_spec.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

/// argv from the image's Entrypoint and Cmd and the caller's entrypoint and args.
/// @throws Error invalid_argument "no command specified" when both end up empty.
std::vector<std::string> docker_args(const ContainerConfig& image, const RunOverrides& overrides);

/// What the environment is built from besides the image's and the caller's lists.
struct EnvDefaults {
  std::string hostname;   ///< HOSTNAME=… when not empty.
  bool terminal = false;  ///< TERM=xterm.
  std::string home;       ///< HOME=… when no list sets HOME (what runc does at exec time).
};

/// The environment: PATH (docker's default), HOSTNAME and TERM first; then the caller's
/// entries, then the image's entries whose names the caller did not give, each
/// replacing an earlier entry of the same name in place or appended; "NAME" without
/// '=' removes NAME. HOME last if still missing.
std::vector<std::string> docker_env(const std::vector<std::string>& image_env, const std::vector<std::string>& user_env,
                                    const EnvDefaults& defaults);

/// The working directory: the caller's, else the image's WorkingDir, else "/"; lexically
/// normalised. @throws Error invalid_argument if it is not absolute.
std::string docker_workdir(const ContainerConfig& image, const RunOverrides& overrides);

/// The hostname: the caller's (checked), else the first 12 characters of the container
/// id, else nothing. @throws Error invalid_argument for an unusable hostname.
std::optional<std::string> docker_hostname(const RunOverrides& overrides);

}  // namespace detail
}  // namespace v0
}  // namespace knast
