// Driver for bench/store_verify/run: fills a store with a fixture, or verifies it.
//   verify_store fill STORE   blobs of pseudo-random bytes: 1 x 256 MiB, 4 x 64 MiB, 128 x 1 MiB
//   verify_store verify STORE rehashes every blob (ImageStore::verify)
#include <knast/image_store.hpp>

#include <cstdio>
#include <random>
#include <string>
#include <string_view>

namespace {

void put_random_blob(knast::ImageStore& store, std::size_t size, unsigned seed) {
  std::mt19937_64 random(seed);
  std::string chunk(1 << 20, '\0');
  auto writer = store.ingest();
  for (std::size_t done = 0; done < size; done += chunk.size()) {
    for (std::size_t i = 0; i + 8 <= chunk.size(); i += 8) {
      const auto word = random();
      chunk.replace(i, 8, reinterpret_cast<const char*>(&word), 8);
    }
    writer.write(chunk);
  }
  writer.commit();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: verify_store fill|verify STORE\n");
    return 2;
  }
  const std::string_view mode = argv[1];
  auto store = knast::ImageStore::open(argv[2]);
  if (mode == "fill") {
    unsigned seed = 1;
    put_random_blob(store, 256u << 20, seed++);
    for (int i = 0; i < 4; ++i) put_random_blob(store, 64u << 20, seed++);
    for (int i = 0; i < 128; ++i) put_random_blob(store, 1u << 20, seed++);
    return 0;
  }
  const auto report = store.verify();
  std::printf("%zu blobs, %llu bytes, %s\n", report.blobs_checked, static_cast<unsigned long long>(report.bytes_checked),
              report.ok() ? "ok" : "PROBLEMS");
  return report.ok() ? 0 : 1;
}
