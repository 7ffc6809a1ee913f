// apply_layer(): a layer file read once, entry by entry, onto a root directory.
#include <knast/rootfs.hpp>

#include "core/text.hpp"
#include "image_store/store_files.hpp"
#include "rootfs/apply_input.hpp"
#include "rootfs/apply_layer.hpp"

#include <fmt/format.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>

namespace knast {
inline namespace v0 {
namespace {

constexpr std::size_t max_report_warnings = 100;

void support_tar(archive* a) {
  // ustar, pax, GNU and v7 tar; an empty file is an empty layer.
  archive_read_support_format_tar(a);
  archive_read_support_format_empty(a);
}

// The next entry's header; false at the end. A damaged header is an error (check()).
bool next_header(detail::SourceArchive& reader, archive_entry*& entry) {
  return reader.check(archive_read_next_header(reader.get(), &entry), "read an entry header") != ARCHIVE_EOF;
}

detail::UniqueFd open_root(const std::filesystem::path& root) {
  detail::UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw Error(errno, fmt::format("open the root directory {}", root.string()));
  return fd;
}

}  // namespace

ApplyReport& ApplyReport::operator+=(const ApplyReport& other) {
  entries += other.entries;
  bytes += other.bytes;
  whiteouts += other.whiteouts;
  skipped_devices += other.skipped_devices;
  skipped_xattrs += other.skipped_xattrs;
  for (const auto& warning : other.warnings) {
    if (warnings.size() >= max_report_warnings) break;
    warnings.push_back(warning);
  }
  return *this;
}

namespace {

// Applies every entry of @p input's tar onto @p root, then reads the input to its end.
ApplyReport apply_input(const std::filesystem::path& root, detail::LayerInput& input, const ApplyOptions& options) {
  const auto root_fd = open_root(root);
  detail::SourceArchive reader(input.tar(), support_tar, "tar");
  detail::LayerApplier applier(root_fd.get(), options);
  archive_entry* entry = nullptr;
  while (next_header(reader, entry)) {
    try {
      applier.apply(entry, reader);
    } catch (const Error& e) {
      const char* name = archive_entry_pathname(entry);
      throw e.with_context(fmt::format("entry {}", detail::quote_untrusted(name ? name : "")));
    }
  }
  input.finish();
  applier.finish();
  applier.flush_elf_index();
  return applier.report();
}

std::string applying(const std::filesystem::path& root, const std::filesystem::path& layer) {
  return fmt::format("apply layer {} onto {}", layer.string(), root.string());
}

}  // namespace

ApplyReport apply_layer(const std::filesystem::path& root, const std::filesystem::path& layer,
                        const ApplyOptions& options, std::string_view media_type) {
  return detail::in_context(applying(root, layer), [&] {
    detail::LayerInput input(layer, media_type);
    return apply_input(root, input, options);
  });
}

namespace detail {

HashedApply apply_layer_hashed(const std::filesystem::path& root, const std::filesystem::path& layer,
                               const ApplyOptions& options, std::string_view media_type, LayerHashing hashing) {
  return in_context(applying(root, layer), [&] {
    LayerInput input(layer, media_type, hashing);
    ApplyReport report = apply_input(root, input, options);
    return HashedApply{std::move(report), input.stored_digest(), input.tar_digest()};
  });
}

}  // namespace detail

}  // namespace v0
}  // namespace knast
