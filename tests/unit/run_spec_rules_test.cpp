// docker's rules for argv, environment, working directory, hostname and user, case by
// case (moby daemon merge, CreateDaemonEnvironment, moby/sys/user GetExecUser).
#include "jail/run_rules.hpp"
#include "jail/user_db.hpp"
#include "oci_test_support.hpp"

#include <knast/run_spec.hpp>

#include <optional>
#include <string>
#include <vector>

namespace {

using knast::ContainerConfig;
using knast::ErrorCode;
using knast::RunOverrides;
using oci_test::error_from;
using Strings = std::vector<std::string>;
using MaybeStrings = std::optional<Strings>;

// ---- argv: Entrypoint + Cmd ------------------------------------------------------------

struct ArgsCase {
  const char* name;
  MaybeStrings image_entrypoint;
  MaybeStrings image_cmd;
  MaybeStrings entrypoint;  // the caller's --entrypoint
  MaybeStrings args;        // the caller's command
  MaybeStrings expected;    // nothing: "no command specified"
};

const std::vector<ArgsCase> args_cases = {
    {"image cmd only", {}, Strings{"sh"}, {}, {}, Strings{"sh"}},
    {"args replace the image cmd", {}, Strings{"sh"}, {}, Strings{"echo", "hi"}, Strings{"echo", "hi"}},
    {"entrypoint then cmd", Strings{"/ep.sh"}, Strings{"run"}, {}, {}, Strings{"/ep.sh", "run"}},
    {"args go after the image entrypoint", Strings{"/ep.sh"}, Strings{"run"}, {}, Strings{"x"}, Strings{"/ep.sh", "x"}},
    {"--entrypoint drops the image cmd", Strings{"/ep.sh"}, Strings{"run"}, Strings{"/bin/sh"}, {}, Strings{"/bin/sh"}},
    {"--entrypoint with args", Strings{"/ep.sh"}, Strings{"run"}, Strings{"/bin/sh"}, Strings{"-c", "true"},
     Strings{"/bin/sh", "-c", "true"}},
    {"--entrypoint \"\" with args runs the args", Strings{"/ep.sh"}, Strings{"run"}, Strings{""}, Strings{"ls"},
     Strings{"ls"}},
    {"--entrypoint \"\" alone: no command (docker)", Strings{"/ep.sh"}, Strings{"run"}, Strings{""}, {}, {}},
    {"API empty entrypoint keeps the image cmd", Strings{"/ep.sh"}, Strings{"run"}, Strings{}, {}, Strings{"run"}},
    {"API empty entrypoint with args", Strings{"/ep.sh"}, Strings{"run"}, Strings{}, Strings{"id"}, Strings{"id"}},
    {"nothing at all", {}, {}, {}, {}, {}},
    {"args on an image without any", {}, {}, {}, Strings{"true"}, Strings{"true"}},
    {"image entrypoint [\"\"] is none", Strings{""}, Strings{"sh"}, {}, {}, Strings{"sh"}},
    {"image entrypoint alone", Strings{"a", "b"}, {}, {}, {}, Strings{"a", "b"}},
    {"empty args count as none", {}, Strings{"sh"}, {}, Strings{}, Strings{"sh"}},
    {"empty image cmd", {}, Strings{}, {}, {}, {}},
    {"--entrypoint with empty args", Strings{"/ep"}, Strings{"run"}, Strings{"x"}, Strings{}, Strings{"x"}},
    {"image empty entrypoint list", Strings{}, Strings{"sh"}, {}, {}, Strings{"sh"}},
    {"multi-word --entrypoint stays one list",
     {},
     Strings{"sh"},
     Strings{"/bin/sh", "-c"},
     Strings{"echo $0"},
     Strings{"/bin/sh", "-c", "echo $0"}},
};

TEST(RunSpecRules, ArgvFollowsDockerEntrypointAndCmdPrecedence) {
  for (const auto& c : args_cases) {
    ContainerConfig image;
    image.entrypoint = c.image_entrypoint;
    image.cmd = c.image_cmd;
    RunOverrides o;
    o.entrypoint = c.entrypoint;
    o.args = c.args;
    if (c.expected) {
      EXPECT_EQ(knast::detail::docker_args(image, o), *c.expected) << c.name;
    } else {
      const auto e = error_from([&] { (void)knast::detail::docker_args(image, o); });
      EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << c.name;
      EXPECT_THAT(e.what(), testing::HasSubstr("no command specified")) << c.name;
    }
  }
}

// ---- environment -------------------------------------------------------------------------

struct EnvCase {
  const char* name;
  Strings image;
  Strings user;
  knast::detail::EnvDefaults defaults;
  Strings expected;
};

const std::string default_path = "PATH=" + std::string(knast::docker_default_path);

const std::vector<EnvCase> env_cases = {
    {"image PATH kept in place", {"PATH=/x"}, {}, {"h", false, "/root"}, {"PATH=/x", "HOSTNAME=h", "HOME=/root"}},
    {"docker's PATH when the image has none", {}, {}, {"h", false, "/"}, {default_path, "HOSTNAME=h", "HOME=/"}},
    {"caller replaces an image variable",
     {"A=1"},
     {"A=2"},
     {"h", false, "/"},
     {default_path, "HOSTNAME=h", "A=2", "HOME=/"}},
    {"caller's first, then the image's",
     {"A=1", "B=2"},
     {"C=3"},
     {"h", false, "/"},
     {default_path, "HOSTNAME=h", "C=3", "A=1", "B=2", "HOME=/"}},
    {"NAME alone unsets an image variable",
     {"A=1", "B=2"},
     {"A"},
     {"h", false, "/"},
     {default_path, "HOSTNAME=h", "B=2", "HOME=/"}},
    {"NAME alone unsets a default", {}, {"HOSTNAME"}, {"h", false, "/"}, {default_path, "HOME=/"}},
    {"TERM with a terminal", {}, {}, {"h", true, "/"}, {default_path, "HOSTNAME=h", "TERM=xterm", "HOME=/"}},
    {"caller's TERM replaces it in place",
     {},
     {"TERM=vt100"},
     {"h", true, "/"},
     {default_path, "HOSTNAME=h", "TERM=vt100", "HOME=/"}},
    {"image HOME wins over passwd", {"HOME=/h"}, {}, {"h", false, "/root"}, {default_path, "HOSTNAME=h", "HOME=/h"}},
    {"caller's HOSTNAME in place", {}, {"HOSTNAME=x"}, {"h", false, "/"}, {default_path, "HOSTNAME=x", "HOME=/"}},
    {"a repeated caller variable: the last wins",
     {},
     {"A=1", "A=2"},
     {"h", false, "/"},
     {default_path, "HOSTNAME=h", "A=2", "HOME=/"}},
    {"caller's PATH over the image's",
     {"PATH=/i"},
     {"PATH=/u"},
     {"h", false, "/"},
     {"PATH=/u", "HOSTNAME=h", "HOME=/"}},
    {"no hostname, no HOSTNAME", {}, {}, {"", false, "/"}, {default_path, "HOME=/"}},
    {"'=' inside a value", {"A=b=c"}, {}, {"", false, "/"}, {default_path, "A=b=c", "HOME=/"}},
    {"empty value is a value", {"A=1"}, {"A="}, {"", false, "/"}, {default_path, "A=", "HOME=/"}},
};

TEST(RunSpecRules, EnvironmentMergesLikeDocker) {
  for (const auto& c : env_cases)
    EXPECT_EQ(knast::detail::docker_env(c.image, c.user, c.defaults), c.expected) << c.name;
}

// ---- working directory and hostname ------------------------------------------------------

TEST(RunSpecRules, WorkingDirectoryDefaultsToRootAndMustBeAbsolute) {
  ContainerConfig image;
  RunOverrides o;
  EXPECT_EQ(knast::detail::docker_workdir(image, o), "/");
  image.working_dir = "";
  EXPECT_EQ(knast::detail::docker_workdir(image, o), "/");
  image.working_dir = "/srv/app/";
  EXPECT_EQ(knast::detail::docker_workdir(image, o), "/srv/app");
  o.workdir = "/tmp/../var/./lib";
  EXPECT_EQ(knast::detail::docker_workdir(image, o), "/var/lib");
  o.workdir = "";  // docker: an empty -w keeps the image's
  EXPECT_EQ(knast::detail::docker_workdir(image, o), "/srv/app");
  o.workdir = "relative";
  const auto e = error_from([&] { (void)knast::detail::docker_workdir(image, o); });
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), testing::HasSubstr("absolute"));
}

