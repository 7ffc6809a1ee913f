// Interop with Debian's crun: a bundle knast writes runs under `crun run` with the right
// output, exit code, environment, working directory, user and volumes; and knast reads
// the bundle `crun spec` makes. The root filesystem is Debian's static busybox with its
// applet links. crun runs in its own mount namespace with /sys/fs/cgroup/unified
// unmounted: on this hybrid cgroup host crun otherwise takes the empty v2 hierarchy for
// the real one and fails. Tests skip, saying why, when crun is missing or cannot run
// even a container of its own making here.
#include "busybox_root.hpp"
#include "image_store_test_support.hpp"

#include <knast/run_spec.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using store_test::slurp;
using store_test::spit;
using store_test::TempDir;
using Strings = std::vector<std::string>;
using busybox_test::make_busybox_root;

bool have(const char* tool) {
  return std::system(("command -v " + std::string(tool) + " >/dev/null 2>&1").c_str()) == 0;
}

struct CrunRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// `crun run` of @p bundle as container @p id; the container is deleted afterwards.
CrunRun crun_run(const fs::path& bundle, const std::string& id) {
  const auto err_file = bundle.parent_path() / (id + ".stderr");
  const std::string command = "unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun run -b " +
                              bundle.string() + " " + id + "' </dev/null 2>" + err_file.string();
  CrunRun result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) result.out.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.err = slurp(err_file);
  (void)std::system(("crun delete -f " + id + " >/dev/null 2>&1").c_str());
  return result;
}

knast::ImageConfig busybox_image() { return knast::ImageConfig::parse(oci_test::testdata("busybox-config.json")); }

std::string container_id(const char* what) { return "knast-runspec-" + std::to_string(::getpid()) + "-" + what; }

class RunSpecCrun : public testing::Test {
 protected:
  void SetUp() override {
    if (!have("crun") || !have("unshare")) GTEST_SKIP() << "crun or unshare is not installed (apt-get install crun)";
    if (::geteuid() != 0) GTEST_SKIP() << "crun run needs root here";
    make_busybox_root(rootfs());
    // A bundle of crun's own making must run, or the host cannot run containers at all.
    const auto probe = dir_.path() / "probe";
    fs::create_directories(probe);
    if (std::system(("cd " + probe.string() + " && crun spec >/dev/null 2>&1").c_str()) != 0)
      GTEST_SKIP() << "crun spec failed";
    auto doc = oci_test::Json::parse(slurp(probe / "config.json"));
    doc["process"]["terminal"] = false;
    doc["process"]["args"] = {"true"};
    doc["root"]["path"] = rootfs().string();
    spit(probe / "config.json", doc.dump());
    const auto result = crun_run(probe, container_id("probe"));
    if (result.exit_code != 0) GTEST_SKIP() << "crun cannot run its own bundle on this host: " << result.err;
  }

  fs::path rootfs() const { return dir_.path() / "rootfs"; }

  // make_run_spec + write_bundle + crun run.
  CrunRun run(knast::RunOverrides o, const char* name) {
    o.host_os = "linux";
    o.container_id = container_id(name);
    o.image_ref = "busybox (test)";
    const auto bundle = dir_.path() / name;
    knast::write_bundle(bundle, knast::make_run_spec(busybox_image(), rootfs(), o));
    return crun_run(bundle, o.container_id);
  }

  TempDir dir_;
};

TEST_F(RunSpecCrun, EchoHello) {
  knast::RunOverrides o;
  o.args = Strings{"echo", "hello"};
  const auto r = run(o, "hello");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello\n");
}

TEST_F(RunSpecCrun, ExitCodeThree) {
  knast::RunOverrides o;
  o.args = Strings{"sh", "-c", "echo before; exit 3"};
  const auto r = run(o, "exit3");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.out, "before\n");
}

