// The FreeBSD jail plan (what --dry-run prints and the FreeBSD executor carries out):
// golden files for a FreeBSD image, a Linux amd64 image with volumes, limits and
// addresses, and host networking with a tmpfs; each network mode; and the inputs it refuses. The
// RunSpecs come from make_run_spec() with tests/testdata/oci/busybox-config.json and the
// root tests/testdata/run_spec/rootfs. Regenerate the golden files after an intended
// change with KNAST_UPDATE_GOLDEN=1 knast_unit_tests --gtest_filter='JailPlan*', then
// review and commit the diff.
#include "golden.hpp"
#include "jail/jail_plan.hpp"
#include "oci_test_support.hpp"

#include <knast/error.hpp>
#include <knast/jail.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace knast {
namespace {

const std::string testdata_dir = std::string(KNAST_TESTDATA_DIR);
const std::string root_path = "/var/db/knast/rootfs/4f1c2a9b7e3d";
const std::string container_id = "4f1c2a9b7e3d5f60a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718";

void expect_golden(const std::string& name, const std::string& actual) {
  const std::string path = testdata_dir + "/jail/" + name;
  golden_test::expect_golden_file(path, actual);
}

ImageConfig busybox(std::string os = "linux") {
  ImageConfig image = ImageConfig::parse(oci_test::testdata("busybox-config.json"));
  image.os = std::move(os);
  return image;
}

RunOverrides on_freebsd() {
  RunOverrides o;
  o.host_os = "freebsd";
  o.container_id = container_id;
  o.image_ref = "busybox:latest";
  return o;
}

RunSpec spec_of(const ImageConfig& image, const RunOverrides& o) {
  return make_run_spec(image, testdata_dir + "/run_spec/rootfs", o);
}

JailPlan plan_of(const RunSpec& spec, std::string id = container_id) {
  JailPlanOptions options;
  options.container_id = std::move(id);
  options.root_path = root_path;
  return plan_freebsd_jail(spec, options);
}

// A FreeBSD image with docker's defaults: no network but a loopback (vnet).
RunSpec native_spec() { return spec_of(busybox("freebsd"), on_freebsd()); }

// A Linux amd64 image with volumes (ro and rw), a tmpfs, memory/pids/cpus limits and an
// IPv4 address of the host's stack (shared networking).
RunSpec linux_spec() {
  RunOverrides o = on_freebsd();
  o.args = std::vector<std::string>{"httpd", "-f", "-p", "8080"};
  o.user = "www";
  o.workdir = "/var/www";
  o.hostname = "web1";
  o.volumes = {"/usr/local/www/site:/var/www:ro", "/var/log/web1:/var/log/httpd"};
  o.tmpfs = {"/run:size=64m,mode=1777"};
  o.memory = "512m";
  o.pids_limit = 100;
  o.cpus = "1.5";
  o.annotations = {{std::string(annotation::ip4_addresses), "192.0.2.10,192.0.2.11"}};
  return spec_of(busybox("linux"), o);
}

const JailParamValue* param(const JailPlan& plan, const std::string& name) {
  for (const auto& [n, v] : plan.params)
    if (n == name) return &v;
  return nullptr;
}

bool has_param(const JailPlan& plan, const std::string& name) { return param(plan, name) != nullptr; }

std::int64_t int_param(const JailPlan& plan, const std::string& name) {
  const JailParamValue* v = param(plan, name);
  if (v == nullptr || !std::holds_alternative<std::int64_t>(*v)) {
    ADD_FAILURE() << "no integer parameter " << name;
    return -1;
  }
  return std::get<std::int64_t>(*v);
}

std::vector<std::string> actions(const JailPlan& plan) {
  std::vector<std::string> out;
  for (const auto& s : plan.steps)
    if (out.empty() || out.back() != s.action) out.push_back(s.action);
  return out;
}

// ---- golden files -------------------------------------------------------------------

TEST(JailPlanGolden, FreeBsdImageJson) { expect_golden("freebsd-native.json", to_json(plan_of(native_spec()))); }
TEST(JailPlanGolden, FreeBsdImageText) { expect_golden("freebsd-native.txt", to_text(plan_of(native_spec()))); }
TEST(JailPlanGolden, LinuxImageJson) { expect_golden("linux-amd64-volumes-limits.json", to_json(plan_of(linux_spec()))); }
TEST(JailPlanGolden, LinuxImageText) { expect_golden("linux-amd64-volumes-limits.txt", to_text(plan_of(linux_spec()))); }
TEST(JailPlanGolden, LinuxImageJailConf) {
  expect_golden("linux-amd64-volumes-limits.conf", to_jail_conf(plan_of(linux_spec())));
}
TEST(JailPlanGolden, HostNetworkJson) {
  RunOverrides o = on_freebsd();
  o.host_network = true;
  o.tmpfs = {"/tmp:size=16m"};
  expect_golden("freebsd-host-network.json", to_json(plan_of(spec_of(busybox("freebsd"), o))));
}

// ---- what the plan holds ------------------------------------------------------------

TEST(JailPlan, NameIsKnastAndTwelveCharactersOfTheId) {
  EXPECT_EQ(jail_name(container_id), "knast-4f1c2a9b7e3d");
  EXPECT_EQ(jail_name("web_1-a"), "knast-web_1-a");
  for (const char* bad : {"", "a.b", "web 1", "x/y", "é"}) {
    try {
      (void)jail_name(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << bad;
    }
  }
  EXPECT_EQ(jail_name("abcdefabcdef.x"), "knast-abcdefabcdef") << "only the first 12 characters name the jail";
}

TEST(JailPlan, NativeImageParameters) {
  const JailPlan plan = plan_of(native_spec());
  EXPECT_EQ(plan.name, "knast-4f1c2a9b7e3d");
  EXPECT_EQ(plan.path, root_path);
  ASSERT_GE(plan.params.size(), 3u);
  EXPECT_EQ(plan.params[0], (std::pair<std::string, JailParamValue>{"persist", true}));
  EXPECT_EQ(plan.params[1], (std::pair<std::string, JailParamValue>{"name", std::string("knast-4f1c2a9b7e3d")}));
  EXPECT_EQ(plan.params[2], (std::pair<std::string, JailParamValue>{"path", root_path}));
  EXPECT_EQ(std::get<std::string>(*param(plan, "host.hostname")), "4f1c2a9b7e3d");
  EXPECT_EQ(int_param(plan, "enforce_statfs"), 2);
  EXPECT_EQ(int_param(plan, "devfs_ruleset"), 4);
  EXPECT_EQ(int_param(plan, "children.max"), 0);
  EXPECT_EQ(int_param(plan, "sysvshm"), 1);
  EXPECT_FALSE(has_param(plan, "linux"));
  EXPECT_FALSE(plan.devfs_ruleset) << "ruleset 4 exists on every host; knast checks it, does not define it";
  ASSERT_EQ(plan.mounts.size(), 1u);
  EXPECT_EQ(plan.mounts[0], (MountStep{"devfs", "devfs", "/dev", {{"ruleset", "4"}}, MountFlags::nosuid}));
  EXPECT_TRUE(plan.kernel_modules.empty());
  EXPECT_TRUE(plan.rctl_rules.empty());
  EXPECT_EQ(plan.process, native_spec().process);
}

TEST(JailPlan, LinuxImageGetsTheLinuxulator) {
  const JailPlan plan = plan_of(linux_spec());
  EXPECT_EQ(int_param(plan, "linux"), 1);
  EXPECT_EQ(std::get<std::string>(*param(plan, "linux.osrelease")), "5.15.0");
  EXPECT_EQ(std::get<std::string>(*param(plan, "linux.osname")), "Linux");
  EXPECT_EQ(int_param(plan, "devfs_ruleset"), 40);
  ASSERT_TRUE(plan.devfs_ruleset);
  EXPECT_EQ(plan.devfs_ruleset->number, 40u);
  std::vector<std::string> targets;
  for (const auto& m : plan.mounts) targets.push_back(m.fstype + " " + m.target);
  EXPECT_EQ(targets, (std::vector<std::string>{"devfs /dev", "fdescfs /dev/fd", "linprocfs /proc", "linsysfs /sys",
                                               "tmpfs /dev/shm", "tmpfs /run", "nullfs /var/www",
                                               "nullfs /var/log/httpd"}));
  EXPECT_EQ(plan.mounts[6], (MountStep{"nullfs", "/usr/local/www/site", "/var/www", {}, MountFlags::read_only}));
  EXPECT_EQ(plan.mounts[7].flags, MountFlags::none) << "rw volume";
  EXPECT_EQ(plan.mounts[5].options, (std::vector<std::pair<std::string, std::string>>{{"size", "67108864"}, {"mode", "1777"}}));
  EXPECT_EQ(plan.kernel_modules.front().file, "linux64");
  EXPECT_EQ(plan.kernel_modules.back().file, "nullfs");
  EXPECT_EQ(plan.files.front().path, "/etc/hostname");
  EXPECT_EQ(plan.files.front().content, "web1\n");
  EXPECT_EQ(plan.rctl_rules, (std::vector<std::string>{"jail:knast-4f1c2a9b7e3d:memoryuse:deny=536870912",
                                                       "jail:knast-4f1c2a9b7e3d:maxproc:deny=100",
                                                       "jail:knast-4f1c2a9b7e3d:pcpu:deny=150"}));
  EXPECT_EQ(plan.process.user.uid, 33u);
}

TEST(JailPlan, StepsSetUpThenTearDownInReverse) {
  const JailPlan plan = plan_of(linux_spec());
  EXPECT_EQ(actions(plan), (std::vector<std::string>{"kldload", "racct-check", "devfs-ruleset", "mkdir", "write-file",
                                                     "mount", "jail_set", "rctl", "attach-exec", "jail_remove",
                                                     "rctl-remove", "unmount"}));
  std::vector<std::string> mounted, unmounted;
  for (const auto& s : plan.steps) {
    if (s.action == "mount") mounted.push_back(s.detail.substr(s.detail.rfind(' ') + 1));
    if (s.action == "unmount") unmounted.push_back(s.detail.substr(s.detail.rfind(' ') + 1));
  }
  std::reverse(unmounted.begin(), unmounted.end());
  EXPECT_EQ(mounted, unmounted);
  const auto mkdirs = std::count_if(plan.steps.begin(), plan.steps.end(), [](const JailPlanStep& s) { return s.action == "mkdir"; });
  EXPECT_EQ(mkdirs, 6) << "/dev, /proc, /sys, /run, /var/www, /var/log/httpd; not /dev/fd or /dev/shm inside devfs";
}

TEST(JailPlan, ReadOnlyRootIsRefusedForNow) {
  RunOverrides o = on_freebsd();
  o.read_only = true;
  try {
    (void)plan_of(spec_of(busybox("freebsd"), o));
    ADD_FAILURE() << "read-only root not refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("read-only root"), std::string::npos) << e.what();
  }
}

// ---- network modes --------------------------------------------------------------------

TEST(JailPlanNetwork, HostSharesTheHostsStack) {
  RunOverrides o = on_freebsd();
  o.host_network = true;
  const JailPlan plan = plan_of(spec_of(busybox("freebsd"), o));
  EXPECT_EQ(int_param(plan, "ip4"), 2);
  EXPECT_EQ(int_param(plan, "ip6"), 2);
  EXPECT_FALSE(has_param(plan, "vnet"));
  EXPECT_EQ(std::count_if(plan.steps.begin(), plan.steps.end(), [](const JailPlanStep& s) { return s.action == "loopback"; }), 0);
}

TEST(JailPlanNetwork, NoneIsAVnetWithOnlyALoopback) {
  const JailPlan plan = plan_of(native_spec());
  EXPECT_EQ(int_param(plan, "vnet"), 1);
  EXPECT_FALSE(has_param(plan, "ip4"));
  EXPECT_FALSE(has_param(plan, "ip6"));
  EXPECT_EQ(std::count_if(plan.steps.begin(), plan.steps.end(), [](const JailPlanStep& s) { return s.action == "loopback"; }), 1);
}

TEST(JailPlanNetwork, SharedGetsItsAddressesOfTheHostsStack) {
  const JailPlan plan = plan_of(linux_spec());
  EXPECT_EQ(int_param(plan, "ip4"), 1);
  EXPECT_EQ(std::get<std::string>(*param(plan, "ip4.addr")), "192.0.2.10,192.0.2.11");
  EXPECT_EQ(int_param(plan, "ip6"), 0) << "no IPv6 address: IPv6 disabled";
  EXPECT_FALSE(has_param(plan, "vnet"));
}

// A bridge network's jail is a vnet jail like "none"; the Network component moves an
// epair end into it after jail_set, so the jail plan is the same.
TEST(JailPlanNetwork, BridgeIsAVnetJailLikeNone) {
  RunSpec spec = native_spec();
  spec.freebsd_config->jail->vnet = SharingMode::new_;
  EXPECT_EQ(plan_of(spec).params, plan_of(native_spec()).params);
}

TEST(JailPlanNetwork, Ip6AddressesToo) {
  RunSpec spec = native_spec();
  spec.freebsd_config->jail->vnet.reset();
  spec.annotations[std::string(annotation::ip6_addresses)] = "2001:db8::10";
  const JailPlan plan = plan_of(spec);
  EXPECT_EQ(int_param(plan, "ip6"), 1);
  EXPECT_EQ(std::get<std::string>(*param(plan, "ip6.addr")), "2001:db8::10");
  EXPECT_EQ(int_param(plan, "ip4"), 0);
}

// ---- image platform -----------------------------------------------------------------

TEST(JailPlan, ImagePlatformFromTheAnnotationOrTheCaller) {
  RunSpec spec = linux_spec();
  EXPECT_EQ(spec.annotations.at(std::string(annotation::image_platform)), "linux/amd64");
  spec.annotations[std::string(annotation::image_platform)] = "linux/386";
  EXPECT_EQ(plan_of(spec).kernel_modules.front().file, "linux") << "the annotation picks the 32-bit ABI";
  JailPlanOptions options;
  options.container_id = container_id;
  options.root_path = root_path;
  options.image = Platform::parse("linux/arm64");
  EXPECT_EQ(plan_freebsd_jail(spec, options).kernel_modules.front().file, "linux64") << "the caller's platform wins";
  spec.annotations.erase(std::string(annotation::image_platform));
  EXPECT_EQ(plan_of(spec).kernel_modules.front().file, "linux64") << "without one: amd64";
}

TEST(JailPlan, RootFromTheSpecWhenNotGiven) {
  RunSpec spec = native_spec();
  spec.root.path = "/jails/c1/root/";
  JailPlanOptions options;
  options.container_id = "c1";
  EXPECT_EQ(plan_freebsd_jail(spec, options).path, "/jails/c1/root");
}

// ---- refused ----------------------------------------------------------------------------

struct BadCase {
  std::string what;
  void (*change)(RunSpec&);
  ErrorCode code;
  std::string message_part;
};

TEST(JailPlan, RefusesWhatAFreeBsdHostCannotDo) {
  const std::vector<BadCase> cases = {
      {"proc mount", [](RunSpec& s) { s.mounts.push_back({"/proc", "proc", "proc", {}}); }, ErrorCode::invalid_argument,
       "mount \"proc\" on \"/proc\": a Linux mount type"},
      {"bind mount", [](RunSpec& s) { s.mounts.push_back({"/data", "bind", "/srv", {"rbind"}}); }, ErrorCode::invalid_argument,
       "mount \"bind\" on \"/data\": a Linux mount type"},
      {"bind option", [](RunSpec& s) { s.mounts.push_back({"/data", "", "/srv", {"bind"}}); }, ErrorCode::invalid_argument,
       "a Linux mount type"},
      {"devpts", [](RunSpec& s) { s.mounts.push_back({"/dev/pts", "devpts", "devpts", {}}); }, ErrorCode::invalid_argument,
       "\"devpts\" on \"/dev/pts\""},
      {"unknown type", [](RunSpec& s) { s.mounts.push_back({"/x", "zfs", "tank/x", {}}); }, ErrorCode::invalid_argument,
       "knast mounts nullfs and tmpfs"},
      {"nullfs option", [](RunSpec& s) { s.mounts.push_back({"/x", "nullfs", "/srv", {"rshared"}}); },
       ErrorCode::invalid_argument, "option \"rshared\" has no FreeBSD equivalent"},
      {"relative source", [](RunSpec& s) { s.mounts.push_back({"/x", "nullfs", "srv", {}}); }, ErrorCode::invalid_argument,
       "must be an absolute host path"},
      {"dotdot target", [](RunSpec& s) { s.mounts.push_back({"/x/../../etc", "nullfs", "/srv", {}}); },
       ErrorCode::invalid_argument, "without empty, \".\" or \"..\" parts"},
      {"mount on /dev", [](RunSpec& s) { s.mounts.push_back({"/dev", "tmpfs", "tmpfs", {}}); }, ErrorCode::invalid_argument,
       "devfs with its ruleset"},
      {"twice", [](RunSpec& s) { s.mounts = {{"/x", "tmpfs", "tmpfs", {}}, {"/x", "nullfs", "/srv", {}}}; },
       ErrorCode::invalid_argument, "a second mount on the same destination"},
      {"parent", [](RunSpec& s) { s.freebsd_config->jail->parent = "outer"; }, ErrorCode::unsupported, "top-level jails only"},
      {"vnet and addresses", [](RunSpec& s) { s.annotations[std::string(annotation::ip4_addresses)] = "192.0.2.1"; },
       ErrorCode::invalid_argument, "vnet = new cannot be combined"},
      {"disabled with addresses",
       [](RunSpec& s) {
         s.freebsd_config->jail->vnet.reset();
         s.freebsd_config->jail->ip4 = SharingMode::inherit;
         s.annotations[std::string(annotation::ip4_addresses)] = "192.0.2.1";
       },
       ErrorCode::invalid_argument, "freebsd.jail.ip4 = inherit cannot have the addresses"},
      {"hostname with host inherit", [](RunSpec& s) { s.freebsd_config->jail->host = SharingMode::inherit; },
       ErrorCode::invalid_argument, "cannot set hostname"},
      {"enforce_statfs", [](RunSpec& s) { s.freebsd_config->jail->enforce_statfs = 3; }, ErrorCode::invalid_argument,
       "must be 0, 1 or 2"},
      {"emulation disagrees", [](RunSpec& s) { s.annotations[std::string(annotation::linux_emulation)] = "true"; },
       ErrorCode::invalid_argument, "says the opposite"},
      {"windows image", [](RunSpec& s) { s.annotations[std::string(annotation::image_platform)] = "windows/amd64"; },
       ErrorCode::unsupported, "\"windows/amd64\" image"},
      {"ppc64le linux image",
       [](RunSpec& s) {
         s.annotations[std::string(annotation::image_platform)] = "linux/ppc64le";
         s.annotations.erase(std::string(annotation::linux_emulation));
       },
       ErrorCode::unsupported, "the Linuxulator runs amd64, 386 and arm64"},
      {"bad rctl amount", [](RunSpec& s) { s.annotations[std::string(annotation::rctl)] = "memoryuse:deny=lots"; },
       ErrorCode::invalid_argument, "rctl rule \"memoryuse:deny=lots\""},
  };
  for (const auto& c : cases) {
    RunSpec spec = native_spec();
    c.change(spec);
    try {
      (void)plan_of(spec);
      ADD_FAILURE() << c.what << ": not refused";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), c.code) << c.what << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(c.message_part), std::string::npos) << c.what << ": " << e.what();
    }
  }
  for (const char* root : {"rootfs", "/", ""}) {
    JailPlanOptions options;
    options.container_id = container_id;
    RunSpec spec = native_spec();
    spec.root.path = root;
    try {
      (void)plan_freebsd_jail(spec, options);
      ADD_FAILURE() << "root " << root << ": not refused";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
      EXPECT_NE(std::string(e.what()).find("must be an absolute path other than /"), std::string::npos) << e.what();
    }
  }
  try {
    (void)plan_of(native_spec(), "bad.id");
    ADD_FAILURE() << "bad id not refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
  }
}

