// Ingesting blobs: bytes stream into knast/ingest/<unique>, hashed and counted on the
// way, and only a complete, verified and fsync'ed file is renamed into blobs/. The writer
// holds a shared gc.lock for its whole life (no collection meanwhile) and an exclusive
// flock on its temporary file (so a collection after a crash knows the file is stale).
#include <knast/image_store.hpp>

#include "image_store/store_files.hpp"
#include "platform/fs.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>

namespace knast {
inline namespace v0 {

using detail::in_context;
using detail::StoreFiles;
using detail::UniqueFd;
namespace fs = std::filesystem;

struct BlobWriter::State {
  State(StoreFiles store, std::optional<Digest> expected_digest, std::optional<std::uint64_t> expected_bytes)
      : files(std::move(store)),
        hasher(expected_digest ? expected_digest->algorithm() : DigestAlgorithm::sha256),
        expected(std::move(expected_digest)),
        expected_size(expected_bytes) {}

  StoreFiles files;
  Hasher hasher;
  std::optional<Digest> expected;
  std::optional<std::uint64_t> expected_size;
  UniqueFd lease;  // shared gc.lock
  fs::path temp_path;
  UniqueFd temp;  // exclusively flocked while the writer lives
  bool finished = false;
  // Callers such as libcurl hand over 16 KiB at a time; gathering them into larger
  // writes saves most of the write() calls. Flushed before the file is synced.
  static constexpr std::size_t buffer_size = std::size_t{256} << 10;
  std::string pending;

  // The kernel is asked to start writing every few MiB as they arrive, so that commit()'s
  // fsync finds little left: otherwise each large layer waited 14-23 ms in its fsync
  // after its last byte (bench/RESULTS.md, registry pull).
  static constexpr std::uint64_t writeback_step = std::uint64_t{4} << 20;
  std::uint64_t in_file = 0;          // bytes written to the temporary file
  std::uint64_t writeback_start = 0;  // writeback has been started below this offset

  void write_to_file(const void* data, std::size_t size) {
    detail::write_all(temp, data, size, temp_path);
    in_file += size;
    if (in_file - writeback_start < writeback_step) return;
    platform::start_writeback(temp.get(), writeback_start, in_file - writeback_start);
    writeback_start = in_file;
  }
  void append(const void* data, std::size_t size) {
    if (pending.size() + size > buffer_size) flush();
    if (size >= buffer_size) {
      write_to_file(data, size);
      return;
    }
    if (pending.capacity() < buffer_size) pending.reserve(buffer_size);
    pending.append(static_cast<const char*>(data), size);
  }
  void flush() {
    if (pending.empty()) return;
    write_to_file(pending.data(), pending.size());
    pending.clear();
  }

  std::string what() const {
    return fmt::format("ingest {} into store {}", expected ? expected->string() : std::string("blob"),
                       files.root.string());
  }
  void check_live() const {
    if (finished) throw Error(ErrorCode::internal, "BlobWriter used after commit(), abort() or a failed write");
  }
  void drop() noexcept {
    if (finished) return;
    finished = true;
    ::unlink(temp_path.c_str());  // nothing useful to do if it fails; a later GC removes it
    temp.reset();
    lease.reset();
  }
};

namespace {

UniqueFd create_ingest_file(const StoreFiles& files, fs::path& path) {
  for (;;) {
    path = files.ingest_dir() / detail::unique_name();
    try {
      UniqueFd fd = detail::open_file(path, O_WRONLY | O_CREAT | O_EXCL);
      if (!detail::try_lock(fd, detail::LockKind::exclusive, path))
        throw Error(ErrorCode::internal, fmt::format("{} is locked by someone else", path.string()));
      return fd;
    } catch (const Error& e) {
      if (e.sys_errno() != EEXIST) throw;
    }
  }
}

// A blob already present with the same size is the same content (or damaged, which
// verify() reports): no need to replace it.
bool already_present(const fs::path& blob, std::uint64_t size) {
  struct stat st {};
  return ::stat(blob.c_str(), &st) == 0 && S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) == size;
}

void check_content(const std::optional<Digest>& expected, std::optional<std::uint64_t> expected_size,
                   const Digest& actual, std::uint64_t size) {
  if (expected_size && size != *expected_size)
    throw Error(ErrorCode::integrity, fmt::format("got {} bytes, expected {}", size, *expected_size));
  if (expected && actual != *expected)
    throw Error(ErrorCode::integrity, fmt::format("content has digest {}, expected {}", actual.string(), expected->string()));
}

}  // namespace

BlobWriter::BlobWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
BlobWriter::~BlobWriter() { abort(); }
BlobWriter::BlobWriter(BlobWriter&&) noexcept = default;

BlobWriter& BlobWriter::operator=(BlobWriter&& other) noexcept {
  if (this != &other) {
    abort();
    state_ = std::move(other.state_);
  }
  return *this;
}

void BlobWriter::write(const void* data, std::size_t size) {
  if (!state_) throw Error(ErrorCode::internal, "BlobWriter used after move");
  State& s = *state_;
  s.check_live();
  try {
    const std::uint64_t written = s.hasher.bytes();
    if (s.expected_size && size > *s.expected_size - written)
      throw Error(ErrorCode::integrity,
                  fmt::format("more than the expected {} bytes (got at least {})", *s.expected_size, written + size));
    s.append(data, size);
    s.hasher.update(data, size);
  } catch (const Error& e) {
    // A full disk or an overrun ends the blob: keep no partial file around.
    s.drop();
    throw e.with_context(s.what());
  }
}

std::uint64_t BlobWriter::bytes_written() const noexcept { return state_ ? state_->hasher.bytes() : 0; }

Digest BlobWriter::commit() {
  if (!state_) throw Error(ErrorCode::internal, "BlobWriter used after move");
  State& s = *state_;
  s.check_live();
  try {
    s.flush();
    const std::uint64_t size = s.hasher.bytes();
    const Digest digest = s.hasher.finish();
    check_content(s.expected, s.expected_size, digest, size);
    const fs::path blob = s.files.blob(digest);
    if (!already_present(blob, size)) {
      detail::sync_file(s.temp, s.temp_path);
      if (detail::make_directory(blob.parent_path())) detail::sync_directory(s.files.blobs());
      // rename() replaces atomically: a concurrent writer of the same blob that won the
      // race is overwritten by identical bytes, and both succeed.
      detail::rename_durably(s.temp_path, blob);
    }
    s.drop();
    return digest;
  } catch (const Error& e) {
    s.drop();
    throw e.with_context(s.what());
  }
}

void BlobWriter::abort() noexcept {
  if (state_) state_->drop();
}

BlobWriter ImageStore::ingest(std::optional<Digest> expected, std::optional<std::uint64_t> expected_size) {
  auto state = std::make_unique<BlobWriter::State>(StoreFiles(root_), std::move(expected), expected_size);
  in_context(state->what(), [&] {
    state->lease = detail::lock_gc(state->files, detail::LockKind::shared);
    state->temp = create_ingest_file(state->files, state->temp_path);
  });
  return BlobWriter(std::move(state));
}

Descriptor ImageStore::put_blob(std::string_view bytes, std::string media_type) {
  Descriptor descriptor;
  descriptor.media_type = std::move(media_type);
  descriptor.digest = Digest::of(bytes);
  descriptor.size = static_cast<std::int64_t>(bytes.size());
  BlobWriter writer = ingest(descriptor.digest, bytes.size());
  writer.write(bytes);
  writer.commit();
  return descriptor;
}

}  // namespace v0
}  // namespace knast