TEST(RunSpecRules, HostnameIsTheCallersOrTheShortContainerId) {
  RunOverrides o;
  EXPECT_EQ(knast::detail::docker_hostname(o), std::nullopt);
  o.container_id = "0123456789abcdef0123";
  EXPECT_EQ(knast::detail::docker_hostname(o), "0123456789ab");
  o.hostname = "web";
  EXPECT_EQ(knast::detail::docker_hostname(o), "web");
  for (const char* bad : {"", "a b", "a/b", "x\n"}) {
    o.hostname = bad;
    EXPECT_EQ(error_from([&] { (void)knast::detail::docker_hostname(o); }).kind(), ErrorCode::invalid_argument) << bad;
  }
  o.hostname = std::string(65, 'a');
  EXPECT_EQ(error_from([&] { (void)knast::detail::docker_hostname(o); }).kind(), ErrorCode::invalid_argument);
}

// ---- user ----------------------------------------------------------------------------------

const std::string passwd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
    "# a comment line\n"
    "\n"
    "broken:x:notanumber:1::/:/bin/sh\n"
    "bob:x:1000:1000:Bob:/home/bob:/bin/sh\n"
    "alice:x:1001:1001::/home/alice:/bin/sh\n"
    "shadowbob:x:1000:2000::/dup:/bin/sh\n"
    "nohome:x:1002:1002\n";
