// ImageStore across processes: concurrent ingests and index updates, writers killed at
// random moments, and a full disk.
#include "image_store_test_support.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

#include <sys/resource.h>
#if defined(__linux__)
#include <sched.h>
#include <sys/mount.h>
#endif

#include <chrono>
#include <atomic>
#include <csignal>
#include <random>
#include <set>
#include <thread>

namespace {

using namespace store_test;
using knast::Digest;
using knast::Error;
using knast::ErrorCode;
using knast::Index;
using namespace std::chrono_literals;

// Exit codes of the children below, so a failure says what went wrong.
enum ChildStatus : int { ok = 0, no_error = 2, wrong_error = 3, left_files = 4, skipped = 77 };

std::string pattern_bytes(std::size_t size, unsigned seed) {
  std::string bytes(size, '\0');
  std::minstd_rand random(seed);
  for (auto& c : bytes) c = static_cast<char>(random() & 0xff);
  return bytes;
}

std::set<std::string> names_in(const fs::path& store) {
  std::set<std::string> names;
  for (const auto& entry : Index::parse(slurp(store / "index.json")).manifests)
    names.insert(entry.annotations.at(std::string(knast::ref_name_annotation)));
  return names;
}

TEST(ImageStoreConcurrency, TwoProcessesIngestingTheSameBlobBothSucceedWithOneCopy) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const std::string content = pattern_bytes(4 << 20, 1);
  const Digest digest = Digest::of(content);
  Barrier start;
  std::vector<pid_t> children;
  for (int i = 0; i < 2; ++i)
    children.push_back(fork_child([&] {
      start.wait();
      for (int round = 0; round < 4; ++round) {
        auto writer = store.ingest(digest, content.size());
        for (std::size_t at = 0; at < content.size(); at += 65536) writer.write(std::string_view(content).substr(at, 65536));
        if (writer.commit() != digest) return int{wrong_error};
      }
      return int{ok};
    }));
  start.release();
  for (const pid_t child : children) EXPECT_EQ(wait_child(child), ok);
  EXPECT_EQ(store.read_blob(digest, content.size()), content);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "blobs/sha256"), fs::directory_iterator()), 1);
  EXPECT_EQ(ingest_files(dir.path()), 0u);
}

TEST(ImageStoreConcurrency, ProcessesCreatingTheSameStoreAtOnceAllSucceed) {
  TempDir dir;
  Barrier start;
  std::vector<pid_t> children;
  for (int i = 0; i < 4; ++i)
    children.push_back(fork_child([&, i] {
      start.wait();
      auto store = ImageStore::open(dir.path());
      store.tag(reference(fmt::format("c:{}", i)), put_image(store, "same").manifest);
      return int{ok};
    }));
  start.release();
  for (const pid_t child : children) EXPECT_EQ(wait_child(child), ok);
  EXPECT_EQ(names_in(dir.path()).size(), 4u);  // no creator overwrote another's index.json
  EXPECT_TRUE(ImageStore::open(dir.path(), ImageStore::OpenMode::must_exist).verify().ok());
}

TEST(ImageStoreConcurrency, ThreadsIngestingTheSameBlobBothSucceed) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const std::string content = pattern_bytes(1 << 20, 2);
  std::vector<std::thread> threads;
  std::atomic<int> succeeded{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      if (store.put_blob(content, "application/octet-stream").digest == Digest::of(content)) ++succeeded;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(succeeded, 4);
  EXPECT_TRUE(store.verify().ok());
  EXPECT_EQ(ingest_files(dir.path()), 0u);
}

