// Times Rootfs::create() of container roots from an unpacked chain, in process (no CLI
// start-up in the number). Usage: create STATE TARBALL DRIVER RUNS
// Imports TARBALL as a one-layer image, unpacks it, makes a first container root, then
// times RUNS more creates (each removed again, untimed) and prints "median max" in ms.
#include <knast/image_store.hpp>
#include <knast/layout.hpp>
#include <knast/rootfs.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: create STATE TARBALL DRIVER RUNS\n");
    return 2;
  }
  const knast::StateLayout layout(argv[1]);
  knast::ImageStore store = knast::ImageStore::open(layout.store());
  const auto image = store.import_rootfs(argv[2], knast::Reference::parse("bench/create:1"));
  knast::RootfsOptions options;
  options.driver = knast::parse_snapshot_driver(argv[3]);
  knast::Rootfs rootfs = knast::Rootfs::open(layout, options);
  const auto chain = rootfs.unpack(store, image).chain;
  rootfs.create(chain.chain_id, "first");
  std::vector<double> ms;
  for (int i = 0; i < std::stoi(argv[4]); ++i) {
    const std::string id = "c" + std::to_string(i);
    const auto start = std::chrono::steady_clock::now();
    rootfs.create(chain.chain_id, id);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    rootfs.remove(id);
  }
  rootfs.remove("first");
  std::sort(ms.begin(), ms.end());
  std::printf("%.2f %.2f\n", ms[ms.size() / 2], ms.back());
  return 0;
}
