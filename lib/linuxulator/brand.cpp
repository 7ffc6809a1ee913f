// brand_tree(): ELF branding of a whole tree, in place. The walk (tree_walk.cpp) hands
// each directory's regular files to TreeBrander::visit(), which inspects every file (a
// stat and the ELF index where there is one, a few preads where the index cannot tell),
// then for the files to change appends their old bytes to the record and only then
// writes the new byte.
#include "linuxulator/brand_record.hpp"
#include "linuxulator/elf_inspect.hpp"
#include "linuxulator/root_paths.hpp"
#include "linuxulator/tree_walk.hpp"
#include "rootfs/elf_index.hpp"

#include "core/unique_fd.hpp"
#include "image_store/posix_io.hpp"
#include "platform/fs.hpp"

#include <knast/error.hpp>
#include <knast/linuxulator.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

namespace knast {
inline namespace v0 {
namespace {

namespace fs = std::filesystem;
using detail::BrandNeed;
using detail::ElfFacts;
using detail::UniqueFd;

constexpr std::size_t max_reported_skips = 100;
// Files of one directory whose bytes are written together after one record append; it
// bounds the descriptors a thread holds. Small, because a process with threads whose
// descriptor table outgrows its size waits a whole RCU grace period on Linux
// (expand_fdtable): batches of 128 open files grew the table twice per run and stalled
// both threads for 10-25 ms each time, a fifth of branding's time (bench/RESULTS.md).
constexpr std::size_t write_batch = 16;
constexpr mode_t any_exec = S_IXUSR | S_IXGRP | S_IXOTH;
constexpr mode_t set_id_bits = S_ISUID | S_ISGID;

unsigned default_threads() {
  return std::clamp(std::thread::hardware_concurrency(), 2u, 8u);
}

void write_osabi(int fd, std::uint8_t value) {
  for (;;) {
    const ssize_t n = ::pwrite(fd, &value, 1, static_cast<off_t>(detail::elf_osabi_offset));
    if (n == 1) return;
    if (n < 0 && errno == EINTR) continue;
    throw Error(n < 0 ? errno : EIO, std::string("write EI_OSABI: ") + std::strerror(n < 0 ? errno : EIO));
  }
}

// Puts back what writing one byte changed besides the byte: the times (pwrite updates
// mtime) and set-id bits (a write by a non-root user clears them on Linux and FreeBSD).
void keep_times_and_mode(int fd, const struct stat& before) {
  const struct timespec times[2] = {before.st_atim, before.st_mtim};
  if (::futimens(fd, times) != 0) throw Error(errno, std::string("restore times: ") + std::strerror(errno));
  if ((before.st_mode & set_id_bits) != 0 && ::fchmod(fd, before.st_mode & 07777) != 0)
    throw Error(errno, std::string("restore mode: ") + std::strerror(errno));
}

std::string why_not_writable(int err) {
  switch (err) {
    case EROFS: return "read-only file system";
    case ETXTBSY: return "the file is being executed";
    default: return std::string("cannot open for writing: ") + std::strerror(err);
  }
}

class TreeBrander {
 public:
  TreeBrander(const BrandOptions& options, const KernelFacts& kernel, detail::BrandRecordWriter* record,
              const detail::ElfIndex& index)
      : options_(options), kernel_(kernel), record_(record), index_(index) {}

  void visit(int dirfd, const std::string& rel_dir, const std::vector<detail::WalkFile>& files) {
    Batch batch;
    const std::vector<Indexed> indexed = look_up(dirfd, files);
    for (std::size_t i = 0; i < files.size(); ++i) {
      inspect(dirfd, files[i], indexed[i], rel_dir, batch);
      if (batch.writes.size() >= write_batch) write(dirfd, batch);
    }
    write(dirfd, batch);
    merge(batch);
  }

  void skip(const std::string& rel, const std::string& reason) {
    std::lock_guard lock(mutex_);
    ++report_.skipped;
    report_.skips.push_back({rel, reason});
  }

  BrandReport finish() {
    std::sort(report_.skips.begin(), report_.skips.end(),
              [](const BrandSkip& a, const BrandSkip& b) { return a.path < b.path; });
    if (report_.skips.size() > max_reported_skips) report_.skips.resize(max_reported_skips);
    return std::move(report_);
  }

 private:
  struct Write {
    std::string name;
    std::string rel;
    std::uint8_t original = 0;
    struct stat before {};
    UniqueFd fd;  // open for writing since the inspection, or none yet
  };
  struct Batch {
    BrandReport counts;
    std::vector<Write> writes;
  };

  // O_NONBLOCK: an entry swapped for a fifo since readdir must not hang the walk. No
  // access-time update: reading the header is not a use of the file, and on a freshly
  // unpacked tree (atime <= mtime) relatime would otherwise write every inode, a sixth of
  // the time branding took on ext4 (bench/RESULTS.md, brand).
  static UniqueFd open_to_read(int dirfd, const std::string& name, int access) {
    const int flags = access | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    return UniqueFd(platform::openat_without_atime(dirfd, name.c_str(), flags));
  }

  // What the ELF index says of one file before it is opened.
  struct Indexed {
    bool listed_as_elf = false;  // an entry that says ELF has the inode its directory entry shows
    std::optional<detail::IndexedContent> by_name;  // for any other file: what its stat by name finds
  };

  // What the ELF index says of each of @p files. A file listed as ELF by its inode is
  // opened straight away and looked up by the fstat of its descriptor (inspect()): most
  // of those are ELF, and this spares each a stat by name. Every other file is stat'ed
  // by name here, for the price the walk's floor pays, and all are looked up together.
  // Nothing is paid without an index.
  std::vector<Indexed> look_up(int dirfd, const std::vector<detail::WalkFile>& files) const {
    std::vector<Indexed> indexed(files.size());
    if (index_.empty()) return indexed;
    std::vector<struct stat> stats(files.size());  // zeroed: none taken
    for (std::size_t i = 0; i < files.size(); ++i) {
      indexed[i].listed_as_elf = index_.lists_elf_inode(files[i].inode);
      if (!indexed[i].listed_as_elf && ::fstatat(dirfd, files[i].name.c_str(), &stats[i], AT_SYMLINK_NOFOLLOW) != 0)
        stats[i] = {};
    }
    auto found = index_.look_up(stats);
    for (std::size_t i = 0; i < files.size(); ++i) indexed[i].by_name = std::move(found[i]);
    return indexed;
  }

  // What branding needs to know of the open file @p fd, which the index may know as
  // @p indexed. Mode `all` needs no more than the header, which the index may hold: then
  // the file is not read at all.
  ElfFacts facts_of_file(int fd, const std::optional<detail::IndexedContent>& indexed) const {
    if (indexed && indexed->header && options_.mode == BrandMode::all) return detail::facts_of(*indexed->header);
    return detail::inspect_elf(
        [fd](void* buffer, std::size_t size, std::uint64_t offset) {
          return detail::read_fully_at(fd, buffer, size, offset);
        },
        options_.mode == BrandMode::automatic);
  }

  void inspect(int dirfd, const detail::WalkFile& file, const Indexed& index_says, const std::string& rel_dir,
               Batch& batch) {
    const std::string& name = file.name;
    if (index_says.by_name && !index_says.by_name->elf) {  // not opened at all
      ++batch.counts.scanned;
      ++batch.counts.known_not_elf;
      return;
    }
    const bool indexed_file = index_says.listed_as_elf || index_says.by_name;  // what the index may know as ELF
    // Such a file is opened for writing at once, sparing the write a second open; where
    // that is refused the read-only open below finds out why later.
    UniqueFd fd;
    if (indexed_file && options_.operation == BrandOperation::brand) fd = open_to_read(dirfd, name, O_RDWR);
    const bool writable = static_cast<bool>(fd);
    if (!fd) fd = open_to_read(dirfd, name, O_RDONLY);
    if (!fd) {
      if (errno == ELOOP || errno == EMLINK || errno == ENOENT) return;  // became a symlink or vanished
      add_skip(batch, detail::join_relative(rel_dir, name), std::string("cannot open: ") + std::strerror(errno));
      return;
    }
    ++batch.counts.scanned;
    // What the index says is trusted only as looked up by the descriptor's stat: the
    // name may have been given to another file since it was stat'ed.
    struct stat st{};
    std::optional<detail::IndexedContent> indexed;
    if (indexed_file) {
      if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return;
      indexed = index_.look_up(st);
      if (indexed && !indexed->elf) {  // an inode reused for a file the index knows
        ++batch.counts.known_not_elf;
        return;
      }
    }
    const std::string rel = detail::join_relative(rel_dir, name);  // for reports and the record
    ElfFacts facts;
    try {
      facts = facts_of_file(fd.get(), indexed);
    } catch (const Error& e) {
      add_skip(batch, rel, e.what());
      return;
    }
    if (facts.kind == ElfFacts::Kind::not_elf) return;
    if (facts.kind == ElfFacts::Kind::malformed) {
      add_skip(batch, rel, "malformed ELF: " + facts.problem);
      return;
    }
    if (!indexed_file && (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))) return;
    ++batch.counts.elf;
    if (facts.bits == 32) ++batch.counts.elf32;
    const std::optional<int> fallback = facts.bits == 64 ? kernel_.elf64_fallback_brand : kernel_.elf32_fallback_brand;
    switch (detail::brand_need(facts, options_.mode, (st.st_mode & any_exec) != 0, fallback)) {
      case BrandNeed::leave: return;
      case BrandNeed::already: ++batch.counts.already_branded; return;
      case BrandNeed::brand:
        ++batch.counts.needs_brand;
        if (options_.operation == BrandOperation::brand)
          batch.writes.push_back({name, rel, facts.osabi, st, writable ? std::move(fd) : UniqueFd()});
        return;
    }
  }

  // Opens every file of the batch for writing (those not open yet), records the old
  // bytes, then writes.
  void write(int dirfd, Batch& batch) {
    std::vector<Write*> ready;
    std::vector<detail::BrandRecordEntry> entries;
    for (Write& w : batch.writes) {
      if (!w.fd && !open_for_writing(dirfd, w, batch)) continue;
      entries.push_back({w.rel, w.original});
      ready.push_back(&w);
    }
    record_->append(entries);  // before any byte changes (see brand_record.hpp)
    for (Write* w : ready) {
      try {
        write_osabi(w->fd.get(), detail::elf_osabi_linux);
        keep_times_and_mode(w->fd.get(), w->before);
        ++batch.counts.branded;
      } catch (const Error& e) {
        add_skip(batch, w->rel, e.what());
      }
    }
    batch.writes.clear();
  }

  // Opens @p w, inspected read-only, for writing; false (after adding a skip) when it
  // cannot be, or is not the inspected file any more.
  static bool open_for_writing(int dirfd, Write& w, Batch& batch) {
    UniqueFd fd(::openat(dirfd, w.name.c_str(), O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd) {
      add_skip(batch, w.rel, why_not_writable(errno));
      return false;
    }
    struct stat now{};
    if (::fstat(fd.get(), &now) != 0 || now.st_ino != w.before.st_ino || now.st_dev != w.before.st_dev) {
      add_skip(batch, w.rel, "replaced while branding");
      return false;
    }
    w.fd = std::move(fd);
    return true;
  }

  static void add_skip(Batch& batch, const std::string& rel, std::string reason) {
    ++batch.counts.skipped;
    batch.counts.skips.push_back({rel, std::move(reason)});
  }

  void merge(Batch& batch) {
    std::lock_guard lock(mutex_);
    const BrandReport& c = batch.counts;
    report_.scanned += c.scanned;
    report_.elf += c.elf;
    report_.elf32 += c.elf32;
    report_.needs_brand += c.needs_brand;
    report_.branded += c.branded;
    report_.already_branded += c.already_branded;
    report_.skipped += c.skipped;
    report_.known_not_elf += c.known_not_elf;
    report_.skips.insert(report_.skips.end(), c.skips.begin(), c.skips.end());
  }

  const BrandOptions& options_;
  const KernelFacts kernel_;
  detail::BrandRecordWriter* record_;
  const detail::ElfIndex& index_;
  std::mutex mutex_;
  BrandReport report_;
};

UniqueFd open_root(const fs::path& root) {
  UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    if (err == ENOTDIR) throw Error(ErrorCode::invalid_argument, "not a directory");
    throw Error(err, std::string("open: ") + std::strerror(err));
  }
  return fd;
}

// Restores one recorded file; returns false (after adding a skip) when it cannot.
bool restore_one(int root_fd, const detail::BrandRecordEntry& entry, BrandReport& report, bool& can_retry) {
  auto skip = [&](std::string reason, bool retry) {
    ++report.skipped;
    report.skips.push_back({entry.path, std::move(reason)});
    can_retry = can_retry || retry;
    return false;
  };
  UniqueFd fd;
  try {
    fd = detail::open_file_beneath(root_fd, entry.path, O_RDWR | O_NONBLOCK | O_NOCTTY);
  } catch (const Error& e) {
    return skip(e.what(), false);
  }
  if (!fd) {
    const int err = errno;
    if (err == ENOENT) return skip("no longer in the tree", false);
    if (err == ELOOP || err == EMLINK) return skip("now a symlink: left alone", false);
    return skip(why_not_writable(err), true);
  }
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return skip("no longer a regular file", false);
  std::uint8_t ident[16] = {};
  if (detail::read_fully_at(fd.get(), ident, sizeof ident, 0) != sizeof ident || std::memcmp(ident, "\x7f" "ELF", 4) != 0)
    return skip("no longer an ELF file", false);
  if (ident[detail::elf_osabi_offset] != detail::elf_osabi_linux)
    return skip("no longer branded (EI_OSABI is " + std::to_string(ident[detail::elf_osabi_offset]) + ")", false);
  try {
    write_osabi(fd.get(), entry.original);
    keep_times_and_mode(fd.get(), st);
  } catch (const Error& e) {
    return skip(e.what(), true);
  }
  ++report.restored;
  return true;
}

BrandReport undo_branding(const fs::path& root, const fs::path& record) {
  const auto entries = detail::read_brand_record(record);
  UniqueFd root_fd = open_root(root);
  BrandReport report;
  report.record = record;
  bool can_retry = false;
  for (const auto& entry : entries) restore_one(root_fd.get(), entry, report, can_retry);
  // Keep the record when a retry could still restore something (a read-only mount, a
  // busy file); otherwise it has served its purpose.
  if (!can_retry && ::unlink(record.c_str()) != 0 && errno != ENOENT)
    throw Error(errno, "remove brand record " + record.string() + ": " + std::strerror(errno));
  std::sort(report.skips.begin(), report.skips.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  if (report.skips.size() > max_reported_skips) report.skips.resize(max_reported_skips);
  return report;
}

}  // namespace

std::string_view to_string(BrandMode mode) noexcept {
  switch (mode) {
    case BrandMode::automatic: return "auto";
    case BrandMode::all: return "all";
    case BrandMode::none: return "none";
  }
  return "unknown";
}

BrandMode parse_brand_mode(std::string_view name) {
  if (name == "auto") return BrandMode::automatic;
  if (name == "all") return BrandMode::all;
  if (name == "none") return BrandMode::none;
  throw Error(ErrorCode::invalid_argument, "unknown brand mode \"" + std::string(name) + "\": use auto, all or none");
}

fs::path default_brand_record(const fs::path& root) {
  fs::path tree = fs::absolute(root).lexically_normal();
  if (tree.filename().empty()) tree = tree.parent_path();  // "dir/" → "dir"
  return tree.parent_path() / (tree.filename().string() + ".knast-brand.json");
}

BrandReport brand_tree(const fs::path& root, const BrandOptions& options) {
  const fs::path record = options.record.empty() ? default_brand_record(root) : options.record;
  try {
    if (options.operation == BrandOperation::undo) return undo_branding(root, record);

    UniqueFd root_fd = open_root(root);
    const KernelFacts kernel = options.kernel ? *options.kernel : KernelFacts::current();
    const detail::ElfIndex index =
        options.elf_index.empty() ? detail::ElfIndex() : detail::ElfIndex::load(options.elf_index);
    detail::BrandRecordWriter writer(record);
    TreeBrander brander(options, kernel, &writer, index);
    detail::walk_tree(
        root_fd.get(), options.threads == 0 ? default_threads() : options.threads,
        [&](int dirfd, const std::string& rel_dir, const std::vector<detail::WalkFile>& files) {
          brander.visit(dirfd, rel_dir, files);
        },
        [&](const std::string& rel, const std::string& reason) { brander.skip(rel, reason); });
    writer.sync();
    BrandReport report = brander.finish();
    report.record = record;
    report.kernel_fallback = options.mode == BrandMode::automatic && kernel.linux_fallback();
    return report;
  } catch (const Error& e) {
    throw e.with_context(std::string(options.operation == BrandOperation::undo ? "undo branding of " : "brand ") +
                         root.string());
  }
}

std::string to_json(const BrandReport& report) {
  nlohmann::ordered_json skips = nlohmann::ordered_json::array();
  for (const auto& s : report.skips) skips.push_back({{"path", s.path}, {"reason", s.reason}});
  const nlohmann::ordered_json doc = {
      {"scanned", report.scanned},         {"elf", report.elf},
      {"elf32", report.elf32},             {"needs_brand", report.needs_brand},
      {"branded", report.branded},         {"already_branded", report.already_branded},
      {"restored", report.restored},       {"skipped", report.skipped},
      {"known_not_elf", report.known_not_elf},
      {"skips", skips},                    {"kernel_fallback", report.kernel_fallback},
      {"record", report.record.string()},
  };
  return doc.dump(2);
}

}  // namespace v0
}  // namespace knast
