#include "image_store/archive_reader.hpp"

#include "oci/json_reader.hpp"

#include <fmt/format.h>

#include <archive.h>
#include <archive_entry.h>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

// Passes that only look at headers or read small documents use small blocks, so that
// seeking over large entries does not read them anyway; streaming passes use large ones.
constexpr std::size_t scan_block_bytes = std::size_t{64} << 10;

// The scan keeps small files (configs, manifests, indexes) in memory, up to a total,
// so that reading the documents an archive's metadata names needs no further pass: one
// pass less over an archive compressed as a whole means one decompression less.
constexpr std::size_t max_kept_file_bytes = std::size_t{256} << 10;
constexpr std::size_t max_kept_bytes = std::size_t{16} << 20;

// A chain of links longer than this is taken for a loop.
constexpr int max_link_hops = 16;

std::string entry_name(archive_entry* entry) {
  const char* name = archive_entry_pathname(entry);
  if (!name) name = archive_entry_pathname_utf8(entry);
  if (!name) throw Error(ErrorCode::invalid_argument, "an entry has a name that cannot be read");
  return name;
}

std::string entry_context(std::string_view name) { return fmt::format("entry {}", quote_text(name)); }

ArchiveEntry describe(const std::string& name, archive_entry* entry) {
  ArchiveEntry out;
  if (const char* target = archive_entry_hardlink(entry)) {
    out.kind = EntryKind::hardlink;
    out.link = normalize_archive_path(target, "hard link target");
    return out;
  }
  switch (archive_entry_filetype(entry)) {
    case AE_IFREG:
      out.kind = EntryKind::file;
      out.size = static_cast<std::uint64_t>(std::max<la_int64_t>(archive_entry_size(entry), 0));
      break;
    case AE_IFDIR:
      out.kind = EntryKind::directory;
      break;
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(entry);
      out.kind = EntryKind::symlink;
      out.link = resolve_link_target(name, target ? target : "");
      break;
    }
    default:
      out.kind = EntryKind::other;
  }
  return out;
}

}  // namespace

void ArchiveFile::pass(std::size_t block_bytes,
                       const std::function<void(const std::string&, archive*, archive_entry*)>& visit) {
  const auto reader = new_archive_reader();
  archive* a = reader.get();
  // A docker archive may be compressed as a whole (`docker save | gzip`, which docker
  // load accepts); the entries are tar in any case.
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  if (archive_read_open_filename(a, path_.c_str(), block_bytes) != ARCHIVE_OK) throw archive_error(a, "open archive");
  archive_entry* entry = nullptr;
  for (;;) {
    const int status = archive_read_next_header(a, &entry);
    if (status == ARCHIVE_EOF) return;
    if (status < ARCHIVE_WARN) throw archive_error(a, "read archive");
    const auto name = normalize_archive_path(entry_name(entry), "entry");
    if (name.empty()) continue;  // "./", the archive's root folder
    try {
      visit(name, a, entry);
    } catch (const Error& e) {
      throw e.with_context(entry_context(name));
    }
  }
}

void ArchiveFile::record(const std::string& name, archive_entry* entry) {
  auto described = describe(name, entry);
  const auto [it, inserted] = entries_.try_emplace(name, described);
  // A name given twice is ambiguous (tar says the last wins, some readers take the
  // first): refuse rather than guess, except for folders, which carry no data.
  if (!inserted && !(it->second.kind == EntryKind::directory && described.kind == EntryKind::directory))
    throw Error(ErrorCode::invalid_argument, "appears twice in the archive");
}

std::string ArchiveFile::read_document(std::uint64_t size, std::size_t limit, archive* reader) {
  if (size > limit)
    throw Error(ErrorCode::limit_exceeded, fmt::format("is {} bytes, over the limit of {} bytes", size, limit));
  std::string out(static_cast<std::size_t>(size), '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    const auto n = archive_read_data(reader, out.data() + done, out.size() - done);
    if (n < 0) throw archive_error(reader, "read");
    if (n == 0) throw Error(ErrorCode::invalid_argument, fmt::format("ends after {} of {} bytes", done, size));
    done += static_cast<std::size_t>(n);
  }
  return out;
}

