// make_run_spec() as a whole: the image's own user database read confined to the root,
// host-specific sections, limits and mounts, and bundles written and read back.
#include "../integration/image_store_test_support.hpp"
#include "jail/confined_open.hpp"
#include "oci_test_support.hpp"

#include <knast/run_spec.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

namespace {

namespace fs = std::filesystem;
using knast::ErrorCode;
using knast::RunOverrides;
using knast::RunSpec;
using oci_test::error_from;
using store_test::spit;
using store_test::TempDir;
using Strings = std::vector<std::string>;

knast::ImageConfig image(std::string os = "linux") {
  knast::ImageConfig c;
  c.os = std::move(os);
  c.architecture = "amd64";
  c.config.cmd = Strings{"sh"};
  c.config.env = {"PATH=/bin"};
  return c;
}

// A root with etc/passwd and etc/group.
class Root : public TempDir {
 public:
  Root() {
    fs::create_directories(path() / "etc");
    spit(path() / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n");
    spit(path() / "etc/group", "root:x:0:\nstaff:x:50:bob\n");
  }
};

RunOverrides on(std::string host_os) {
  RunOverrides o;
  o.host_os = std::move(host_os);
  o.container_id = "abcdef0123456789";
  o.image_ref = "test:1";
  return o;
}

TEST(RunSpecMake, LinuxSpecHasDockersDefaults) {
  Root root;
  const auto spec = knast::make_run_spec(image(), root.path(), on("linux"));
  EXPECT_EQ(spec.oci_version, knast::default_oci_version);
  EXPECT_EQ(spec.process.args, Strings{"sh"});
  EXPECT_EQ(spec.process.env, (Strings{"PATH=/bin", "HOSTNAME=abcdef012345", "HOME=/root"}));
  EXPECT_EQ(spec.process.user, (knast::RunUser{0, 0, {0}, std::nullopt, "root"}));
  EXPECT_EQ(spec.hostname, "abcdef012345");
  EXPECT_EQ(spec.root, (knast::RunRoot{root.path().string(), false}));
  EXPECT_EQ(spec.mounts, knast::standard_linux_mounts());
  ASSERT_TRUE(spec.process.capabilities);
  EXPECT_EQ(spec.process.capabilities->bounding.size(), knast::docker_default_capabilities.size());
  EXPECT_TRUE(spec.process.capabilities->inheritable.empty());
  ASSERT_TRUE(spec.linux_config);
  EXPECT_EQ(spec.linux_config->namespaces.back().type, "network");
  EXPECT_EQ(spec.linux_config->resources, knast::LinuxResources{});
  EXPECT_FALSE(spec.freebsd_config);
  EXPECT_TRUE(spec.annotations.empty());
}

TEST(RunSpecMake, HostNetworkKeepsTheHostsStack) {
  Root root;
  auto o = on("linux");
  o.host_network = true;
  const auto linux_spec = knast::make_run_spec(image(), root.path(), o);
  EXPECT_TRUE(std::none_of(linux_spec.linux_config->namespaces.begin(), linux_spec.linux_config->namespaces.end(),
                           [](const knast::LinuxNamespace& n) { return n.type == "network"; }));
  o.host_os = "freebsd";
  const auto jail = *knast::make_run_spec(image("freebsd"), root.path(), o).freebsd_config->jail;
  EXPECT_EQ(jail.ip4, knast::SharingMode::inherit);
  EXPECT_EQ(jail.ip6, knast::SharingMode::inherit);
}

TEST(RunSpecMake, FreeBsdSpecForANativeImage) {
  Root root;
  auto o = on("freebsd");
  o.memory = "256m";
  const auto spec = knast::make_run_spec(image("freebsd"), root.path(), o);
  EXPECT_EQ(spec.oci_version, knast::freebsd_oci_version);
  EXPECT_TRUE(spec.mounts.empty());  // the FreeBSD executor adds devfs and its own
  EXPECT_FALSE(spec.process.capabilities);
  EXPECT_FALSE(spec.linux_config);
  EXPECT_EQ(spec.annotations,
            (std::map<std::string, std::string>{{"org.knast.freebsd.rctl", "memoryuse:deny=268435456"},
                                                {"org.knast.image.platform", "freebsd/amd64"}}));
  // docker's "none": a network stack of its own with only a loopback.
  EXPECT_EQ(spec.freebsd_config->jail->vnet, knast::SharingMode::new_);
  EXPECT_FALSE(spec.freebsd_config->jail->ip4);
  EXPECT_FALSE(spec.freebsd_config->jail->ip6);
}

TEST(RunSpecMake, TmpfsOnDevShmReplacesTheStandardOne) {
  Root root;
  auto o = on("linux");
  o.tmpfs = {"/dev/shm:size=1g"};
  const auto spec = knast::make_run_spec(image(), root.path(), o);
  const auto shm = std::count_if(spec.mounts.begin(), spec.mounts.end(),
                                 [](const knast::RunMount& m) { return m.destination == "/dev/shm"; });
  EXPECT_EQ(shm, 1);
  EXPECT_EQ(spec.mounts.back().options.back(), "size=1073741824");
}

TEST(RunSpecMake, MountsAreOrderedShallowFirst) {
  Root root;
  auto o = on("linux");
  o.volumes = {"/a:/data/deep/er", "/b:/data"};
  o.tmpfs = {"/data/deep"};
  const auto spec = knast::make_run_spec(image(), root.path(), o);
  const auto n = spec.mounts.size();
  EXPECT_EQ(spec.mounts[n - 3].destination, "/data");
  EXPECT_EQ(spec.mounts[n - 2].destination, "/data/deep");
  EXPECT_EQ(spec.mounts[n - 1].destination, "/data/deep/er");
}

struct Refusal {
  const char* name;
  std::function<void(RunOverrides&, knast::ImageConfig&)> edit;
  ErrorCode code;
  const char* message;
};

const std::vector<Refusal> refusals = {
    {"memory below 6 MiB", [](RunOverrides& o, auto&) { o.memory = "4m"; }, ErrorCode::invalid_argument,
     "minimum memory"},
    {"bad memory", [](RunOverrides& o, auto&) { o.memory = "lots"; }, ErrorCode::invalid_argument, "memory: size \"lots\""},
    {"cpus below 0.01", [](RunOverrides& o, auto&) { o.cpus = "0.001"; }, ErrorCode::invalid_argument,
     "smallest is 0.01"},
    {"duplicate mount point",
     [](RunOverrides& o, auto&) {
       o.volumes = {"/a:/x", "/b:/x/"};
     },
     ErrorCode::invalid_argument, "duplicate mount point \"/x\""},
    {"bad volume", [](RunOverrides& o, auto&) { o.volumes = {"/a"}; }, ErrorCode::invalid_argument, "volume \"/a\""},
    {"freebsd image on linux", [](auto&, knast::ImageConfig& i) { i.os = "freebsd"; }, ErrorCode::unsupported,
     "a \"freebsd\" image cannot run on a linux host"},
    {"unknown host", [](RunOverrides& o, auto&) { o.host_os = "plan9"; }, ErrorCode::unsupported, "linux and freebsd"},
    {"osrelease on linux", [](RunOverrides& o, auto&) { o.linux_osrelease = "5.15.0"; }, ErrorCode::invalid_argument,
     "linux.osrelease applies only"},
    {"no command", [](auto&, knast::ImageConfig& i) { i.config.cmd.reset(); }, ErrorCode::invalid_argument,
     "run \"test:1\": no command specified"},
    {"unknown user", [](RunOverrides& o, auto&) { o.user = "mallory"; }, ErrorCode::not_found, "image \"test:1\""},
    {"relative workdir", [](RunOverrides& o, auto&) { o.workdir = "x"; }, ErrorCode::invalid_argument, "absolute"},
    {"soft above hard",
     [](RunOverrides& o, auto&) {
       o.rlimits = {{"RLIMIT_NOFILE", 1, 2}};
     },
     ErrorCode::invalid_argument, "soft limit 2"},
    {"NUL in env", [](RunOverrides& o, auto&) { o.env = {std::string("A=\0", 3)}; }, ErrorCode::invalid_argument,
     "contains a NUL"},
    {"bad knast annotation",
     [](RunOverrides& o, auto&) {
       o.annotations = {{"org.knast.freebsd.linux", "1"}};
     },
     ErrorCode::invalid_argument, "org.knast.freebsd.linux"},
};

TEST(RunSpecMake, RefusesBadOverridesClearly) {
  Root root;
  for (const auto& r : refusals) {
    auto o = on("linux");
    auto i = image();
    r.edit(o, i);
    const auto e = error_from([&] { (void)knast::make_run_spec(i, root.path(), o); });
    EXPECT_EQ(e.kind(), r.code) << r.name;
    EXPECT_THAT(e.what(), testing::HasSubstr(r.message)) << r.name;
  }
  auto o = on("freebsd");
  o.cpu_shares = 512;
  EXPECT_EQ(error_from([&] { (void)knast::make_run_spec(image("freebsd"), root.path(), o); }).kind(),
            ErrorCode::unsupported);
}

// ---- the user database is read inside the root only ------------------------------------------

TEST(RunSpecMake, ReadsTheImagesOwnPasswdNotTheHosts) {
  Root root;
  auto o = on("linux");
  o.user = "bob";
  const auto spec = knast::make_run_spec(image(), root.path(), o);
  EXPECT_EQ(spec.process.user, (knast::RunUser{1000, 1000, {1000, 50}, std::nullopt, "bob"}));
  EXPECT_EQ(spec.process.env.back(), "HOME=/home/bob");
  o.user = "daemon";  // in the host's /etc/passwd, not in the image's
  EXPECT_EQ(error_from([&] { (void)knast::make_run_spec(image(), root.path(), o); }).kind(), ErrorCode::not_found);
}

TEST(RunSpecMake, ASymlinkedUserDatabaseIsRefusedNotFollowed) {
  for (const char* link : {"/etc/passwd", "../../../../../../etc/passwd"}) {
    TempDir root;
    fs::create_directories(root.path() / "etc");
    fs::create_symlink(link, root.path() / "etc/passwd");
    auto o = on("linux");
    o.user = "daemon";  // exists in the host's /etc/passwd: following the link would "work"
    const auto e = error_from([&] { (void)knast::make_run_spec(image(), root.path(), o); });
    EXPECT_EQ(e.kind(), ErrorCode::unsupported) << link;
    EXPECT_THAT(e.what(), testing::HasSubstr("is a symbolic link")) << link;
  }
}

// /etc as a link (distributions that merged it into /usr, or images built that way) is
// followed as the container would see it: inside the root, whatever the link says.
TEST(RunSpecMake, UserDatabasesBehindALinkedDirectoryResolveInsideTheRoot) {
  for (const char* link : {"usr/etc", "/usr/etc", "../../../../../../usr/etc"}) {
    TempDir root;
    fs::create_directories(root.path() / "usr/etc");
    spit(root.path() / "usr/etc/passwd", "root:x:0:0::/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n");
    spit(root.path() / "usr/etc/group", "bob:x:1000:\n");
    fs::create_directory_symlink(link, root.path() / "etc");
    auto o = on("linux");
    o.user = "bob";
    const auto spec = knast::make_run_spec(image(), root.path(), o);
    EXPECT_EQ(spec.process.user.uid, 1000u) << link;
    EXPECT_EQ(spec.process.user.username, std::optional<std::string>("bob")) << link;
    o.user = "daemon";  // in the host's /etc/passwd only
    EXPECT_EQ(error_from([&] { (void)knast::make_run_spec(image(), root.path(), o); }).kind(), ErrorCode::not_found)
        << link;
  }
  // A link to the host's /etc is the root's own etc: here a loop, refused, never the host's.
  TempDir root;
  fs::create_directory_symlink("/etc", root.path() / "etc");
  auto o = on("linux");
  o.user = "daemon";
  const auto e = error_from([&] { (void)knast::make_run_spec(image(), root.path(), o); });
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), testing::HasSubstr("open \"etc/passwd\" inside the image root: more than 40 symbolic links"));
}

