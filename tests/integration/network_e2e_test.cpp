// Networks for real: containers (class Jail, the supervisor, the Linux executors) on a
// bridge network, reaching each other by name, the "world" through NAT, and published
// ports; none; teardown leaving no interface or rule; concurrent address allocation;
// a failed wiring leaving nothing behind.
//
// Nothing here touches this machine's own network: each test moves the test process into
// a new network namespace that plays "the host" (and returns at the end, so the namespace
// and everything in it vanish with the last process in it). A second namespace, "the
// world", hangs off it through a veth pair (10.200.0.1 host side, 10.200.0.2 world side)
// and serves a page with busybox httpd. Traffic goes only to addresses in these namespaces.
#include "busybox_root.hpp"
#include "core/unique_fd.hpp"
#include "image_store_test_support.hpp"

#include <knast/error.hpp>
#include <knast/jail.hpp>
#include <knast/network.hpp>
#include <knast/run_spec.hpp>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // see jail_lifecycle_test.cpp
#endif

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using knast::ErrorCode;
using knast::Jail;
using knast::JailOptions;
using knast::Network;
using knast::NetworkCreateOptions;
using knast::StdioMode;
using knast::detail::UniqueFd;
using store_test::TempDir;
using Strings = std::vector<std::string>;

// Runs a shell command line (in the test's current network namespace); its output.
std::string sh(const std::string& command) {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return "popen failed";
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, p)) > 0;) out.append(buffer, n);
  const int status = ::pclose(p);
  if (status != 0) out += "\n[exit status " + std::to_string(status) + "]";
  return out;
}

bool ok(const std::string& command) { return sh(command).find("[exit status") == std::string::npos; }

// Whether @p condition becomes true within 3 s.
template <typename Condition>
bool eventually(Condition condition) {
  for (int i = 0; i < 300; ++i, std::this_thread::sleep_for(std::chrono::milliseconds(10)))
    if (condition()) return true;
  return false;
}

// While alive, the calling process is in a new network namespace with lo up.
class HostNamespace {
 public:
  HostNamespace() : original_(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) {
    if (!original_ || ::unshare(CLONE_NEWNET) != 0) throw std::runtime_error("make the test's network namespace");
    sh("ip link set lo up");
  }
  ~HostNamespace() { (void)::setns(original_.get(), CLONE_NEWNET); }
  HostNamespace(const HostNamespace&) = delete;
  HostNamespace& operator=(const HostNamespace&) = delete;

 private:
  UniqueFd original_;
};

// "The world": a process in a namespace of its own serving @p www on port 80, linked to
// the host namespace by veth w0 (10.200.0.1) — w1 (10.200.0.2).
class World {
 public:
  explicit World(const fs::path& www) {
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    pid_ = ::fork();
    if (pid_ == 0) {
      if (::unshare(CLONE_NEWNET) != 0) ::_exit(120);
      (void)::write(ready[1], "x", 1);
      ::execl("/bin/busybox", "busybox", "httpd", "-f", "-p", "80", "-h", www.c_str(), nullptr);
      ::_exit(121);
    }
    ::close(ready[1]);
    char byte = 0;
    (void)::read(ready[0], &byte, 1);
    ::close(ready[0]);
    const std::string in = "nsenter -t " + std::to_string(pid_) + " -n ";
    setup_ = sh("ip link add w0 type veth peer name w1 && ip link set w1 netns " + std::to_string(pid_) +
                " && ip addr add 10.200.0.1/24 dev w0 && ip link set w0 up && " + in + "ip addr add 10.200.0.2/24 dev w1 && " +
                in + "ip link set w1 up && " + in + "ip link set lo up");
  }
  ~World() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  const std::string& setup_output() const { return setup_; }
  /// Runs @p command inside the world.
  std::string run(const std::string& command) const { return sh("nsenter -t " + std::to_string(pid_) + " -n " + command); }

 private:
  pid_t pid_ = -1;
  std::string setup_;
};