TEST_F(RunSpecCrun, ImageCmdRunsWhenNoArgsAreGiven) {
  knast::RunOverrides o;
  o.entrypoint = Strings{"sh", "-c", "echo \"$0 from the entrypoint\""};  // drops the image's Cmd ["sh"]
  const auto r = run(o, "entrypoint");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "sh from the entrypoint\n");
}

TEST_F(RunSpecCrun, EnvironmentWorkdirAndUserAsPlanned) {
  knast::RunOverrides o;
  o.args = Strings{"sh", "-c", "echo \"$FOO $HOSTNAME $HOME $PATH\"; pwd; id -u; id -g; id -G"};
  o.env = {"FOO=bar"};
  o.user = "app";
  o.workdir = "/tmp";
  o.hostname = "box";
  const auto r = run(o, "identity");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "bar box /home/app " + std::string(knast::docker_default_path) + "\n/tmp\n1000\n1000\n1000 50\n");
}

TEST_F(RunSpecCrun, DockersCapabilitySetAndHostnameApply) {
  knast::RunOverrides o;
  o.args = Strings{"sh", "-c", "cat /proc/self/status; cat /proc/sys/kernel/hostname"};
  const auto r = run(o, "caps");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // docker's 14 default capabilities as the kernel's mask.
  EXPECT_THAT(r.out, testing::HasSubstr("CapBnd:\t00000000a80425fb\n"));
  EXPECT_THAT(r.out, testing::HasSubstr("CapEff:\t00000000a80425fb\n"));
  EXPECT_THAT(r.out, testing::EndsWith("\n" + container_id("caps").substr(0, 12) + "\n"));
}

TEST_F(RunSpecCrun, ReadOnlyAndReadWriteVolumesAndTmpfs) {
  TempDir host;
  fs::create_directories(host.path() / "ro");
  fs::create_directories(host.path() / "rw");
  spit(host.path() / "ro/file", "from the host\n");
  knast::RunOverrides o;
  o.args = Strings{"sh", "-c",
                   "cat /data/file; touch /data/new 2>/dev/null && echo ro-writable; touch /out/new && echo rw-ok; "
                   "touch /run/x && echo tmpfs-ok"};
  o.volumes = {(host.path() / "ro").string() + ":/data:ro", (host.path() / "rw").string() + ":/out"};
  o.tmpfs = {"/run:size=1m"};
  const auto r = run(o, "volumes");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "from the host\nrw-ok\ntmpfs-ok\n");
  EXPECT_FALSE(fs::exists(host.path() / "ro/new"));
  EXPECT_TRUE(fs::exists(host.path() / "rw/new"));
}

TEST_F(RunSpecCrun, KnastReadsCrunsOwnSpecAndWritesItBackRunnable) {
  const auto bundle = dir_.path() / "crunspec";
  fs::create_directories(bundle);
  ASSERT_EQ(std::system(("cd " + bundle.string() + " && crun spec >/dev/null 2>&1").c_str()), 0);
  std::vector<std::string> ignored;
  const auto spec = knast::RunSpec::parse(slurp(bundle / "config.json"), ignored);
  EXPECT_EQ(spec.process.args, Strings{"sh"});
  EXPECT_TRUE(spec.process.terminal);
  EXPECT_EQ(spec.root.path, "rootfs");
  EXPECT_TRUE(spec.root.readonly);
  ASSERT_TRUE(spec.linux_config);
  EXPECT_EQ(spec.linux_config->namespaces.size(), 5u);
  EXPECT_FALSE(spec.linux_config->masked_paths.empty());
  EXPECT_THAT(ignored, testing::Contains("linux.resources.devices"));
  EXPECT_EQ(knast::read_bundle(bundle), spec);

  // The same spec, rewritten by knast with a command and this root, still runs.
  auto mine = spec;
  mine.process.terminal = false;
  mine.process.args = {"sh", "-c", "echo hello; exit 3"};
  mine.root.path = rootfs().string();
  knast::write_bundle(bundle, mine);
  const auto r = crun_run(bundle, container_id("crunspec"));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.out, "hello\n");
}

}  // namespace