const std::string group =
    "root:x:0:\n"
    "wheel:x:10:root,bob\n"
    "bob:x:1000:\n"
    "staff:x:50:bob, alice\n"
    "alice:x:1001:\n";

struct UserCase {
  const char* spec;
  bool has_passwd;
  bool has_group;
  std::uint32_t uid;
  std::uint32_t gid;
  std::vector<std::uint32_t> gids;
  std::string home;
  std::optional<std::string> name;
};

const std::vector<UserCase> user_cases = {
    {"", true, true, 0, 0, {0, 10}, "/root", "root"},
    {"root", true, true, 0, 0, {0, 10}, "/root", "root"},
    {"bob", true, true, 1000, 1000, {1000, 10, 50}, "/home/bob", "bob"},
    {"1000", true, true, 1000, 1000, {1000, 10, 50}, "/home/bob", "bob"},  // first line of uid 1000 wins
    {"alice", true, true, 1001, 1001, {1001, 50}, "/home/alice", "alice"},
    {"daemon", true, true, 1, 1, {1}, "/usr/sbin", "daemon"},
    {"bob:staff", true, true, 1000, 50, {50}, "/home/bob", "bob"},  // explicit group: no supplementary ones
    {"bob:50", true, true, 1000, 50, {50}, "/home/bob", "bob"},
    {"bob:4343", true, true, 1000, 4343, {4343}, "/home/bob", "bob"},
    {"1000:1000", true, true, 1000, 1000, {1000}, "/home/bob", "bob"},
    {"4242", true, true, 4242, 0, {0}, "/", std::nullopt},  // numeric uid without an entry
    {"4242:4343", true, true, 4242, 4343, {4343}, "/", std::nullopt},
    {"4242:staff", true, true, 4242, 50, {50}, "/", std::nullopt},
    {"nohome", true, true, 1002, 1002, {1002}, "/", "nohome"},
    {"", false, false, 0, 0, {0}, "/", std::nullopt},  // no passwd: root by number
    {"bob", true, false, 1000, 1000, {1000}, "/home/bob", "bob"},
    {"0:0", false, false, 0, 0, {0}, "/", std::nullopt},
};

TEST(RunSpecRules, UserResolvesLikeDocker) {
  for (const auto& c : user_cases) {
    const auto u = knast::detail::resolve_user(c.spec, c.has_passwd ? std::optional(passwd) : std::nullopt,
                                               c.has_group ? std::optional(group) : std::nullopt, "img");
    EXPECT_EQ(u.uid, c.uid) << '"' << c.spec << '"';
    EXPECT_EQ(u.gid, c.gid) << '"' << c.spec << '"';
    EXPECT_EQ(u.additional_gids, c.gids) << '"' << c.spec << '"';
    EXPECT_EQ(u.home, c.home) << '"' << c.spec << '"';
    EXPECT_EQ(u.name, c.name) << '"' << c.spec << '"';
  }
}

TEST(RunSpecRules, UnknownUserOrGroupNamesAreNotFoundNamingThemAndTheImage) {
  const auto resolve = [](const char* spec, bool with_files = true) {
    return error_from([&] {
      (void)knast::detail::resolve_user(spec, with_files ? std::optional(passwd) : std::nullopt,
                                        with_files ? std::optional(group) : std::nullopt, "busybox:latest");
    });
  };
  for (const char* spec : {"nobody", "bob:nogroup", "4242:nogroup"}) {
    const auto e = resolve(spec);
    EXPECT_EQ(e.kind(), ErrorCode::not_found) << spec;
    EXPECT_THAT(e.what(), testing::HasSubstr("busybox:latest")) << spec;
  }
  EXPECT_THAT(resolve("nobody").what(), testing::HasSubstr("no user named \"nobody\" in /etc/passwd"));
  EXPECT_THAT(resolve("bob:nogroup").what(), testing::HasSubstr("no group named \"nogroup\" in /etc/group"));
  EXPECT_EQ(resolve("bob", false).kind(), ErrorCode::not_found);  // no passwd file at all
  for (const char* spec : {"a:b:c", "bob:", "2147483648", "0:99999999999"})
    EXPECT_EQ(resolve(spec).kind(), ErrorCode::invalid_argument) << spec;
}

TEST(RunSpecRules, MalformedDatabaseLinesAreSkippedNotReadAsRoot) {
  const auto users = knast::detail::parse_passwd(passwd);
  ASSERT_EQ(users.size(), 6u);  // the comment, the blank and the broken line are not users
  EXPECT_EQ(users[2].name, "bob");
  const auto e = error_from([&] { (void)knast::detail::resolve_user("broken", passwd, group, "img"); });
  EXPECT_EQ(e.kind(), ErrorCode::not_found);
  const auto groups = knast::detail::parse_group(group);
  ASSERT_EQ(groups.size(), 5u);
  EXPECT_EQ(groups[3].members, (Strings{"bob", "alice"}));
}

}  // namespace