TEST(RunSpecMake, MissingDatabaseMeansRootAndNumericIdsOnly) {
  TempDir root;
  auto o = on("linux");
  auto spec = knast::make_run_spec(image(), root.path(), o);
  EXPECT_EQ(spec.process.user, (knast::RunUser{0, 0, {0}, std::nullopt, std::nullopt}));
  EXPECT_EQ(spec.process.env.back(), "HOME=/");
  o.user = "123:456";
  spec = knast::make_run_spec(image(), root.path(), o);
  EXPECT_EQ(spec.process.user, (knast::RunUser{123, 456, {456}, std::nullopt, std::nullopt}));
  spit(root.path() / "etc", "a file where a directory should be");
  EXPECT_EQ(knast::make_run_spec(image(), root.path(), o).process.user.uid, 123u);
}

TEST(RunSpecMake, AFifoAsPasswdIsRefusedWithoutHanging) {
  TempDir root;
  fs::create_directories(root.path() / "etc");
  ASSERT_EQ(::mkfifo((root.path() / "etc/passwd").c_str(), 0644), 0);
  const auto e = error_from([&] { (void)knast::make_run_spec(image(), root.path(), on("linux")); });
  EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  EXPECT_THAT(e.what(), testing::HasSubstr("not a regular file"));
}

