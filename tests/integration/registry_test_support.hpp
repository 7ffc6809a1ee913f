// Helpers shared by the registry_*_test.cpp files: a store in a scratch directory, client
// options that fail fast, the errors a call throws, and current memory use.
#pragma once

#include "registry_fixture.hpp"

#include <knast/error.hpp>
#include <knast/image_store.hpp>
#include <knast/registry.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <string>

namespace registry_test {

namespace kt = knast::test;
using knast::Error;
using knast::ErrorCode;
using knast::Reference;

/// Options for tests: no docker config of the machine, short retry waits, a low-speed
/// timeout short enough that a hung server costs seconds.
inline knast::RegistryOptions fast_options() {
  knast::RegistryOptions options;
  options.use_docker_config = false;
  options.retry_delay = std::chrono::milliseconds(10);
  options.max_retry_delay = std::chrono::milliseconds(2000);
  options.connect_timeout = std::chrono::milliseconds(5000);
  options.low_speed_time = std::chrono::seconds(5);
  return options;
}

/// A fresh store in a scratch directory that goes with it.
struct ScratchStore {
  kt::TempDir dir{"knast-registry-test-"};
  knast::ImageStore store = knast::ImageStore::open(dir.path() / "store");
};

/// The Error @p f throws; a test failure (and ok) if it throws none.
template <typename F>
Error error_from(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no knast::Error thrown";
  return Error(ErrorCode::ok, "");
}

/// Every blob of @p image is in @p store and reads back with its digest (read_blob checks).
inline void expect_blobs_intact(const knast::ImageStore& store, const kt::TestImage& image) {
  for (const auto& [digest, size] : image.description.at("blobs").items()) {
    const auto d = knast::Digest::parse(digest);
    if (!store.has_blob(d)) continue;  // a manifest of a platform not pulled
    EXPECT_EQ(store.read_blob(d, size.get<std::size_t>()).size(), size.get<std::size_t>()) << digest;
  }
}

/// "host/repository:tag" parsed.
inline Reference ref(const std::string& host, const std::string& rest) { return Reference::parse(host + "/" + rest); }

/// The resident set size of this process now, in bytes (Linux /proc; tests only).
inline std::uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

/// The HTTP requests the fault server saw (since its last reset) at @p listener
/// ("registry" or "blobstore"; empty: both).
inline std::vector<kt::Json> fault_requests(const kt::FaultServer& server, const std::string& listener = "") {
  std::vector<kt::Json> out;
  const kt::Json stats = server.stats();  // held: a range-for over a temporary's member dangles
  for (const kt::Json& request : stats.at("requests"))
    if (!request.at("method").is_null() && (listener.empty() || request.at("listener") == listener))
      out.push_back(request);
  return out;
}

/// How many times the fault server got bytes that were no HTTP request (a TLS handshake).
inline std::size_t non_http_requests(const kt::FaultServer& server) {
  const kt::Json stats = server.stats();
  return static_cast<std::size_t>(std::count_if(stats.at("requests").begin(), stats.at("requests").end(),
                                                [](const kt::Json& request) { return request.at("method").is_null(); }));
}

}  // namespace registry_test
