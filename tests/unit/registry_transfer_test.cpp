// The parallel blob engine with work that needs no network: reports arrive on the calling
// thread only, every blob ends reported, present blobs are skipped without work, jobs run
// at once, and a failure, a callback's false or a callback's exception stops everything.
#include "registry/transfer.hpp"

#include <knast/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

namespace {

using knast::Descriptor;
using knast::Digest;
using knast::Error;
using knast::ErrorCode;
using knast::Progress;
using knast::TransferState;
using namespace knast::registry_detail;
using namespace std::chrono_literals;

std::vector<Descriptor> blobs(std::size_t count, std::int64_t size = 1000) {
  std::vector<Descriptor> out;
  for (std::size_t i = 0; i < count; ++i) {
    Descriptor d;
    d.media_type = "application/octet-stream";
    d.digest = Digest::of(std::to_string(i));
    d.size = size;
    out.push_back(d);
  }
  return out;
}

/// Work that reports the blob in ten steps.
TransferState steady_work(std::size_t, BlobReporter& reporter, const std::atomic<bool>&) {
  reporter.state(TransferState::transferring);
  for (int i = 0; i < 10; ++i) reporter.bytes(100);
  return TransferState::done;
}

TEST(TransferBlobs, ReportsEveryBlobOnTheCallingThread) {
  const auto list = blobs(7);
  const auto caller = std::this_thread::get_id();
  std::vector<Progress> reports;
  transfer_blobs(list, std::vector<bool>(list.size(), false), 3,
                 [&](const Progress& p) {
                   EXPECT_EQ(std::this_thread::get_id(), caller);
                   reports.push_back(p);
                   return true;
                 },
                 steady_work);
  std::set<Digest> done;
  for (const auto& p : reports)
    if (p.state == TransferState::done) {
      done.insert(p.digest);
      EXPECT_EQ(p.bytes_done, 1000u);
    }
  EXPECT_EQ(done.size(), list.size());
  EXPECT_EQ(reports.back().blobs_done, 7u);
  EXPECT_EQ(reports.back().total_bytes_done, 7000u);
  EXPECT_EQ(reports.back().total_bytes, 7000u);
}

TEST(TransferBlobs, PresentBlobsAreSkippedWithoutWork) {
  const auto list = blobs(4);
  std::atomic<int> worked{0};
  std::vector<Progress> reports;
  transfer_blobs(list, {true, false, true, false}, 2,
                 [&](const Progress& p) {
                   reports.push_back(p);
                   return true;
                 },
                 [&](std::size_t i, BlobReporter& r, const std::atomic<bool>& c) {
                   EXPECT_TRUE(i == 1 || i == 3);
                   ++worked;
                   return steady_work(i, r, c);
                 });
  EXPECT_EQ(worked, 2);
  std::size_t skipped = 0;
  for (const auto& p : reports)
    if (p.state == TransferState::skipped) {
      ++skipped;
      EXPECT_EQ(p.bytes_done, p.bytes_total);
    }
  EXPECT_EQ(skipped, 2u);
  EXPECT_EQ(reports.back().total_bytes_done, 4000u);
}

TEST(TransferBlobs, LargestBlobsStartFirst) {
  auto list = blobs(5);
  const std::int64_t sizes[] = {10, 3000, 10, 5000, 700};
  for (std::size_t i = 0; i < list.size(); ++i) list[i].size = sizes[i];
  std::vector<std::size_t> order;
  transfer_blobs(list, {false, false, false, false, true}, 1, nullptr,
                 [&](std::size_t i, BlobReporter&, const std::atomic<bool>&) {
                   order.push_back(i);  // one job: no race
                   return TransferState::done;
                 });
  // Largest first; equal sizes keep the manifest's order; a present blob gets no work.
  EXPECT_EQ(order, (std::vector<std::size_t>{3, 1, 0, 2}));
}

TEST(TransferBlobs, JobsRunAtOnce) {
  const auto list = blobs(3);
  std::atomic<int> running{0}, peak{0};
  transfer_blobs(list, std::vector<bool>(3, false), 3, nullptr, [&](std::size_t, BlobReporter&, const std::atomic<bool>&) {
    const int now = ++running;
    for (int seen = peak; now > seen && !peak.compare_exchange_weak(seen, now);) {
    }
    // Waits until all three are in, or gives up: with one job at a time this would not end early.
    for (int i = 0; i < 200 && peak < 3; ++i) std::this_thread::sleep_for(5ms);
    --running;
    return TransferState::done;
  });
  EXPECT_EQ(peak, 3);
}

TEST(TransferBlobs, FirstFailureStopsTheOthersAndComesThrough) {
  const auto list = blobs(20);
  std::atomic<int> started{0};
  try {
    transfer_blobs(list, std::vector<bool>(list.size(), false), 2, nullptr,
                   [&](std::size_t i, BlobReporter&, const std::atomic<bool>& cancel) -> TransferState {
                     ++started;
                     if (i == 0) throw Error(ErrorCode::network, "blob 0 broke");
                     while (!cancel) std::this_thread::sleep_for(1ms);
                     throw Error(ErrorCode::cancelled, "cancelled");
                   });
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::network);
    EXPECT_STREQ(e.what(), "blob 0 broke");
  }
  EXPECT_LE(started, 3) << "no new blob starts after a failure";
}

TEST(TransferBlobs, CallbackFalseCancels) {
  const auto list = blobs(10);
  std::atomic<bool> saw_cancel{false};
  try {
    // Stopped once a transfer is under way, so the workers are seen to give up.
    transfer_blobs(list, std::vector<bool>(list.size(), false), 2,
                   [](const Progress& p) { return p.state != TransferState::transferring; },
                   [&](std::size_t, BlobReporter& reporter, const std::atomic<bool>& cancel) -> TransferState {
                     reporter.state(TransferState::transferring);
                     for (int i = 0; i < 2000 && !cancel; ++i) std::this_thread::sleep_for(1ms);
                     if (cancel) saw_cancel = true;
                     throw Error(ErrorCode::cancelled, "cancelled");
                   });
    ADD_FAILURE() << "not cancelled";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::cancelled);
    EXPECT_STREQ(e.what(), "cancelled by the progress callback");
  }
  EXPECT_TRUE(saw_cancel);
}

TEST(TransferBlobs, CallbackExceptionComesThroughAfterTheWorkersStop) {
  const auto list = blobs(5);
  EXPECT_THROW(transfer_blobs(list, std::vector<bool>(list.size(), false), 2,
                              [](const Progress&) -> bool { throw std::logic_error("from the callback"); },
                              steady_work),
               std::logic_error);
}

TEST(TransferBlobs, NothingToDo) {
  std::size_t reports = 0;
  transfer_blobs({}, {}, 3, [&](const Progress&) { return ++reports, true; }, steady_work);
  EXPECT_EQ(reports, 0u);
  const auto list = blobs(2);
  transfer_blobs(list, {true, true}, 3, [&](const Progress&) { return ++reports, true; }, steady_work);
  EXPECT_EQ(reports, 2u);
}

}  // namespace
