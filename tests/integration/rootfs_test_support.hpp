// Helpers shared by the rootfs_apply_*_test.cpp integration tests: layers written entry by
// entry with libarchive (every kind of entry, hostile ones included, any compression),
// trees described without following a single symlink, and a canary folder outside the
// root whose description must never change.
#pragma once

#include "archive_test_support.hpp"

#include "rootfs/in_root.hpp"
#include "rootfs/tree_remove.hpp"

#include <knast/digest.hpp>
#include <knast/rootfs.hpp>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rootfs_test {

namespace fs = std::filesystem;
using archive_test::Filter;
using knast::ApplyOptions;
using knast::ApplyReport;
using knast::ErrorCode;

/// A folder removed on destruction with knast's own no-follow removal.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "knast-rootfs-test.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    try {
      knast::detail::delete_tree(path_);
    } catch (...) {
    }
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

/// One entry of a test layer. Defaults: mode 0644 (files) / 0755 (dirs), owner 0:0,
/// mtime 1700000000.
struct Entry {
  enum class Kind { file, dir, symlink, hardlink, fifo, chardev, blockdev } kind = Kind::file;
  std::string name;
  std::string data;  ///< File content, or link target.
  int mode = -1;     ///< -1: the kind's default.
  std::int64_t uid = 0;
  std::int64_t gid = 0;
  std::int64_t mtime = 1700000000;
  std::vector<std::pair<std::string, std::string>> xattrs;
  unsigned major = 0, minor = 0;
  std::optional<std::int64_t> declared_size;       ///< A header size that lies.
  std::vector<std::pair<std::int64_t, std::int64_t>> sparse;  ///< Data regions (offset, length) of a sparse file.

  Entry& with_mode(int m) { mode = m; return *this; }
  Entry& owned(std::int64_t u, std::int64_t g) { uid = u; gid = g; return *this; }
  Entry& at(std::int64_t t) { mtime = t; return *this; }
  Entry& xattr(std::string key, std::string value) { xattrs.emplace_back(std::move(key), std::move(value)); return *this; }
};

inline Entry make_entry(Entry::Kind kind, std::string name, std::string data = {}) {
  Entry e;
  e.kind = kind;
  e.name = std::move(name);
  e.data = std::move(data);
  return e;
}
inline Entry file(std::string name, std::string data = {}) { return make_entry(Entry::Kind::file, std::move(name), std::move(data)); }
inline Entry dir(std::string name) { return make_entry(Entry::Kind::dir, std::move(name)); }
inline Entry sym(std::string name, std::string target) { return make_entry(Entry::Kind::symlink, std::move(name), std::move(target)); }
inline Entry hard(std::string name, std::string target) { return make_entry(Entry::Kind::hardlink, std::move(name), std::move(target)); }
inline Entry fifo(std::string name) { return make_entry(Entry::Kind::fifo, std::move(name)); }
inline Entry chardev(std::string name, unsigned major, unsigned minor) {
  Entry e = make_entry(Entry::Kind::chardev, std::move(name));
  e.major = major;
  e.minor = minor;
  return e;
}
/// `.wh.NAME` beside NAME.
inline Entry whiteout(const std::string& path) {
  const auto slash = path.rfind('/');
  return file(slash == std::string::npos ? ".wh." + path : path.substr(0, slash + 1) + ".wh." + path.substr(slash + 1));
}
/// The opaque marker of @p folder.
inline Entry opaque(const std::string& folder) { return file(folder.empty() ? ".wh..wh..opq" : folder + "/.wh..wh..opq"); }

/// The tar formats a test layer can be written in.
enum class TarFormat { pax_restricted, pax, gnu };

