#include "registry/transfer.hpp"

#include <knast/error.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>

namespace knast {
inline namespace v0 {
namespace registry_detail {
namespace {

/// How often moving bytes are reported when no state changes.
constexpr std::chrono::milliseconds report_interval(100);

bool is_finished(TransferState state) noexcept {
  return state == TransferState::done || state == TransferState::skipped || state == TransferState::mounted;
}

/// What the workers tell the calling thread.
class Board {
 public:
  explicit Board(const std::vector<Descriptor>& blobs) : blobs_(blobs), entries_(blobs.size()) {}

  void set_state(std::size_t index, TransferState state) {
    const std::lock_guard lock(mutex_);
    entries_[index].state = state;
    entries_[index].state_changed = true;
    changed_ = true;
    wake_.notify_one();
  }
  void add_bytes(std::size_t index, std::int64_t delta) noexcept {
    entries_[index].bytes.fetch_add(delta, std::memory_order_relaxed);
  }
  void start_workers(std::size_t count) {
    const std::lock_guard lock(mutex_);
    running_ = count;
  }
  void worker_finished() {
    const std::lock_guard lock(mutex_);
    --running_;
    wake_.notify_one();
  }
  /// Waits for a state change, the end of the workers, or the report interval; false
  /// once no worker runs.
  bool wait() {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, report_interval, [this] { return changed_ || running_ == 0; });
    changed_ = false;
    return running_ > 0;
  }
  /// A report for every blob whose state or bytes changed since the last call.
  std::vector<Progress> reports() {
    const std::lock_guard lock(mutex_);
    Progress overall;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      overall.total_bytes += size_of(i);
      overall.total_bytes_done += bytes_of(i);
      if (is_finished(entries_[i].state)) ++overall.blobs_done;
    }
    overall.blobs_total = entries_.size();
    std::vector<Progress> out;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      Entry& entry = entries_[i];
      const std::uint64_t bytes = bytes_of(i);
      if (!entry.state_changed && bytes == entry.reported_bytes) continue;
      entry.state_changed = false;
      entry.reported_bytes = bytes;
      Progress p = overall;
      p.digest = blobs_[i].digest;
      p.media_type = blobs_[i].media_type;
      p.state = entry.state;
      p.bytes_done = bytes;
      p.bytes_total = size_of(i);
      out.push_back(std::move(p));
    }
    return out;
  }

 private:
  struct Entry {
    std::atomic<std::int64_t> bytes{0};
    TransferState state = TransferState::queued;
    bool state_changed = true;
    std::uint64_t reported_bytes = 0;
  };
  std::uint64_t size_of(std::size_t i) const { return blob_size(blobs_[i]); }
  // A skipped or mounted blob counts as all there; bytes in flight never exceed the size.
  std::uint64_t bytes_of(std::size_t i) const {
    const Entry& entry = entries_[i];
    if (entry.state == TransferState::skipped || entry.state == TransferState::mounted) return size_of(i);
    const auto bytes = static_cast<std::uint64_t>(std::max<std::int64_t>(entry.bytes.load(std::memory_order_relaxed), 0));
    return std::min(bytes, size_of(i));
  }

  const std::vector<Descriptor>& blobs_;
  std::vector<Entry> entries_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool changed_ = true;
  std::size_t running_ = 0;
};

/// The numbers of the blobs not @p present, largest first: the transfer ends when its
/// longest job does, so the big blobs start at once and the small ones (a config, a
/// thin layer, each with the fixed cost of a commit) fill the gaps around them.
std::vector<std::size_t> largest_first(const std::vector<Descriptor>& blobs, const std::vector<bool>& present) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < blobs.size(); ++i)
    if (!present[i]) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return blob_size(blobs[a]) > blob_size(blobs[b]); });
  return order;
}

class Reporter final : public BlobReporter {
 public:
  Reporter(Board& board, std::size_t index) : board_(board), index_(index) {}
  void state(TransferState state) override { board_.set_state(index_, state); }
  void bytes(std::int64_t delta) override { board_.add_bytes(index_, delta); }

 private:
  Board& board_;
  std::size_t index_;
};

/// The workers of one transfer_blobs() call; joined (after cancelling) on destruction,
/// so no thread outlives the call whatever throws.
class Workers {
 public:
  /// Workers that take the blobs numbered in @p order, in that order.
  Workers(std::vector<std::size_t> order, const BlobWork& work, Board& board)
      : order_(std::move(order)), work_(work), board_(board) {}
  ~Workers() {
    cancel_ = true;
    for (auto& thread : threads_)
      if (thread.joinable()) thread.join();
  }
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  void start(std::size_t count) {
    board_.start_workers(count);
    for (std::size_t i = 0; i < count; ++i) {
      try {
        threads_.emplace_back([this] { run(); });
      } catch (...) {
        board_.worker_finished();  // the thread that never started will not say so
        throw;
      }
    }
  }
  void join() {
    for (auto& thread : threads_) thread.join();
    threads_.clear();
  }
  /// Blobs to transfer.
  std::size_t size() const noexcept { return order_.size(); }
  void cancel() noexcept { cancel_ = true; }
  void fail(std::exception_ptr error) {
    const std::lock_guard lock(mutex_);
    if (!error_) error_ = std::move(error);
    cancel_ = true;
  }
  std::exception_ptr error() const {
    const std::lock_guard lock(mutex_);
    return error_;
  }

 private:
  void run() noexcept {
    while (!cancel_) {
      const std::size_t next = next_.fetch_add(1);
      if (next >= order_.size()) break;
      const std::size_t index = order_[next];
      try {
        Reporter reporter(board_, index);
        board_.set_state(index, work_(index, reporter, cancel_));
      } catch (...) {
        fail(std::current_exception());
      }
    }
    board_.worker_finished();
  }

  const std::vector<std::size_t> order_;
  const BlobWork& work_;
  Board& board_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> next_{0};
  std::atomic<bool> cancel_{false};
  mutable std::mutex mutex_;
  std::exception_ptr error_;
};

}  // namespace

void transfer_blobs(const std::vector<Descriptor>& blobs, const std::vector<bool>& present, unsigned jobs,
                    const ProgressCallback& progress, const BlobWork& work) {
  Board board(blobs);
  for (std::size_t i = 0; i < blobs.size(); ++i)
    if (present[i]) board.set_state(i, TransferState::skipped);
  Workers workers(largest_first(blobs, present), work, board);
  bool stopped_by_callback = false;
  const auto report = [&] {
    for (const Progress& p : board.reports()) {
      if (stopped_by_callback || workers.error() || !progress) return;
      try {
        if (!progress(p)) {
          stopped_by_callback = true;
          workers.cancel();
        }
      } catch (...) {
        workers.fail(std::current_exception());
      }
    }
  };
  workers.start(std::min<std::size_t>(std::max(jobs, 1u), workers.size()));
  while (board.wait()) report();
  workers.join();
  report();
  if (stopped_by_callback) throw Error(ErrorCode::cancelled, "cancelled by the progress callback");
  if (const auto error = workers.error()) std::rethrow_exception(error);
}

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
