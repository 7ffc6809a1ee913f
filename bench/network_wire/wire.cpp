// Times wiring and unwiring one container on a bridge network with knast's Linux network
// executor (connect_endpoint + disconnect_endpoint), in process. Usage: wire RUNS [MODE]
// Runs in a network namespace of its own (nothing of the machine's network is touched):
// makes the bridge and a process paused in another namespace of its own (the container),
// then times RUNS connect + disconnect pairs and prints "median p90 connect_median
// disconnect_median" in ms. MODE "live" (default): the container stays alive and
// disconnect deletes the veth pair (the kernel holds that call for an RCU grace period).
// MODE "lifecycle": as the supervisor does it — a new container per run, wired, then
// ended (not timed: that is the container's own end), then disconnected with stack_gone
// (the pair goes with the namespace, in the kernel's time).
#include "platform/network.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point start) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
}

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(p * static_cast<double>(values.size()) + 0.999999);
  return values[std::min(values.size(), std::max<std::size_t>(rank, 1)) - 1];
}

// A process paused in a network namespace of its own, as a container's first process.
pid_t start_container() {
  int ready[2];
  if (::pipe(ready) != 0) throw std::runtime_error("pipe");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[0]);
    if (::unshare(CLONE_NEWNET) != 0) ::_exit(1);
    ::close(ready[1]);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char byte;
  (void)::read(ready[0], &byte, 1);
  ::close(ready[0]);
  return pid;
}

void end_container(pid_t container) {
  ::kill(container, SIGKILL);
  ::waitpid(container, nullptr, 0);
}

}  // namespace

int main(int argc, char** argv) try {
  const std::string mode = argc > 2 ? argv[2] : "live";
  if (argc < 2 || argc > 3 || (mode != "live" && mode != "lifecycle")) {
    std::fprintf(stderr, "usage: wire RUNS [live|lifecycle]\n");
    return 2;
  }
  const bool lifecycle = mode == "lifecycle";
  if (::unshare(CLONE_NEWNET) != 0) {
    std::perror("unshare(CLONE_NEWNET)");
    return 1;
  }
  knast::NetworkConfig network;
  network.name = "bench";
  network.id = std::string(64, 'b');
  network.subnet = "10.89.0.0/24";
  network.gateway = "10.89.0.1";
  network.bridge = "kn-bbbbbbbbbbbb";
  knast::platform::ensure_bridge(network);
  knast::Endpoint endpoint;
  endpoint.container_id = "c0ffee001122334455";
  endpoint.network = network.name;
  endpoint.address = "10.89.0.2";
  endpoint.prefix_length = 24;
  endpoint.gateway = network.gateway;
  endpoint.host_interface = "kvc0ffee001122";
  pid_t container = start_container();
  std::vector<double> total, connect, disconnect;
  for (int i = 0; i < std::stoi(argv[1]); ++i) {
    // A dead container's pair lingers until the kernel gets to it: a name of its own each run.
    if (lifecycle) endpoint.host_interface = "kv" + std::to_string(100000 + i);
    const knast::platform::NetworkTarget target{.container_id = endpoint.container_id, .init_pid = container};
    const auto start = clock_type::now();
    knast::platform::connect_endpoint(network, endpoint, target);
    const double wired = ms_since(start);
    if (lifecycle) end_container(container);
    const auto unwire = clock_type::now();
    knast::platform::disconnect_endpoint(network, endpoint, /*stack_gone=*/lifecycle);
    disconnect.push_back(ms_since(unwire));
    connect.push_back(wired);
    total.push_back(wired + disconnect.back());
    if (lifecycle) container = start_container();
  }
  end_container(container);
  std::printf("%.2f %.2f %.2f %.2f\n", percentile(total, 0.5), percentile(total, 0.9), percentile(connect, 0.5),
              percentile(disconnect, 0.5));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "wire: %s\n", e.what());
  return 1;
}
