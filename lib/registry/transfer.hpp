/// @file transfer.hpp
/// @brief Private: moving many blobs at once — a few worker threads, each with its own
///        connection, and progress reported on the calling thread only.
///
/// Workers never call the user's callback: they update a board (atomics and a
/// mutex-guarded list of state changes), and the calling thread wakes on every state
/// change, or every 100 ms while bytes move, to report. A callback that returns false or
/// throws, or a worker that fails, stops everything: the other workers are cancelled
/// through the shared flag (their transfers abort), all threads are joined, and the first
/// failure is rethrown.
#pragma once

#include <knast/oci.hpp>
#include <knast/registry.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace knast {
inline namespace v0 {
namespace registry_detail {

/// A descriptor's size as a byte count (a negative size, which parsing refuses, as 0).
inline std::uint64_t blob_size(const Descriptor& blob) noexcept {
  return blob.size > 0 ? static_cast<std::uint64_t>(blob.size) : 0;
}

/// Progress of one blob, as its worker reports it.
class BlobReporter {
 public:
  /// Sets the state (reported on the calling thread).
  virtual void state(TransferState state) = 0;
  /// Adds @p delta bytes (negative when a transfer starts over).
  virtual void bytes(std::int64_t delta) = 0;

 protected:
  ~BlobReporter() = default;
};

/// The work for blob number @p index; returns the state it ended in (done, skipped or
/// mounted). May throw; must give up promptly once @p cancel is set.
using BlobWork = std::function<TransferState(std::size_t index, BlobReporter& reporter, const std::atomic<bool>& cancel)>;

/// Runs @p work for every blob of @p blobs on up to @p jobs threads, largest blobs
/// first, reporting to @p progress (may be empty) on this thread. Blobs listed in
/// @p present are reported as skipped at once and get no work.
/// @throws the first worker failure; Error cancelled if @p progress returned false;
///         whatever @p progress threw.
void transfer_blobs(const std::vector<Descriptor>& blobs, const std::vector<bool>& present, unsigned jobs,
                    const ProgressCallback& progress, const BlobWork& work);

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