ArchiveFile::Documents ArchiveFile::scan(const DocumentLimits& wanted) {
  entries_.clear();
  small_files_.clear();
  std::size_t kept_bytes = 0;
  Documents documents;
  pass(scan_block_bytes, [&](const std::string& name, archive* a, archive_entry* entry) {
    record(name, entry);
    const auto& found = entries_.at(name);
    if (found.kind != EntryKind::file) return;
    const auto limit = wanted.find(name);
    const bool keep = found.size <= max_kept_file_bytes && kept_bytes + found.size <= max_kept_bytes;
    if (limit == wanted.end() && !keep) return;
    auto bytes = read_document(found.size, limit == wanted.end() ? max_kept_file_bytes : limit->second, a);
    if (keep) {
      kept_bytes += bytes.size();
      small_files_.emplace(name, bytes);
    }
    if (limit != wanted.end()) documents.emplace(name, std::move(bytes));
  });
  return documents;
}

std::string ArchiveFile::regular_file(std::string_view name) const {
  std::string current(name);
  for (int hop = 0; hop <= max_link_hops; ++hop) {
    const auto through = current == name ? std::string() : fmt::format(" (reached through links from {})", quote_text(name));
    const auto it = entries_.find(current);
    if (it == entries_.end())
      throw Error(ErrorCode::invalid_argument, fmt::format("{}{} is not in the archive", quote_text(current), through));
    switch (it->second.kind) {
      case EntryKind::file:
        return current;
      case EntryKind::symlink:
      case EntryKind::hardlink:
        current = it->second.link;
        break;
      case EntryKind::directory:
      case EntryKind::other:
        throw Error(ErrorCode::invalid_argument, fmt::format("{}{} is not a regular file", quote_text(current), through));
    }
  }
  throw Error(ErrorCode::invalid_argument, fmt::format("{}: too many levels of links", quote_text(name)));
}

ArchiveFile::Documents ArchiveFile::read(const DocumentLimits& wanted) {
  Documents documents;
  DocumentLimits missing;
  for (const auto& [name, limit] : wanted) {
    const auto kept = small_files_.find(name);
    if (kept == small_files_.end()) {
      missing.emplace(name, limit);
    } else if (kept->second.size() > limit) {
      throw Error(ErrorCode::limit_exceeded, fmt::format("{}: is {} bytes, over the limit of {} bytes",
                                                         entry_context(name), kept->second.size(), limit));
    } else {
      documents.emplace(name, kept->second);
    }
  }
  if (missing.empty()) return documents;  // no pass needed
  pass(scan_block_bytes, [&](const std::string& name, archive* a, archive_entry*) {
    if (const auto limit = missing.find(name); limit != missing.end())
      documents.emplace(name, read_document(size_of(name), limit->second, a));
  });
  for (const auto& [name, limit] : missing)
    if (!documents.contains(name))
      throw Error(ErrorCode::invalid_argument, fmt::format("{}: vanished from the archive while it was read",
                                                           entry_context(name)));
  return documents;
}

void ArchiveFile::stream(const std::set<std::string, std::less<>>& wanted, const Consumer& consume) {
  std::set<std::string, std::less<>> seen;
  pass(stream_chunk_bytes, [&](const std::string& name, archive* a, archive_entry*) {
    if (!wanted.contains(name) || !seen.insert(name).second) return;
    EntrySource data(a, size_of(name));
    consume(name, size_of(name), data);
  });
  for (const auto& name : wanted)
    if (!seen.contains(name))
      throw Error(ErrorCode::invalid_argument, fmt::format("{}: vanished from the archive while it was read",
                                                           entry_context(name)));
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
