// RunSpec JSON: round trips, strict errors naming the field, ignored properties, and the
// golden config.json files of three specs made by make_run_spec().
// KNAST_UPDATE_GOLDEN=1 rewrites tests/testdata/run_spec/*.json from the current output.
#include "oci_test_support.hpp"

#include <knast/run_spec.hpp>

#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

namespace {

using knast::ErrorCode;
using knast::RunSpec;
using oci_test::error_from;
using oci_test::Json;
using Strings = std::vector<std::string>;

std::string run_spec_testdata_dir() { return std::string(KNAST_TESTDATA_DIR) + "/run_spec"; }

// A spec with every field knast models set, in both platform sections.
RunSpec full_spec() {
  RunSpec s;
  s.oci_version = "1.3.0";
  s.process.terminal = true;
  s.process.user = knast::RunUser{1000, 50, {50, 10}, 022, "bob"};
  s.process.args = {"sh", "-c", "echo hi"};
  s.process.env = {"PATH=/bin", "A=b=c"};
  s.process.cwd = "/srv";
  s.process.capabilities = knast::Capabilities{{"CAP_KILL"}, {"CAP_KILL"}, {}, {"CAP_KILL"}, {"CAP_KILL"}};
  s.process.rlimits = {{"RLIMIT_NOFILE", 4096, 1024}, {"RLIMIT_CORE", std::numeric_limits<std::uint64_t>::max(), 0}};
  s.process.no_new_privileges = true;
  s.root = knast::RunRoot{"rootfs", true};
  s.hostname = "web";
  s.mounts = {{"/proc", "proc", "proc", {}}, {"/data", "bind", "/srv/data", {"rbind", "ro"}}, {"/empty", "", "", {}}};
  knast::LinuxConfig linux_part;
  linux_part.namespaces = {{"pid", std::nullopt}, {"network", "/var/run/netns/x"}};
  linux_part.resources = knast::LinuxResources{536870912, 100, 512, 150000, 100000};
  linux_part.masked_paths = {"/proc/kcore"};
  linux_part.readonly_paths = {"/proc/sys"};
  s.linux_config = linux_part;
  knast::FreeBsdJail jail;
  jail.parent = "outer";
  jail.host = knast::SharingMode::new_;
  jail.ip4 = knast::SharingMode::inherit;
  jail.ip6 = knast::SharingMode::disable;
  jail.vnet = knast::SharingMode::inherit;
  jail.sysvmsg = jail.sysvsem = jail.sysvshm = knast::SharingMode::new_;
  jail.enforce_statfs = 1;
  jail.allow = knast::JailAllow{true, false, true, {"tmpfs", "nullfs"}, false, true, true, false};
  s.freebsd_config = knast::FreeBsdConfig{{{"pf", 0700}, {"bpf", std::nullopt}}, jail};
  s.annotations = {{"org.example", "x"}, {std::string(knast::annotation::rctl), "memoryuse:deny=512m,pcpu:deny=50"}};
  return s;
}

TEST(RunSpecJson, RoundTripsEveryField) {
  const auto spec = full_spec();
  const auto text = knast::to_json(spec);
  EXPECT_EQ(RunSpec::parse(text), spec);
  EXPECT_EQ(knast::to_json(RunSpec::parse(text)), text);
  const auto doc = Json::parse(text);
  EXPECT_EQ(doc["process"]["rlimits"][1]["hard"].get<std::uint64_t>(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(doc["freebsd"]["devices"][0]["mode"], 448);  // decimal, as the spec's schema has it
  EXPECT_EQ(doc["freebsd"]["jail"]["host"], "new");
  EXPECT_EQ(doc["freebsd"]["jail"]["allow"]["setHostname"], true);
  EXPECT_FALSE(doc["mounts"][2].contains("type"));  // empty fields are left out
  EXPECT_EQ(text.back(), '\n');
}

// The smallest document knast accepts.
Json minimal() {
  return Json{{"ociVersion", "1.0.2"},
              {"process", {{"user", {{"uid", 0}, {"gid", 0}}}, {"args", {"sh"}}, {"cwd", "/"}}},
              {"root", {{"path", "rootfs"}}}};
}

TEST(RunSpecJson, ParsesTheMinimalDocumentWithDefaults) {
  const auto spec = RunSpec::parse(minimal().dump());
  EXPECT_EQ(spec.oci_version, "1.0.2");
  EXPECT_EQ(spec.process.args, Strings{"sh"});
  EXPECT_FALSE(spec.process.terminal);
  EXPECT_FALSE(spec.root.readonly);
  EXPECT_FALSE(spec.hostname.has_value());
  EXPECT_FALSE(spec.linux_config.has_value());
  EXPECT_FALSE(spec.freebsd_config.has_value());
}

struct BadCase {
  const char* name;
  std::function<void(Json&)> edit;
  const char* message;  // the whole message must contain this
  ErrorCode code = ErrorCode::invalid_argument;
};

const std::vector<BadCase> bad_cases = {
    {"missing ociVersion", [](Json& d) { d.erase("ociVersion"); },
     "runtime config: ociVersion: required field is missing"},
    {"ociVersion 2", [](Json& d) { d["ociVersion"] = "2.0.0"; }, "ociVersion: version \"2.0.0\" is not supported",
     ErrorCode::unsupported},
    {"ociVersion number", [](Json& d) { d["ociVersion"] = 1; }, "ociVersion: must be a non-empty string, got 1"},
    {"missing process", [](Json& d) { d.erase("process"); }, "process: required field is missing"},
    {"args empty", [](Json& d) { d["process"]["args"] = Json::array(); },
     "process.args: must hold at least the program"},
    {"args a string", [](Json& d) { d["process"]["args"] = "sh"; }, "process.args: must be an array, got \"sh\""},
    {"args with NUL", [](Json& d) { d["process"]["args"] = {std::string("a\0b", 3)}; },
     "process.args: entry 0 contains a NUL"},
    {"uid negative", [](Json& d) { d["process"]["user"]["uid"] = -1; },
     "process.user.uid: must be a non-negative integer, got -1"},
    {"uid too big", [](Json& d) { d["process"]["user"]["uid"] = 4294967296; }, "process.user.uid: must fit 32 bits"},
    {"gid a string", [](Json& d) { d["process"]["user"]["gid"] = "0"; },
     "process.user.gid: must be a non-negative integer"},
    {"missing user", [](Json& d) { d["process"].erase("user"); }, "process.user: required field is missing"},
    {"relative cwd", [](Json& d) { d["process"]["cwd"] = "srv"; },
     "process.cwd: must be an absolute path, got \"srv\""},
    {"terminal a string", [](Json& d) { d["process"]["terminal"] = "yes"; }, "process.terminal: must be a boolean"},
    {"soft above hard",
     [](Json& d) {
       d["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"hard", 1}, {"soft", 2}}};
     },
     "process.rlimits[0]: soft limit 2 is above the hard limit 1"},
    {"rlimit type",
     [](Json& d) {
       d["process"]["rlimits"] = {{{"type", "NOFILE"}, {"hard", 1}, {"soft", 1}}};
     },
     "process.rlimits[0].type: must name an RLIMIT_* resource"},
    {"rlimit fraction",
     [](Json& d) {
       d["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"hard", 1.5}, {"soft", 1}}};
     },
     "process.rlimits[0].hard: must be a non-negative integer, got 1.5"},
    {"missing root path", [](Json& d) { d["root"].erase("path"); }, "root.path: required field is missing"},
    {"relative mount destination",
     [](Json& d) {
       d["mounts"] = {{{"destination", "proc"}}};
     },
     "mounts[0].destination: must be an absolute path"},
    {"mount options a string",
     [](Json& d) {
       d["mounts"] = {{{"destination", "/p"}, {"options", "ro"}}};
     },
     "mounts[0].options: must be an array"},
    {"bad namespace",
     [](Json& d) {
       d["linux"] = {{"namespaces", {{{"type", "pids"}}}}};
     },
     "linux.namespaces[0].type: must be one of pid"},
    {"namespace twice",
     [](Json& d) {
       d["linux"] = {{"namespaces", {{{"type", "pid"}}, {{"type", "pid"}}}}};
     },
     "linux.namespaces: namespace pid is listed twice"},
    {"memory limit a string",
     [](Json& d) {
       d["linux"] = {{"resources", {{"memory", {{"limit", "512m"}}}}}};
     },
     "linux.resources.memory.limit: must be an integer, got \"512m\""},
    {"pids without limit",
     [](Json& d) {
       d["linux"] = {{"resources", {{"pids", Json::object()}}}};
     },
     "linux.resources.pids.limit: required field is missing"},
    {"jail host disable",
     [](Json& d) {
       d["freebsd"] = {{"jail", {{"host", "disable"}}}};
     },
     "freebsd.jail.host: must be \"new\" or \"inherit\", got \"disable\""},
    {"jail vnet unknown",
     [](Json& d) {
       d["freebsd"] = {{"jail", {{"vnet", "shared"}}}};
     },
     "freebsd.jail.vnet: must be"},
    {"jail ip4 bad",
     [](Json& d) {
       d["freebsd"] = {{"jail", {{"ip4", "on"}}}};
     },
     "freebsd.jail.ip4: must be \"new\", \"inherit\" or \"disable\""},
    {"enforceStatfs 3",
     [](Json& d) {
       d["freebsd"] = {{"jail", {{"enforceStatfs", 3}}}};
     },
     "freebsd.jail.enforceStatfs: must be 0, 1 or 2, got 3"},
    {"allow.mount a string",
     [](Json& d) {
       d["freebsd"] = {{"jail", {{"allow", {{"mount", "tmpfs"}}}}}};
     },
     "freebsd.jail.allow.mount: must be an array"},
    {"device mode as the old string form",
     [](Json& d) {
       d["freebsd"] = {{"devices", {{{"path", "pf"}, {"mode", "0700"}}}}};
     },
     "freebsd.devices[0].mode: must be a non-negative integer, got \"0700\""},
    {"device without path",
     [](Json& d) {
       d["freebsd"] = {{"devices", {{{"mode", 448}}}}};
     },
     "freebsd.devices[0].path: required field is missing"},
    {"annotation not a string",
     [](Json& d) {
       d["annotations"] = {{"a", 1}};
     },
     "annotations.a: must be a string, got 1"},
    {"bad rctl annotation",
     [](Json& d) {
       d["annotations"] = {{"org.knast.freebsd.rctl", "memoryuse=1"}};
     },
     "annotations: org.knast.freebsd.rctl = \"memoryuse=1\": expected comma-separated rctl rules"},
    {"bad ip4 annotation",
     [](Json& d) {
       d["annotations"] = {{"org.knast.freebsd.ip4.addr", "10.0.0.1,::1"}};
     },
     "org.knast.freebsd.ip4.addr = \"10.0.0.1,::1\": expected comma-separated IPv4"},
    {"bad linux annotation",
     [](Json& d) {
       d["annotations"] = {{"org.knast.freebsd.linux", "yes"}};
     },
     "org.knast.freebsd.linux = \"yes\": expected \"true\" or \"false\""},
    {"bad osrelease",
     [](Json& d) {
       d["annotations"] = {{"org.knast.freebsd.linux.osrelease", "5.x"}};
     },
     "org.knast.freebsd.linux.osrelease = \"5.x\": expected a kernel release"},
    {"bad image platform",
     [](Json& d) {
       d["annotations"] = {{"org.knast.image.platform", "linux"}};
     },
     "org.knast.image.platform = \"linux\": expected a platform os/architecture"},
};

TEST(RunSpecJson, RefusesBadDocumentsNamingTheField) {
  for (const auto& c : bad_cases) {
    Json doc = minimal();
    c.edit(doc);
    const auto e = error_from([&] { (void)RunSpec::parse(doc.dump()); });
    EXPECT_EQ(e.kind(), c.code) << c.name;
    EXPECT_THAT(e.what(), testing::HasSubstr(c.message)) << c.name;
  }
}

TEST(RunSpecJson, RefusesMalformedOversizedAndDeeplyNestedText) {
  EXPECT_THAT(error_from([] { (void)RunSpec::parse("{\"ociVersion\": "); }).what(),
              testing::StartsWith("runtime config: malformed JSON"));
  EXPECT_THAT(error_from([] { (void)RunSpec::parse("[]"); }).what(), testing::HasSubstr("must be a JSON object"));
  const std::string huge(knast::max_run_spec_bytes + 1, ' ');
  EXPECT_EQ(error_from([&] { (void)RunSpec::parse(huge); }).kind(), ErrorCode::limit_exceeded);
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  EXPECT_EQ(error_from([&] { (void)RunSpec::parse(deep); }).kind(), ErrorCode::limit_exceeded);
}

TEST(RunSpecJson, IgnoresUnknownPropertiesAndListsThem) {
  Json doc = minimal();
  doc["process"]["apparmorProfile"] = "x";
  doc["process"]["user"]["extra"] = 1;
  doc["linux"] = {{"seccomp", Json::object()}, {"resources", {{"devices", Json::array()}, {"memory", {{"swap", 1}}}}}};
  doc["vendorThing"] = true;
  std::vector<std::string> ignored;
  const auto spec = RunSpec::parse(doc.dump(), ignored);
  EXPECT_EQ(spec, RunSpec::parse(doc.dump()));
  EXPECT_THAT(ignored,
              testing::UnorderedElementsAre("process.apparmorProfile", "process.user.extra", "linux.seccomp",
                                            "linux.resources.devices", "linux.resources.memory.swap", "vendorThing"));
  std::vector<std::string> none;
  (void)RunSpec::parse(knast::to_json(full_spec()), none);
  EXPECT_TRUE(none.empty()) << testing::PrintToString(none);
}

TEST(RunSpecJson, RefusesToWriteInvalidUtf8) {
  auto spec = full_spec();
  spec.process.args = {"\xff"};
  EXPECT_EQ(error_from([&] { (void)knast::to_json(spec); }).kind(), ErrorCode::invalid_argument);
}

// ---- golden files ----------------------------------------------------------------------------

knast::ImageConfig busybox_image() { return knast::ImageConfig::parse(oci_test::testdata("busybox-config.json")); }

// make_run_spec() with the test rootfs (it has etc/passwd and etc/group); root.path is
// then made bundle-relative so the golden file does not depend on the checkout's path.
RunSpec golden_spec(const knast::RunOverrides& overrides) {
  auto spec = knast::make_run_spec(busybox_image(), run_spec_testdata_dir() + "/rootfs", overrides);
  spec.root.path = "rootfs";
  return spec;
}

void expect_golden(const RunSpec& spec, const std::string& name) {
  const auto path = run_spec_testdata_dir() + "/" + name;
  const auto text = knast::to_json(spec);
  if (std::getenv("KNAST_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << text;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "missing " << path << ": run with KNAST_UPDATE_GOLDEN=1 to create it";
  const std::string golden((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, golden) << name << " differs: run with KNAST_UPDATE_GOLDEN=1 and review the diff";
  EXPECT_EQ(RunSpec::parse(golden), spec) << name;
}

TEST(RunSpecGolden, BusyboxDefault) {
  knast::RunOverrides o;
  o.host_os = "linux";
  o.container_id = "4f1c2a9b7e3d5f60a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718";
  o.image_ref = "busybox:latest";
  expect_golden(golden_spec(o), "busybox-default.json");
}

TEST(RunSpecGolden, VolumesLimitsAndUser) {
  knast::RunOverrides o;
  o.host_os = "linux";
  o.container_id = "c0ffee";
  o.image_ref = "busybox:latest";
  o.args = Strings{"httpd", "-f", "-p", "8080"};
  o.env = {"MODE=prod", "PATH=/usr/bin:/bin"};
  o.user = "bob";
  o.workdir = "/srv/www";
  o.hostname = "web1";
  o.terminal = true;
  o.read_only = true;
  o.no_new_privileges = true;
  o.volumes = {"/srv/site:/srv/www:ro", "/var/log/web:/var/log"};
  o.tmpfs = {"/run:size=64m,mode=1777", "/dev/shm:size=128m"};
  o.memory = "512m";
  o.pids_limit = 100;
  o.cpus = "1.5";
  o.cpu_shares = 512;
  o.rlimits = {{"RLIMIT_NOFILE", 4096, 1024}};
  expect_golden(golden_spec(o), "busybox-volumes-limits-user.json");
}

TEST(RunSpecGolden, FreeBsdHostRunningALinuxImage) {
  knast::RunOverrides o;
  o.host_os = "freebsd";
  o.container_id = "5eed";
  o.image_ref = "busybox:latest";
  o.args = Strings{"sh", "-c", "uname -a"};
  o.user = "www:staff";
  o.volumes = {"/usr/local/www:/www:ro"};
  o.tmpfs = {"/tmp:size=16m"};
  o.memory = "1g";
  o.pids_limit = 64;
  o.cpus = "0.5";
  o.linux_osrelease = "5.15.0";
  o.annotations = {{std::string(knast::annotation::ip4_addresses), "192.0.2.10"}};
  const auto spec = golden_spec(o);
  EXPECT_FALSE(spec.linux_config.has_value());
  ASSERT_TRUE(spec.freebsd_config.has_value());
  expect_golden(spec, "freebsd-linux-image.json");
}

}  // namespace