class NetworkEndToEnd : public testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "networks need root";
    if (const auto why = busybox_test::containers_unavailable(); !why.empty()) GTEST_SKIP() << why;
    if (!ok("command -v ip && command -v nft && command -v nsenter"))
      GTEST_SKIP() << "needs iproute2, nftables and util-linux (tools/setup installs them)";
    if (std::getenv("KNAST_SHIM") == nullptr) ::setenv("KNAST_SHIM", KNAST_SHIM_PATH, 1);
    busybox_test::make_busybox_root(dir_.path() / "rootfs");
    for (const char* applet : {"ping", "wget", "httpd"}) fs::create_symlink("busybox", dir_.path() / "rootfs/bin" / applet);
    fs::create_directories(dir_.path() / "rootfs/www");
    store_test::spit(dir_.path() / "rootfs/www/index.html", "hello from a container\n");
    fs::create_directories(dir_.path() / "world");
    store_test::spit(dir_.path() / "world/index.html", "hello from the world\n");
    host_ = std::make_unique<HostNamespace>();
  }

  void TearDown() override {
    if (!host_) return;
    for (const auto& state : Jail::list(state_root())) Jail::open(state_root(), state.id).remove(true);
    for (const auto& network : Network::list(state_root())) Network::open(state_root(), network.name).remove();
    host_.reset();
  }

  fs::path state_root() const { return dir_.path() / "state"; }

  Network make_network(const std::string& name = "testnet", const std::string& subnet = "10.123.0.0/24") {
    NetworkCreateOptions o;
    o.state_root = state_root();
    o.name = name;
    o.subnet = subnet;
    return Network::create(o);
  }

  fs::path bundle(const std::string& name, const Strings& args, bool own_stack = true) {
    knast::RunOverrides o;
    o.hostname = name;
    o.args = args;
    o.host_network = !own_stack;
    return busybox_test::write_bundle(dir_.path() / "bundles" / name, dir_.path() / "rootfs", o);
  }

  // A detached container named @p name running @p args on @p network, started.
  Jail start(const std::string& name, const Strings& args, const std::string& network,
             std::vector<knast::PortMapping> ports = {}) {
    JailOptions o;
    o.state_root = state_root();
    o.bundle = bundle(name, args);
    o.name = name;
    o.io.mode = StdioMode::log;
    o.network.network = network;
    o.network.ports = std::move(ports);
    o.network.dns = {"10.200.0.2"};
    Jail jail = Jail::create(o);
    jail.start();
    return jail;
  }

  // Runs @p args in @p jail; its exit code and output (stdout and stderr together).
  static std::pair<int, std::string> exec(Jail& jail, const Strings& args) {
    busybox_test::Pipe out;
    knast::RunProcess process = jail.spec().process;
    process.args = args;
    knast::ExecOptions options;
    options.io.mode = StdioMode::fds;
    options.io.fds[1] = out.write.get();
    options.io.fds[2] = out.write.get();
    const int code = jail.exec(process, options);
    out.write.reset();
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = ::read(out.read.get(), buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
    return {code, text};
  }

  // Retries @p args in @p jail for a while (a server just started may not listen yet).
  static std::pair<int, std::string> exec_until_ok(Jail& jail, const Strings& args) {
    std::pair<int, std::string> result;
    for (int i = 0; i < 50; ++i) {
      result = exec(jail, args);
      if (result.first == 0) break;
      std::this_thread::sleep_for(100ms);
    }
    return result;
  }

  static std::string until_ok(const std::string& command) {
    std::string out;
    for (int i = 0; i < 50; ++i) {
      out = sh(command);
      if (out.find("[exit status") == std::string::npos) break;
      std::this_thread::sleep_for(100ms);
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<HostNamespace> host_;
};

TEST_F(NetworkEndToEnd, ContainersReachEachOtherByNameAndTheWorldThroughNat) {
  const World world(dir_.path() / "world");
  ASSERT_EQ(world.setup_output().find("[exit status"), std::string::npos) << world.setup_output();
  make_network();
  Jail web = start("web", {"httpd", "-f", "-p", "80", "-h", "/www"}, "testnet");
  Jail client = start("client", {"sleep", "100"}, "testnet");

  auto [ping_code, ping_out] = exec(client, {"ping", "-c", "1", "-W", "2", "web"});
  EXPECT_EQ(ping_code, 0) << ping_out;
  std::tie(ping_code, ping_out) = exec(web, {"ping", "-c", "1", "-W", "2", "client"});
  EXPECT_EQ(ping_code, 0) << ping_out;
  const auto [get_code, page] = exec_until_ok(client, {"wget", "-q", "-O", "-", "http://web/"});
  EXPECT_EQ(get_code, 0) << page;
  EXPECT_EQ(page, "hello from a container\n");
  // The world has no route to 10.123.0.0/24: the answer comes back only through NAT.
  const auto [world_code, world_page] = exec_until_ok(client, {"wget", "-q", "-O", "-", "http://10.200.0.2/"});
  EXPECT_EQ(world_code, 0) << world_page;
  EXPECT_EQ(world_page, "hello from the world\n");

  const auto [hosts_code, hosts] = exec(client, {"cat", "/etc/hosts", "/etc/resolv.conf"});
  EXPECT_NE(hosts.find(" web"), std::string::npos) << hosts;
  EXPECT_NE(hosts.find("nameserver 10.200.0.2"), std::string::npos) << hosts;
}

TEST_F(NetworkEndToEnd, PublishedPortIsReachedFromTheHostAndTheWorld) {
  const World world(dir_.path() / "world");
  ASSERT_EQ(world.setup_output().find("[exit status"), std::string::npos) << world.setup_output();
  make_network();
  Jail web = start("web", {"httpd", "-f", "-p", "80", "-h", "/www"}, "testnet", knast::parse_port_mappings("8080:80"));
  const auto endpoint = knast::find_endpoint(state_root(), web.id());
  ASSERT_TRUE(endpoint);
  ASSERT_EQ(endpoint->ports.size(), 1u);
  EXPECT_EQ(knast::to_string(endpoint->ports[0]), "80/tcp -> 0.0.0.0:8080");

  // From the host itself, to one of its own addresses (the nat output hook), and to
  // 127.0.0.1 (route_localnet on the bridge, and the masquerade of loopback sources).
  EXPECT_EQ(until_ok("busybox wget -q -O - http://10.200.0.1:8080/"), "hello from a container\n");
  EXPECT_EQ(until_ok("busybox wget -q -O - http://127.0.0.1:8080/"), "hello from a container\n");
  // From another container of the network, through the host's address (hairpin NAT).
  Jail client = start("client", {"sleep", "100"}, "testnet");
  const auto [hairpin_code, hairpin] = exec_until_ok(client, {"wget", "-q", "-O", "-", "http://10.200.0.1:8080/"});
  EXPECT_EQ(hairpin, "hello from a container\n") << hairpin_code;
  // From the world, to the host's address on its side (the prerouting hook).
  std::string from_world;
  for (int i = 0; i < 50 && from_world != "hello from a container\n"; ++i, std::this_thread::sleep_for(100ms))
    from_world = world.run("busybox wget -q -O - http://10.200.0.1:8080/");
  EXPECT_EQ(from_world, "hello from a container\n");

  // A second container cannot publish the same host port.
  try {
    start("web2", {"sleep", "100"}, "testnet", knast::parse_port_mappings("8080:80"));
    ADD_FAILURE() << "a published port was handed out twice";
  } catch (const knast::Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::already_exists) << e.what();
  }
}

// docker's `-p 80`: the container port on any free host port, which the endpoint reports.
TEST_F(NetworkEndToEnd, AnyFreeHostPortIsChosenRecordedAndReached) {
  make_network();
  Jail web = start("web", {"httpd", "-f", "-p", "80", "-h", "/www"}, "testnet", knast::parse_port_mappings("80"));
  const auto endpoint = knast::find_endpoint(state_root(), web.id());
  ASSERT_TRUE(endpoint);
  ASSERT_EQ(endpoint->ports.size(), 1u);
  const std::uint16_t port = endpoint->ports[0].host_port;
  EXPECT_GE(port, knast::first_dynamic_port);
  EXPECT_EQ(until_ok("busybox wget -q -O - http://127.0.0.1:" + std::to_string(port) + "/"),
            "hello from a container\n");
  // A second one gets another port.
  Jail web2 = start("web2", {"sleep", "100"}, "testnet", knast::parse_port_mappings("80"));
  const auto second = knast::find_endpoint(state_root(), web2.id());
  ASSERT_TRUE(second);
  EXPECT_NE(second->ports.at(0).host_port, port);
}

TEST_F(NetworkEndToEnd, NoneHasOnlyLoopback) {
  JailOptions o;
  o.state_root = state_root();
  o.bundle = bundle("alone", {"cat", "/proc/net/dev"});
  busybox_test::Pipe out;
  o.io.mode = StdioMode::fds;
  o.io.fds[1] = out.write.get();
  Jail jail = Jail::create(o);
  out.write.reset();
  jail.start();
  EXPECT_EQ(*jail.wait(), 0);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = ::read(out.read.get(), buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
  EXPECT_NE(text.find("lo:"), std::string::npos) << text;
  // One "name:" per interface; the two header lines hold none.
  EXPECT_EQ(std::count(text.begin(), text.end(), ':'), 1) << "more than lo: " << text;
}

TEST_F(NetworkEndToEnd, RemovingContainersAndNetworksLeavesNoInterfaceOrRule) {
  const std::string links_before = sh("ip -o link show | cut -d: -f2 | sort");
  Network network = make_network();
  Jail a = start("a", {"sleep", "100"}, "testnet", knast::parse_port_mappings("8081:80"));
  Jail b = start("b", {"sleep", "100"}, "testnet");
  const std::string links = sh("ip -o link show");
  EXPECT_NE(links.find(network.config().bridge), std::string::npos) << links;
  EXPECT_NE(links.find("kv" + a.id().substr(0, 12)), std::string::npos) << links;
  EXPECT_NE(sh("nft list ruleset").find("knast_" + network.config().id.substr(0, 12)), std::string::npos);

  a.remove(true);
  // The kernel deletes the veth pair with the container's namespace, in its own time.
  EXPECT_TRUE(eventually([&] { return sh("ip -o link show").find("kv" + a.id().substr(0, 12)) == std::string::npos; }))
      << sh("ip -o link show");
  EXPECT_EQ(sh("nft list ruleset").find("8081"), std::string::npos) << "the port forward outlived its container";
  b.stop(1s);
  EXPECT_EQ(network.endpoints().size(), 0u) << "a stopped container still holds its address";
  b.remove();
  network.remove();
  EXPECT_TRUE(eventually([&] { return sh("ip -o link show | cut -d: -f2 | sort") == links_before; }))
      << sh("ip -o link show");
  EXPECT_EQ(sh("nft list ruleset"), "");
  EXPECT_FALSE(fs::exists(state_root() / "network/testnet"));
}

TEST_F(NetworkEndToEnd, ConcurrentContainersNeverShareAnAddress) {
  make_network("busy", "10.124.0.0/24");
  constexpr int processes = 8;
  std::vector<pid_t> children;
  for (int i = 0; i < processes; ++i) {
    const auto dir = bundle("c" + std::to_string(i), {"sleep", "100"});
    const pid_t pid = ::fork();
    if (pid == 0) {
      try {
        JailOptions o;
        o.state_root = state_root();
        o.bundle = dir;
        o.io.mode = StdioMode::null;
        o.network.network = "busy";
        Jail::create(o);
        ::_exit(0);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d: %s\n", i, e.what());
        ::_exit(1);
      }
    }
    children.push_back(pid);
  }
  for (const pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  std::set<std::string> addresses;
  for (const auto& endpoint : Network::open(state_root(), "busy").endpoints()) addresses.insert(endpoint.address);
  EXPECT_EQ(addresses.size(), static_cast<std::size_t>(processes));
  EXPECT_EQ(Jail::list(state_root()).size(), static_cast<std::size_t>(processes));
}

TEST_F(NetworkEndToEnd, FailedWiringLeavesNothingBehind) {
  make_network();
  // The host end's name taken beforehand: wiring fails after the endpoint was recorded.
  const std::string id = "feedfacecafe0000";
  ASSERT_TRUE(ok("ip link add kv" + id.substr(0, 12) + " type bridge")) << "make the obstacle";
  const std::string links_before = sh("ip -o link show | cut -d: -f2 | sort");
  JailOptions o;
  o.state_root = state_root();
  o.id = id;
  o.bundle = bundle("blocked", {"sleep", "100"});
  o.io.mode = StdioMode::null;
  o.network.network = "testnet";
  EXPECT_THROW(Jail::create(o), knast::Error);
  EXPECT_TRUE(Network::open(state_root(), "testnet").endpoints().empty()) << "the address was not released";
  EXPECT_TRUE(Jail::list(state_root()).empty());
  EXPECT_EQ(sh("ip -o link show | cut -d: -f2 | sort"), links_before) << "the obstacle is someone else's: kept";
  EXPECT_EQ(sh("nft list ruleset").find("dnat"), std::string::npos);
}

TEST_F(NetworkEndToEnd, BadRequestsAreRefusedBeforeAnythingIsMade) {
  make_network();
  JailOptions o;
  o.state_root = state_root();
  o.bundle = bundle("hostnet", {"true"}, /*own_stack=*/false);
  o.io.mode = StdioMode::null;
  o.network.network = "testnet";
  try {
    Jail::create(o);
    ADD_FAILURE() << "a host-network spec joined a bridge network";
  } catch (const knast::Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << e.what();
  }
  o.network.network = "no-such-network";
  o.bundle = bundle("missing", {"true"});
  try {
    Jail::create(o);
    ADD_FAILURE() << "joined a network that does not exist";
  } catch (const knast::Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::not_found) << e.what();
  }
  o.network.network.clear();
  o.network.ports = knast::parse_port_mappings("9000:90");
  EXPECT_THROW(Jail::create(o), knast::Error) << "ports without a network";
  EXPECT_TRUE(Jail::list(state_root()).empty());
  EXPECT_TRUE(Network::open(state_root(), "testnet").endpoints().empty());
}

}  // namespace
