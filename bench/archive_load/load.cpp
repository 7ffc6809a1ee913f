// Loads a docker archive into a fresh store and prints the seconds it took.
#include <knast/image_store.hpp>

#include <chrono>
#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s STORE ARCHIVE\n", argv[0]);
    return 2;
  }
  try {
    auto store = knast::ImageStore::open(argv[1]);
    const auto start = std::chrono::steady_clock::now();
    store.load(argv[2]);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    std::printf("%.4f\n", took.count());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