/// The bytes of a tar of @p entries in @p format (pax when an entry is sparse: only pax
/// headers say where the holes are) compressed with @p filter. Names are written exactly
/// as given.
inline std::string layer_bytes(const std::vector<Entry>& entries, Filter filter = Filter::none,
                               TarFormat format = TarFormat::pax_restricted) {
  if (std::any_of(entries.begin(), entries.end(), [](const Entry& e) { return !e.sparse.empty(); }))
    format = TarFormat::pax;
  std::string out;
  archive_test::WriteHandle a(archive_write_new(), archive_write_free);
  switch (format) {
    case TarFormat::pax_restricted: archive_write_set_format_pax_restricted(a.get()); break;
    case TarFormat::pax: archive_write_set_format_pax(a.get()); break;
    case TarFormat::gnu: archive_write_set_format_gnutar(a.get()); break;
  }
  archive_test::add_filter(a.get(), filter);
  archive_write_set_bytes_in_last_block(a.get(), 1);
  const auto append = [](archive*, void* sink, const void* data, std::size_t size) -> la_ssize_t {
    static_cast<std::string*>(sink)->append(static_cast<const char*>(data), size);
    return static_cast<la_ssize_t>(size);
  };
  if (archive_write_open(a.get(), &out, nullptr, append, nullptr) != ARCHIVE_OK)
    throw std::runtime_error(archive_error_string(a.get()));
  for (const auto& entry : entries) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), entry.name.c_str());
    archive_entry_set_mtime(e.get(), entry.mtime, 0);
    archive_entry_set_uid(e.get(), entry.uid);
    archive_entry_set_gid(e.get(), entry.gid);
    for (const auto& [key, value] : entry.xattrs)
      archive_entry_xattr_add_entry(e.get(), key.c_str(), value.data(), value.size());
    std::int64_t size = 0;
    switch (entry.kind) {
      case Entry::Kind::file:
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_perm(e.get(), static_cast<mode_t>(entry.mode < 0 ? 0644 : entry.mode));
        size = static_cast<std::int64_t>(entry.data.size());
        if (!entry.sparse.empty()) {
          archive_entry_set_size(e.get(), size);  // libarchive drops regions beyond the size
          for (const auto& [offset, length] : entry.sparse) archive_entry_sparse_add_entry(e.get(), offset, length);
        }
        break;
      case Entry::Kind::dir:
        archive_entry_set_filetype(e.get(), AE_IFDIR);
        archive_entry_set_perm(e.get(), static_cast<mode_t>(entry.mode < 0 ? 0755 : entry.mode));
        break;
      case Entry::Kind::symlink:
        archive_entry_set_filetype(e.get(), AE_IFLNK);
        archive_entry_set_perm(e.get(), 0777);
        archive_entry_set_symlink(e.get(), entry.data.c_str());
        break;
      case Entry::Kind::hardlink:
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_perm(e.get(), static_cast<mode_t>(entry.mode < 0 ? 0644 : entry.mode));
        archive_entry_set_hardlink(e.get(), entry.data.c_str());
        break;
      case Entry::Kind::fifo:
        archive_entry_set_filetype(e.get(), AE_IFIFO);
        archive_entry_set_perm(e.get(), static_cast<mode_t>(entry.mode < 0 ? 0644 : entry.mode));
        break;
      case Entry::Kind::chardev:
      case Entry::Kind::blockdev:
        archive_entry_set_filetype(e.get(), entry.kind == Entry::Kind::chardev ? AE_IFCHR : AE_IFBLK);
        archive_entry_set_perm(e.get(), static_cast<mode_t>(entry.mode < 0 ? 0666 : entry.mode));
        archive_entry_set_rdevmajor(e.get(), entry.major);
        archive_entry_set_rdevminor(e.get(), entry.minor);
        break;
    }
    archive_entry_set_size(e.get(), entry.declared_size.value_or(size));
    if (archive_write_header(a.get(), e.get()) < ARCHIVE_WARN)
      throw std::runtime_error(std::string("write header: ") + archive_error_string(a.get()));
    // A sparse file is given whole; the writer leaves the holes out.
    if (entry.kind == Entry::Kind::file && !entry.data.empty()) {
      archive_write_data(a.get(), entry.data.data(), entry.data.size());
    }
  }
  archive_write_close(a.get());
  return out;
}

/// Writes @p bytes to @p path and returns it.
inline fs::path write_layer(const fs::path& path, std::string_view bytes) {
  store_test::spit(path, bytes);
  return path;
}

/// What tree() shows of times.
enum class Times { none, all_but_directories, all };