TEST(RunSpecMake, ConfinedOpenRefusesDotDot) {
  Root root;
  EXPECT_EQ(error_from([&] { (void)knast::detail::open_in_root(root.path(), "etc/../../x"); }).kind(),
            ErrorCode::invalid_argument);
  EXPECT_TRUE(knast::detail::open_in_root(root.path(), "/etc/./passwd"));
  EXPECT_FALSE(knast::detail::open_in_root(root.path(), "etc/missing"));
}

// ---- bundles ---------------------------------------------------------------------------------

TEST(RunSpecBundle, WritesAtomicallyAndReadsBack) {
  Root root;
  TempDir dir;
  const auto bundle = dir.path() / "bundle";
  const auto spec = knast::make_run_spec(image(), root.path(), on("linux"));
  knast::write_bundle(bundle, spec);
  EXPECT_EQ(knast::read_bundle(bundle), spec);
  auto changed = spec;
  changed.process.args = {"true"};
  knast::write_bundle(bundle, changed);  // replaces it
  EXPECT_EQ(knast::read_bundle(bundle), changed);
  Strings names;
  for (const auto& entry : fs::directory_iterator(bundle)) names.push_back(entry.path().filename().string());
  EXPECT_EQ(names, Strings{"config.json"});  // no temporary file left behind
}

TEST(RunSpecBundle, ReadErrorsNameTheBundle) {
  TempDir dir;
  auto e = error_from([&] { (void)knast::read_bundle(dir.path()); });
  EXPECT_EQ(e.kind(), ErrorCode::not_found);
  EXPECT_THAT(e.what(), testing::HasSubstr("has no config.json"));
  spit(dir.path() / "config.json", "{\"ociVersion\": \"1.0.2\"}");
  e = error_from([&] { (void)knast::read_bundle(dir.path()); });
  EXPECT_THAT(e.what(), testing::HasSubstr("read bundle"));
  EXPECT_THAT(e.what(), testing::HasSubstr("process: required field is missing"));
  EXPECT_EQ(error_from([&] { knast::write_bundle(dir.path() / "no/such/parent", RunSpec{}); }).kind(),
            ErrorCode::not_found);
}

}  // namespace
