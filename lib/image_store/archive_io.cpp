#include "image_store/archive_io.hpp"

#include "image_store/posix_io.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <utility>

#include <archive.h>
#include <fcntl.h>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

// libarchive reports format and data problems with errno-like codes of its own (EILSEQ
// or EFTYPE, EINVAL, -1); only these are the operating system speaking.
bool is_os_errno(int e) noexcept {
  constexpr std::array os_errnos{ENOENT, EACCES, EPERM, EIO, ENOSPC, EDQUOT, EISDIR, ENOTDIR,
                                 EROFS,  EMFILE, ENFILE, ENOMEM, EFBIG, ENAMETOOLONG, ELOOP};
  return std::find(os_errnos.begin(), os_errnos.end(), e) != os_errnos.end();
}

std::span<const std::byte> bytes_of(const void* data, std::size_t size) noexcept {
  return {static_cast<const std::byte*>(data), size};
}

}  // namespace

void ArchiveReadFree::operator()(archive* a) const noexcept { archive_read_free(a); }
void ArchiveWriteFree::operator()(archive* a) const noexcept { archive_write_free(a); }

ArchiveReadPtr new_archive_reader() {
  ArchiveReadPtr a(archive_read_new());
  if (!a) throw Error(ErrorCode::limit_exceeded, "libarchive: out of memory");
  return a;
}

ArchiveWritePtr new_archive_writer() {
  ArchiveWritePtr a(archive_write_new());
  if (!a) throw Error(ErrorCode::limit_exceeded, "libarchive: out of memory");
  return a;
}

Error archive_error(archive* a, std::string_view doing, ErrorCode data_code) {
  const char* text = archive_error_string(a);
  const std::string message = fmt::format("{}: {}", doing, text ? text : "unknown libarchive error");
  const int e = archive_errno(a);
  return is_os_errno(e) ? Error(e, message) : Error(data_code, message);
}

void drain(ByteSource& source) {
  while (!source.next().empty()) {
  }
}

FileSource::FileSource(const std::filesystem::path& path)
    : path_(path), fd_(open_file(path, O_RDONLY)), buffer_(stream_chunk_bytes) {}

std::span<const std::byte> FileSource::next() {
  return {buffer_.data(), read_some(fd_, buffer_.data(), buffer_.size(), path_)};
}

void EntrySource::read_block() {
  while (block_.empty() && !at_end_) {
    const void* data = nullptr;
    std::size_t size = 0;
    la_int64_t offset = 0;
    const int status = archive_read_data_block(reader_, &data, &size, &offset);
    if (status == ARCHIVE_EOF) {
      at_end_ = true;
    } else if (archive_failed(status)) {
      throw archive_error(reader_, "read entry data");
    } else {
      block_ = bytes_of(data, size);
      block_offset_ = static_cast<std::uint64_t>(offset);
    }
  }
}

std::span<const std::byte> EntrySource::next() {
  static constexpr std::array<std::byte, 64u << 10> zeros{};
  read_block();
  const auto hole_end = block_.empty() ? size_ : block_offset_;
  if (position_ < hole_end) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(hole_end - position_, zeros.size()));
    position_ += n;
    return {zeros.data(), n};
  }
  position_ += block_.size();
  return std::exchange(block_, {});
}

std::span<const std::byte> PeekSource::peek(std::size_t count) {
  while (head_.size() < count) {
    const auto chunk = in_.next();
    if (chunk.empty()) break;
    head_.insert(head_.end(), chunk.begin(), chunk.end());
  }
  return {head_.data(), std::min(count, head_.size())};
}

std::span<const std::byte> PeekSource::next() {
  if (!head_passed_) {
    head_passed_ = true;
    if (!head_.empty()) return head_;
  }
  return in_.next();
}

std::span<const std::byte> TeeSource::next() {
  const auto chunk = in_.next();
  if (!chunk.empty()) sink_(chunk);
  return chunk;
}

SourceArchive::SourceArchive(ByteSource& in, const std::function<void(archive*)>& configure, std::string_view what)
    : in_(in), what_(what), archive_(new_archive_reader()) {
  configure(archive_.get());
  check(archive_read_open(archive_.get(), this, nullptr, &SourceArchive::read_callback, nullptr), "open");
}

la_ssize_t SourceArchive::read_callback(archive* a, void* self, const void** buffer) noexcept {
  auto* reader = static_cast<SourceArchive*>(self);
  try {
    const auto chunk = reader->in_.next();
    *buffer = chunk.data();
    return static_cast<la_ssize_t>(chunk.size());
  } catch (...) {
    // Never let an exception unwind through libarchive's C frames.
    reader->parked_ = std::current_exception();
    archive_set_error(a, EIO, "reading the input failed");
    return ARCHIVE_FATAL;
  }
}

int SourceArchive::check(int status, std::string_view doing) {
  if (parked_) std::rethrow_exception(std::exchange(parked_, nullptr));
  if (archive_failed(status)) throw archive_error(archive_.get(), fmt::format("{}: {}", what_, doing));
  return status;
}

namespace {

void support_filter(archive* a, Compression compression) {
  // Only the filter the magic bytes named: with every filter enabled libarchive would
  // also strip a second layer of compression, and the hash would no longer be of the
  // bytes one decompression gives (the diff_id).
  int status = ARCHIVE_FATAL;
  switch (compression) {
    case Compression::gzip: status = archive_read_support_filter_gzip(a); break;
    case Compression::zstd: status = archive_read_support_filter_zstd(a); break;
    case Compression::bzip2: status = archive_read_support_filter_bzip2(a); break;
    case Compression::xz: status = archive_read_support_filter_xz(a); break;
    case Compression::none: break;
  }
  // ARCHIVE_WARN means libarchive will run an external program instead of a library.
  if (status < ARCHIVE_WARN) throw archive_error(a, fmt::format("{} decompression", to_string(compression)),
                                                 ErrorCode::unsupported);
}

}  // namespace

DecompressSource::DecompressSource(ByteSource& in, Compression compression)
    : reader_(in,
              [compression](archive* a) {
                support_filter(a, compression);
                archive_read_support_format_raw(a);
              },
              to_string(compression)) {
  archive_entry* entry = nullptr;
  at_end_ = reader_.check(archive_read_next_header(reader_.get(), &entry), "decompress") == ARCHIVE_EOF;
}

std::span<const std::byte> DecompressSource::next() {
  if (at_end_) return {};
  const void* block = nullptr;
  std::size_t size = 0;
  la_int64_t offset = 0;
  const int status = reader_.check(archive_read_data_block(reader_.get(), &block, &size, &offset), "decompress");
  if (status == ARCHIVE_EOF) {
    at_end_ = true;
    return {};
  }
  return bytes_of(block, size);
}

void check_tar_stream(ByteSource& source) {
  SourceArchive reader(source, [](archive* a) { archive_read_support_format_tar(a); }, "tar");
  archive_entry* entry = nullptr;
  while (reader.check(archive_read_next_header(reader.get(), &entry), "read header") != ARCHIVE_EOF)
    reader.check(archive_read_data_skip(reader.get()), "read entry");
  drain(source);  // the end-of-archive blocks and any padding after them
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
