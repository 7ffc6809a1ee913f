// The knast side of bench/brand, timed in-process:
//   brandtree unpack TAR DIR INDEX
//                              knast::apply_layer of TAR onto DIR, keeping the ELF index
//                              INDEX (as Rootfs::unpack does for each chain); prints seconds
//   brandtree brand DIR MODE [INDEX]
//                              knast::brand_tree (auto, all or none), with the ELF index
//                              INDEX if given; prints seconds and counts
//   brandtree statwalk DIR     the floor: the same parallel walk, fstatat on every file and
//                              nothing else; prints seconds and the number of files
#include "linuxulator/tree_walk.hpp"

#include <knast/linuxulator.hpp>
#include <knast/rootfs.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int unpack(const char* tar, const char* dir, const char* index) {
  knast::ApplyOptions options;
  options.elf_index = index;
  const auto start = std::chrono::steady_clock::now();
  const knast::ApplyReport r = knast::apply_layer(dir, tar, options);
  std::printf("%.4f entries=%llu\n", seconds_since(start), static_cast<unsigned long long>(r.entries));
  return 0;
}

int brand(const char* dir, const char* mode, const char* index) {
  knast::BrandOptions options;
  options.mode = knast::parse_brand_mode(mode);
  options.kernel = knast::KernelFacts{-1, -1};
  if (index != nullptr) options.elf_index = index;
  const auto start = std::chrono::steady_clock::now();
  const knast::BrandReport r = knast::brand_tree(dir, options);
  const double s = seconds_since(start);
  std::printf("%.4f scanned=%llu elf=%llu branded=%llu skipped=%llu known_not_elf=%llu\n", s,
              static_cast<unsigned long long>(r.scanned), static_cast<unsigned long long>(r.elf),
              static_cast<unsigned long long>(r.branded), static_cast<unsigned long long>(r.skipped),
              static_cast<unsigned long long>(r.known_not_elf));
  return 0;
}

int statwalk(const char* dir) {
  const auto start = std::chrono::steady_clock::now();
  const int root = ::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return 1;
  std::atomic<unsigned long long> files{0};
  knast::detail::walk_tree(
      root, std::clamp(std::thread::hardware_concurrency(), 2u, 8u),  // brand_tree's default
      [&](int dirfd, const std::string&, const std::vector<knast::detail::WalkFile>& names) {
        for (const auto& file : names) {
          struct stat st{};
          if (::fstatat(dirfd, file.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) ++files;
        }
      },
      [](const std::string&, const std::string&) {});
  ::close(root);
  std::printf("%.4f files=%llu\n", seconds_since(start), files.load());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "unpack" && argc == 5) return unpack(argv[2], argv[3], argv[4]);
  if (command == "brand" && (argc == 4 || argc == 5)) return brand(argv[2], argv[3], argc == 5 ? argv[4] : nullptr);
  if (command == "statwalk" && argc == 3) return statwalk(argv[2]);
  std::fprintf(stderr, "usage: brandtree unpack TAR DIR INDEX | brandtree brand DIR auto|all|none [INDEX] | "
                       "brandtree statwalk DIR\n");
  return 2;
}
