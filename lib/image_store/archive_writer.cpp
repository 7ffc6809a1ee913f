#include "image_store/archive_writer.hpp"

#include "image_store/posix_io.hpp"

#include <fmt/format.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>

#include <memory>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

// Large blocks keep write(2) calls few while blobs stream through; the last block is
// not padded to the full size (only to tar's 512-byte records).
constexpr int write_block_bytes = 1 << 20;

struct EntryFree {
  void operator()(archive_entry* e) const noexcept { archive_entry_free(e); }
};

std::filesystem::path temp_beside(const std::filesystem::path& destination) {
  return destination.parent_path() / fmt::format(".{}.tmp-{}", destination.filename().string(), unique_name());
}

}  // namespace

TarWriter::TarWriter(std::filesystem::path destination)
    : destination_(std::move(destination)),
      temp_(temp_beside(destination_)),
      fd_(open_file(temp_, O_WRONLY | O_CREAT | O_EXCL)),
      archive_(new_archive_writer()) {
  try {
    archive* a = archive_.get();
    // ustar where the names fit (they do: digests are 64 characters), pax otherwise:
    // what docker, skopeo and every tar read.
    if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(a, write_block_bytes) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK || archive_write_open_fd(a, fd_.get()) != ARCHIVE_OK)
      throw archive_error(a, fmt::format("write {}", temp_.string()), ErrorCode::io);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temp_, ignored);
    throw;
  }
}

TarWriter::~TarWriter() noexcept {
  if (committed_) return;
  archive_.reset();
  fd_.reset();
  std::error_code ignored;  // nothing better to do: the file is garbage either way
  std::filesystem::remove(temp_, ignored);
}

void TarWriter::write_header(std::string_view name, unsigned int type, unsigned int permissions, std::uint64_t size,
                             std::string_view link_target) {
  const std::unique_ptr<archive_entry, EntryFree> entry(archive_entry_new());
  if (!entry) throw Error(ErrorCode::limit_exceeded, "libarchive: out of memory");
  archive_entry* e = entry.get();
  archive_entry_set_pathname(e, std::string(name).c_str());
  archive_entry_set_filetype(e, type);
  archive_entry_set_perm(e, static_cast<mode_t>(permissions));
  archive_entry_set_size(e, static_cast<la_int64_t>(size));
  archive_entry_set_uid(e, 0);
  archive_entry_set_gid(e, 0);
  archive_entry_set_mtime(e, 0, 0);
  if (!link_target.empty()) archive_entry_set_symlink(e, std::string(link_target).c_str());
  if (archive_write_header(archive_.get(), e) < ARCHIVE_WARN)
    throw archive_error(archive_.get(), fmt::format("write entry {}", name), ErrorCode::io);
}

void TarWriter::write_data(const void* data, std::size_t size) {
  if (archive_write_data(archive_.get(), data, size) < 0)
    throw archive_error(archive_.get(), "write entry data", ErrorCode::io);
}

void TarWriter::add_directory(std::string_view name) { write_header(name, AE_IFDIR, 0755, 0, {}); }

void TarWriter::add_file(std::string_view name, std::string_view bytes) {
  write_header(name, AE_IFREG, 0644, bytes.size(), {});
  write_data(bytes.data(), bytes.size());
}

void TarWriter::add_symlink(std::string_view name, std::string_view target) {
  write_header(name, AE_IFLNK, 0777, 0, target);
}

void TarWriter::add_stream(std::string_view name, std::uint64_t size, ByteSource& data) {
  write_header(name, AE_IFREG, 0644, size, {});
  std::uint64_t written = 0;
  for (auto chunk = data.next(); !chunk.empty(); chunk = data.next()) {
    if (chunk.size() > size - written)
      throw Error(ErrorCode::integrity, fmt::format("{} has more than its expected {} bytes", name, size));
    write_data(chunk.data(), chunk.size());
    written += chunk.size();
  }
  if (written != size)
    throw Error(ErrorCode::integrity, fmt::format("{} has {} bytes, expected {}", name, written, size));
}

void TarWriter::commit() {
  if (archive_write_close(archive_.get()) != ARCHIVE_OK)
    throw archive_error(archive_.get(), fmt::format("write {}", temp_.string()), ErrorCode::io);
  sync_file(fd_, temp_);
  fd_.reset();
  rename_durably(temp_, destination_);
  committed_ = true;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