/// A description of one object, read with lstat (never following): kind, mode, owner,
/// and content (files: size and sha256; links: target; devices: numbers), plus the mtime
/// as @p times says.
inline std::string describe(const fs::path& path, const struct stat& st, Times times) {
  std::string text;
  if (S_ISREG(st.st_mode)) {
    text = fmt::format("file {}", knast::Digest::of(store_test::slurp(path)).hex().substr(0, 16));
    text += fmt::format(" size={}", st.st_size);
  } else if (S_ISDIR(st.st_mode)) {
    text = "dir";
  } else if (S_ISLNK(st.st_mode)) {
    text = "symlink -> " + fs::read_symlink(path).string();
  } else if (S_ISFIFO(st.st_mode)) {
    text = "fifo";
  } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    text = fmt::format("{} {}:{}", S_ISCHR(st.st_mode) ? "chardev" : "blockdev", major(st.st_rdev), minor(st.st_rdev));
  } else {
    text = "other";
  }
  if (!S_ISLNK(st.st_mode)) text += fmt::format(" mode={:04o}", st.st_mode & 07777);
  text += fmt::format(" owner={}:{}", st.st_uid, st.st_gid);
  if (times == Times::all || (times == Times::all_but_directories && !S_ISDIR(st.st_mode)))
    text += fmt::format(" mtime={}", st.st_mtim.tv_sec);
  return text;
}

/// Every object under @p root (relative path → describe()), walked without following
/// any symlink; hard links show as "link#N" with N shared by the names of one file.
/// Directory times are left out unless asked for (creating entries changes them).
inline std::map<std::string, std::string> tree(const fs::path& root, bool with_times = true, bool with_dir_times = false) {
  const Times times = !with_times ? Times::none : with_dir_times ? Times::all : Times::all_but_directories;
  std::map<std::string, std::string> out;
  std::map<std::pair<dev_t, ino_t>, std::string> first_name;
  std::vector<std::pair<fs::path, struct stat>> objects;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) throw std::runtime_error("lstat " + it->path().string());
    objects.emplace_back(it->path(), st);
  }
  std::sort(objects.begin(), objects.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [path, st] : objects) {
    const auto rel = path.lexically_relative(root).string();  // fs::relative would follow links
    std::string text = describe(path, st, times);
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      const auto [it, fresh] = first_name.emplace(std::make_pair(st.st_dev, st.st_ino), rel);
      text += " link#" + it->second;
    }
    out[rel] = text;
  }
  return out;
}

/// A folder outside the root that hostile layers aim at: a few files, a symlink and a
/// subfolder. describe() of it must never change.
class Canary {
 public:
  explicit Canary(const fs::path& where) : path_(where) {
    fs::create_directories(path_ / "sub");
    store_test::spit(path_ / "passwd", "root:x:0:0::/root:/bin/sh\n");
    store_test::spit(path_ / "sub" / "data", "canary data\n");
    fs::create_symlink("passwd", path_ / "link");
    before_ = tree(path_);
  }
  const fs::path& path() const { return path_; }
  /// Whether the canary is exactly as it was made.
  bool untouched() const { return tree(path_) == before_; }
  /// What changed, for a failure message.
  std::string changes() const {
    std::string text;
    const auto now = tree(path_);
    for (const auto& [k, v] : now) if (!before_.contains(k) || before_.at(k) != v) text += "changed/added " + k + "\n";
    for (const auto& [k, v] : before_) if (!now.contains(k)) text += "removed " + k + "\n";
    return text;
  }

 private:
  fs::path path_;
  std::map<std::string, std::string> before_;
};

/// apply_layer() of the bytes @p bytes written to a file in @p scratch.
inline ApplyReport apply_bytes(const fs::path& root, const ScratchDir& scratch, std::string_view bytes,
                               const ApplyOptions& options = {}, std::string_view media_type = {}) {
  static int counter = 0;
  const auto layer = write_layer(scratch / fmt::format("layer-{}.tar", ++counter), bytes);
  return knast::apply_layer(root, layer, options, media_type);
}

}  // namespace rootfs_test
