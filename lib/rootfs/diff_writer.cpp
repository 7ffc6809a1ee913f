#include "rootfs/diff_writer.hpp"

#include "image_store/posix_io.hpp"

#include <knast/oci.hpp>

#include <fmt/format.h>

#include <archive.h>
#include <fcntl.h>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

constexpr int block_bytes = 1 << 20;  // few, large write(2) calls

struct EntryFree {
  void operator()(archive_entry* e) const noexcept { archive_entry_free(e); }
};

}  // namespace

std::string_view layer_media_type(LayerCompression compression) noexcept {
  switch (compression) {
    case LayerCompression::none: return media_type::oci_layer_tar;
    case LayerCompression::gzip: return media_type::oci_layer_gzip;
    case LayerCompression::zstd: return media_type::oci_layer_zstd;
  }
  return media_type::oci_layer_tar;
}

LayerFileWriter::LayerFileWriter(std::filesystem::path destination, LayerCompression compression)
    : destination_(std::move(destination)),
      temp_(destination_.parent_path() / fmt::format(".{}.tmp-{}", destination_.filename().string(), unique_name())),
      compression_(compression),
      fd_(open_file(temp_, O_WRONLY | O_CREAT | O_EXCL)) {
  try {
    const std::string doing = fmt::format("write layer {}", destination_.string());
    if (compression_ != LayerCompression::none) {
      compressor_ = new_archive_writer();
      archive* c = compressor_.get();
      const int filter = compression_ == LayerCompression::gzip ? archive_write_add_filter_gzip(c)
                                                                : archive_write_add_filter_zstd(c);
      check(c, filter, doing);
      check(c, archive_write_set_format_raw(c), doing);
      check(c, archive_write_set_bytes_per_block(c, block_bytes), doing);
      check(c, archive_write_set_bytes_in_last_block(c, 1), doing);
      check(c, archive_write_open(c, this, nullptr, &LayerFileWriter::file_out, nullptr), doing);
      const std::unique_ptr<archive_entry, EntryFree> raw(archive_entry_new());
      archive_entry_set_pathname(raw.get(), "layer.tar");
      archive_entry_set_filetype(raw.get(), AE_IFREG);
      check(c, archive_write_header(c, raw.get()), doing);
    }
    tar_ = new_archive_writer();
    archive* t = tar_.get();
    check(t, archive_write_set_format_pax(t), doing);
    check(t, archive_write_set_bytes_per_block(t, block_bytes), doing);
    check(t, archive_write_set_bytes_in_last_block(t, 1), doing);
    check(t, archive_write_open(t, this, nullptr, &LayerFileWriter::tar_out, nullptr), doing);
  } catch (...) {
    tar_.reset();
    compressor_.reset();
    remove_file(temp_);
    throw;
  }
}

LayerFileWriter::~LayerFileWriter() noexcept {
  if (committed_) return;
  tar_.reset();
  compressor_.reset();
  fd_.reset();
  try {
    remove_file(temp_);
  } catch (...) {  // nothing better to do on a failure path: the file is garbage either way
  }
}

int LayerFileWriter::check(archive* a, int status, std::string_view doing) {
  if (status >= ARCHIVE_WARN) return status;
  if (parked_) std::rethrow_exception(std::exchange(parked_, nullptr));
  throw archive_error(a, doing, ErrorCode::io);
}

la_ssize_t LayerFileWriter::tar_out(archive*, void* self, const void* buffer, std::size_t size) noexcept {
  auto& w = *static_cast<LayerFileWriter*>(self);
  try {
    w.diff_id_.update(buffer, size);
    if (w.compressor_) {
      const la_ssize_t n = archive_write_data(w.compressor_.get(), buffer, size);
      if (n < 0) {
        if (!w.parked_) w.parked_ = std::make_exception_ptr(archive_error(w.compressor_.get(), "compress layer", ErrorCode::io));
        return -1;
      }
    } else {
      w.write_file(buffer, size);
    }
    return static_cast<la_ssize_t>(size);
  } catch (...) {
    w.parked_ = std::current_exception();
    return -1;
  }
}

la_ssize_t LayerFileWriter::file_out(archive*, void* self, const void* buffer, std::size_t size) noexcept {
  auto& w = *static_cast<LayerFileWriter*>(self);
  try {
    w.write_file(buffer, size);
    return static_cast<la_ssize_t>(size);
  } catch (...) {
    w.parked_ = std::current_exception();
    return -1;
  }
}

void LayerFileWriter::write_file(const void* data, std::size_t size) {
  if (compressor_) digest_.update(data, size);  // else the digest is the diff_id
  write_all(fd_, data, size, temp_);
  size_ += size;
}

void LayerFileWriter::write_header(archive_entry* entry) {
  check(tar_.get(), archive_write_header(tar_.get(), entry),
        fmt::format("write layer {}: entry {}", destination_.string(), archive_entry_pathname(entry)));
}

void LayerFileWriter::write_data(const void* data, std::size_t size) {
  const la_ssize_t n = archive_write_data(tar_.get(), data, size);
  if (n < 0 || static_cast<std::size_t>(n) != size) check(tar_.get(), ARCHIVE_FATAL, "write layer data");
}

LayerDiff LayerFileWriter::commit(std::size_t changes) {
  const std::string doing = fmt::format("write layer {}", destination_.string());
  check(tar_.get(), archive_write_close(tar_.get()), doing);
  if (compressor_) check(compressor_.get(), archive_write_close(compressor_.get()), doing);
  sync_file(fd_, temp_);
  fd_.reset();
  rename_durably(temp_, destination_);
  committed_ = true;
  LayerDiff out;
  out.descriptor.media_type = std::string(layer_media_type(compression_));
  out.descriptor.size = static_cast<std::int64_t>(size_);
  out.diff_id = diff_id_.finish();
  out.descriptor.digest = compressor_ ? digest_.finish() : out.diff_id;
  out.changes = changes;
  return out;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
