// Helpers shared by the archive_*_test.cpp integration tests: tar files made entry by
// entry (including the hostile ones no honest tool writes), read back, and cut short.
#pragma once

#include "image_store_test_support.hpp"

#include <knast/image_store.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace archive_test {

using namespace store_test;
using Json = nlohmann::json;

/// Compressions a test tar (or stream) can be written with.
enum class Filter { none, gzip, zstd, xz, bzip2 };

/// One entry of a tar written by write_tar().
struct TarEntry {
  enum class Kind { file, directory, symlink, hardlink } kind = Kind::file;
  std::string name;
  std::string data;  ///< Content of a file, target of a link.
};

inline TarEntry tar_file(std::string name, std::string data) { return {TarEntry::Kind::file, std::move(name), std::move(data)}; }
inline TarEntry tar_link(std::string name, std::string target) {
  return {TarEntry::Kind::symlink, std::move(name), std::move(target)};
}
inline TarEntry tar_hardlink(std::string name, std::string target) {
  return {TarEntry::Kind::hardlink, std::move(name), std::move(target)};
}
inline TarEntry tar_dir(std::string name) { return {TarEntry::Kind::directory, std::move(name), {}}; }

inline void add_filter(archive* a, Filter filter) {
  switch (filter) {
    case Filter::none: break;
    case Filter::gzip: archive_write_add_filter_gzip(a); break;
    case Filter::zstd: archive_write_add_filter_zstd(a); break;
    case Filter::xz: archive_write_add_filter_xz(a); break;
    case Filter::bzip2: archive_write_add_filter_bzip2(a); break;
  }
}

using WriteHandle = std::unique_ptr<archive, decltype(&archive_write_free)>;

/// A libarchive writer appending to @p out.
inline WriteHandle writer_into(std::string& out, Filter filter, bool tar) {
  WriteHandle a(archive_write_new(), archive_write_free);
  if (tar) {
    archive_write_set_format_pax_restricted(a.get());
  } else {
    archive_write_set_format_raw(a.get());
  }
  add_filter(a.get(), filter);
  archive_write_set_bytes_in_last_block(a.get(), 1);
  const auto append = [](archive*, void* sink, const void* data, std::size_t size) -> la_ssize_t {
    static_cast<std::string*>(sink)->append(static_cast<const char*>(data), size);
    return static_cast<la_ssize_t>(size);
  };
  if (archive_write_open(a.get(), &out, nullptr, append, nullptr) != ARCHIVE_OK)
    throw std::runtime_error(archive_error_string(a.get()));
  return a;
}

/// A tar of @p entries, names written exactly as given (libarchive does not clean them).
inline std::string tar_of(const std::vector<TarEntry>& entries, Filter filter = Filter::none) {
  std::string out;
  const auto a = writer_into(out, filter, true);
  for (const auto& entry : entries) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), entry.name.c_str());
    archive_entry_set_mtime(e.get(), 1700000000, 0);
    switch (entry.kind) {
      case TarEntry::Kind::file:
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_perm(e.get(), 0644);
        archive_entry_set_size(e.get(), static_cast<la_int64_t>(entry.data.size()));
        break;
      case TarEntry::Kind::directory:
        archive_entry_set_filetype(e.get(), AE_IFDIR);
        archive_entry_set_perm(e.get(), 0755);
        break;
      case TarEntry::Kind::symlink:
        archive_entry_set_filetype(e.get(), AE_IFLNK);
        archive_entry_set_perm(e.get(), 0777);
        archive_entry_set_symlink(e.get(), entry.data.c_str());
        break;
      case TarEntry::Kind::hardlink:
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_perm(e.get(), 0644);
        archive_entry_set_hardlink(e.get(), entry.data.c_str());
        break;
    }
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) throw std::runtime_error(archive_error_string(a.get()));
    if (!entry.data.empty() && entry.kind == TarEntry::Kind::file)
      archive_write_data(a.get(), entry.data.data(), entry.data.size());
  }
  archive_write_close(a.get());
  return out;
}

/// @p data compressed as a single stream (not a tar) with @p filter.
inline std::string compressed(std::string_view data, Filter filter) {
  std::string out;
  const auto a = writer_into(out, filter, false);
  std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_write_header(a.get(), e.get());
  archive_write_data(a.get(), data.data(), data.size());
  archive_write_close(a.get());
  return out;
}

/// What a tar holds: entry name → content (files) or "-> target" (symlinks) or "<dir>".
inline std::map<std::string, std::string> read_tar(const fs::path& path) {
  std::map<std::string, std::string> out;
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK)
    throw std::runtime_error(archive_error_string(a.get()));
  archive_entry* e = nullptr;
  while (archive_read_next_header(a.get(), &e) == ARCHIVE_OK) {
    std::string name = archive_entry_pathname(e);
    if (archive_entry_filetype(e) == AE_IFLNK) {
      out[name] = std::string("-> ") + archive_entry_symlink(e);
    } else if (archive_entry_filetype(e) == AE_IFDIR) {
      out[name] = "<dir>";
    } else {
      std::string data(static_cast<std::size_t>(archive_entry_size(e)), '\0');
      archive_read_data(a.get(), data.data(), data.size());
      out[name] = data;
    }
  }
  return out;
}

/// A rootfs-like tar of a few files (uncompressed), the same bytes every time.
inline std::string rootfs_tar(const std::string& marker) {
  return make_tar({{"bin/app", "#!/bin/sh\necho " + marker + "\n"}, {"etc/marker", marker + "\n"}}, false);
}

/// A minimal image config JSON with @p diff_ids.
inline std::string config_json(const std::vector<knast::Digest>& diff_ids, const std::string& label = "x") {
  knast::ImageConfig config;
  config.architecture = "amd64";
  config.os = "linux";
  config.config.labels["test"] = label;
  config.diff_ids = diff_ids;
  return config.to_json();
}

/// Whether a tool is on the PATH.
inline bool have_tool(const std::string& name) { return run("command -v " + name + " >/dev/null") == 0; }

/// The names in a store, for "nothing changed" checks.
inline std::vector<std::string> names_in(const ImageStore& store) {
  std::vector<std::string> names;
  for (const auto& summary : store.list()) names.push_back(summary.name);
  return names;
}

}  // namespace archive_test