TEST(JailPlan, RctlSuffixesAreWrittenOut) {
  RunSpec spec = native_spec();
  spec.annotations[std::string(annotation::rctl)] = "memoryuse:deny=512m,openfiles:log=1k/process,pcpu:deny=50";
  EXPECT_EQ(plan_of(spec).rctl_rules,
            (std::vector<std::string>{"jail:knast-4f1c2a9b7e3d:memoryuse:deny=536870912",
                                      "jail:knast-4f1c2a9b7e3d:openfiles:log=1024/process",
                                      "jail:knast-4f1c2a9b7e3d:pcpu:deny=50"}));
}

// ---- jail_set(2) encoding ------------------------------------------------------------

std::vector<char> bytes(const void* data, std::size_t size) {
  const char* begin = static_cast<const char*>(data);
  return {begin, begin + size};
}

TEST(JailParamsEncoding, AsJailSetTakesThem) {
  const std::vector<std::pair<std::string, JailParamValue>> params = {
      {"persist", true},
      {"allow.raw_sockets", false},
      {"allow.mount.nullfs", false},
      {"name", std::string("knast-c1")},
      {"enforce_statfs", std::int64_t{2}},
      {"vnet", std::int64_t{1}},
      {"ip4.addr", std::string("192.0.2.10,192.0.2.11")},
      {"ip6.addr", std::string("2001:db8::10")},
  };
  const auto encoded = detail::encode_jail_params(params);
  ASSERT_EQ(encoded.size(), params.size());
  EXPECT_EQ(encoded[0].name, "persist");
  EXPECT_FALSE(encoded[0].value) << "a boolean is its name alone, value {NULL, 0}";
  EXPECT_EQ(encoded[1].name, "allow.noraw_sockets");
  EXPECT_FALSE(encoded[1].value);
  EXPECT_EQ(encoded[2].name, "allow.mount.nonullfs") << "\"no\" goes after the last dot";
  EXPECT_EQ(*encoded[3].value, std::vector<char>({'k', 'n', 'a', 's', 't', '-', 'c', '1', '\0'})) << "strings keep their NUL";
  const int two = 2;
  EXPECT_EQ(*encoded[4].value, bytes(&two, sizeof two)) << "integers are exactly sizeof(int)";
  const int one = 1;
  EXPECT_EQ(*encoded[5].value, bytes(&one, sizeof one));
  const unsigned char ip4[] = {192, 0, 2, 10, 192, 0, 2, 11};
  EXPECT_EQ(*encoded[6].value, bytes(ip4, sizeof ip4)) << "packed in_addr, network byte order";
  in6_addr ip6{};
  ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::10", &ip6), 1);
  EXPECT_EQ(*encoded[7].value, bytes(&ip6, sizeof ip6));
}

TEST(JailParamsEncoding, RefusesWhatTheKernelWouldNotTake) {
  for (const auto& params : std::vector<std::vector<std::pair<std::string, JailParamValue>>>{
           {{"children.max", std::int64_t{1} << 40}},
           {{"ip4.addr", std::string("192.0.2.1,")}},
           {{"ip6.addr", std::string("192.0.2.1")}},
       }) {
    try {
      (void)detail::encode_jail_params(params);
      ADD_FAILURE() << params.front().first << ": not refused";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << e.what();
    }
  }
}

TEST(JailParamsEncoding, EveryPlannedParameterEncodes) {
  for (const RunSpec& spec : {native_spec(), linux_spec()}) {
    const JailPlan plan = plan_of(spec);
    EXPECT_EQ(detail::encode_jail_params(plan.params).size(), plan.params.size());
  }
}

}  // namespace
}  // namespace knast