// A child tags and untags (writing new blobs as it goes) until it is killed at a random
// moment; after every kill index.json must parse and the store verify. In every other
// round the kill waits for the writer's first tag, so kills land amid index updates
// even on a machine whose fsync takes longer than the random delay: on a slow CI disk a
// purely random kill once never let a writer reach its first tag in 25 rounds.
TEST(ImageStoreConcurrency, AWriterKilledAtRandomMomentsNeverLeavesABrokenStore) {
  TempDir dir;
  ImageStore::open(dir.path());
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> delay_us(0, 60000);
  std::size_t most_names = 0;
  for (int round = 0; round < 25; ++round) {
    ProgressSignal tagged;
    const pid_t writer = fork_child([&] {
      auto store = ImageStore::open(dir.path(), ImageStore::OpenMode::must_exist);
      for (int i = 0;; ++i) {
        const auto image = put_image(store, fmt::format("r{}-{}", round, i));
        store.tag(reference(fmt::format("kill:{}-{}", round, i)), image.manifest);
        if (i == 0) tagged.notify();
        if (i % 2 == 1) store.untag(reference(fmt::format("kill:{}-{}", round, i - 1)));
      }
      return int{ok};
    });
    const bool after_first_tag = round % 2 == 1;
    if (after_first_tag) {
      EXPECT_TRUE(tagged.wait_for(30s)) << "round " << round << ": the writer never tagged";
    }
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(random)));
    ::kill(writer, SIGKILL);
    ASSERT_EQ(wait_child(writer), 128 + SIGKILL) << "the writer stopped by itself";
    ASSERT_NO_THROW(Index::parse(slurp(dir / "index.json"))) << "round " << round;
    const auto store = ImageStore::open(dir.path(), ImageStore::OpenMode::must_exist);
    const auto report = store.verify();
    ASSERT_TRUE(report.ok()) << "round " << round << ": " << report.problems.front().path << ": "
                             << report.problems.front().detail;
    most_names = std::max(most_names, names_in(dir.path()).size());
  }
  EXPECT_GT(most_names, 0u) << "no writer ever got as far as a tag: the test proved nothing";
  auto store = ImageStore::open(dir.path());
  store.collect_garbage();
  EXPECT_EQ(ingest_files(dir.path()), 0u);
  EXPECT_TRUE(store.verify().ok());
}

TEST(ImageStoreConcurrency, EightProcessesTaggingAndUntaggingLoseNoUpdate) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  const auto image = put_image(store, "shared");
  constexpr int processes = 8;
  constexpr int names_each = 12;
  Barrier start;
  std::vector<pid_t> children;
  for (int p = 0; p < processes; ++p)
    children.push_back(fork_child([&, p] {
      start.wait();
      for (int j = 0; j < names_each; ++j) {
        store.tag(reference(fmt::format("p{}:{}", p, j)), image.manifest);
        if (j % 3 == 0) store.untag(reference(fmt::format("p{}:{}", p, j)));
      }
      return int{ok};
    }));
  start.release();
  for (const pid_t child : children) EXPECT_EQ(wait_child(child), ok);
  std::set<std::string> expected;
  for (int p = 0; p < processes; ++p)
    for (int j = 0; j < names_each; ++j)
      if (j % 3 != 0) expected.insert(fmt::format("docker.io/library/p{}:{}", p, j));
  EXPECT_EQ(names_in(dir.path()), expected);
  EXPECT_EQ(Index::parse(slurp(dir / "index.json")).manifests.size(), expected.size());
}

// Ingests more than the file system allows; the child reports what it saw.
int ingest_past_the_limit(const fs::path& root, std::size_t bytes, int expected_errno) {
  auto store = ImageStore::open(root);
  const std::string chunk(65536, 'z');
  try {
    auto writer = store.ingest();
    for (std::size_t n = 0; n < bytes; n += chunk.size()) writer.write(chunk);
    writer.commit();
    return no_error;
  } catch (const Error& e) {
    if (e.kind() != ErrorCode::limit_exceeded || e.sys_errno() != expected_errno) {
      std::fprintf(stderr, "unexpected error: %s\n", e.what());
      return wrong_error;
    }
    if (std::string_view(e.what()).find("ingest blob into store") == std::string_view::npos) return wrong_error;
  }
  if (ingest_files(root) != 0 || !fs::is_empty(root / "blobs/sha256")) return left_files;
  // The space is back: the temporary file is gone, not merely hidden.
  store.put_blob(std::string(bytes / 4, 'y'), "application/octet-stream");
  return ok;
}

TEST(ImageStoreConcurrency, AFileSizeLimitIsAClearErrorAndLeavesNothing) {
  TempDir dir;
  const pid_t child = fork_child([&] {
    ::signal(SIGXFSZ, SIG_IGN);  // get EFBIG rather than the signal
    const rlimit limit{1 << 20, 1 << 20};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return int{skipped};
    return ingest_past_the_limit(dir.path(), 2 << 20, EFBIG);
  });
  EXPECT_EQ(wait_child(child), ok);
}

TEST(ImageStoreConcurrency, AFullDiskIsAClearErrorAndLeavesNothing) {
#if defined(__linux__)
  TempDir dir;
  // A 1 MiB tmpfs in a private mount namespace, gone with the child.
  const pid_t child = fork_child([&] {
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", dir.path().c_str(), "tmpfs", 0, "size=1m") != 0)
      return int{skipped};
    return ingest_past_the_limit(dir.path(), 2 << 20, ENOSPC);
  });
  const int status = wait_child(child);
  if (status == skipped) GTEST_SKIP() << "cannot mount a small tmpfs here (needs root or a user namespace)";
  EXPECT_EQ(status, ok);
#else
  GTEST_SKIP() << "mounting a small file system is done on Linux only";
#endif
}

}  // namespace
