#include "rootfs/elf_index.hpp"

#include "image_store/posix_io.hpp"

#include <knast/error.hpp>

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

constexpr std::string_view header = "knast-elf-index 1\n";
// The flags word of a record (elf_index.hpp).
constexpr std::uint64_t elf_flag = 1;
constexpr std::uint64_t header_flag = 2;
constexpr std::uint64_t class64_flag = 4;
constexpr int osabi_shift = 8;
constexpr int type_shift = 16;

std::uint64_t flags_of(const IndexedContent& content) noexcept {
  if (!content.elf) return 0;
  if (!content.header) return elf_flag;
  const ElfHeaderFacts& h = *content.header;
  return elf_flag | header_flag | (h.bits == 64 ? class64_flag : 0) |
         (std::uint64_t{h.osabi} << osabi_shift) | (std::uint64_t{h.type} << type_shift);
}

IndexedContent content_of(std::uint64_t flags) noexcept {
  IndexedContent content{(flags & elf_flag) != 0, std::nullopt};
  if (content.elf && (flags & header_flag) != 0)
    content.header = ElfHeaderFacts{static_cast<std::uint8_t>((flags & class64_flag) != 0 ? 64 : 32),
                                    static_cast<std::uint8_t>(flags >> osabi_shift),
                                    static_cast<std::uint16_t>(flags >> type_shift)};
  return content;
}
// An index lists at most every file of a tree; this bounds what a load reads (4.7
// million files).
constexpr std::size_t max_index_bytes = std::size_t{256} << 20;

}  // namespace

static_assert(sizeof(ElfIndex::Record) == 7 * sizeof(std::uint64_t), "no padding in an index record");

FileIdentity identity_of(const struct stat& st) noexcept {
  return {static_cast<std::uint64_t>(st.st_ino),   static_cast<std::uint64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_ctim.tv_sec), static_cast<std::int64_t>(st.st_ctim.tv_nsec),
          static_cast<std::int64_t>(st.st_mtim.tv_sec), static_cast<std::int64_t>(st.st_mtim.tv_nsec)};
}

void append_elf_index(const std::filesystem::path& path, std::span<const ElfIndexEntry> entries) {
  if (entries.empty()) return;
  UniqueFd fd = open_file(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0644);
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) throw Error(errno, "stat ELF index " + path.string());
  std::string bytes;
  bytes.reserve(header.size() + entries.size() * sizeof(ElfIndex::Record));
  if (st.st_size == 0) bytes += header;
  for (const auto& entry : entries) {
    const ElfIndex::Record record{entry.file, flags_of(entry.content)};
    bytes.append(reinterpret_cast<const char*>(&record), sizeof record);
  }
  write_all(fd, bytes.data(), bytes.size(), path);
}

ElfIndex ElfIndex::load(const std::filesystem::path& path) {
  UniqueFd fd = open_if_exists(path, O_RDONLY | O_NOFOLLOW);
  if (!fd) throw Error(ErrorCode::not_found, "no ELF index at " + path.string());
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) throw Error(errno, "stat the ELF index " + path.string());
  if (static_cast<std::uint64_t>(st.st_size) > max_index_bytes)
    throw Error(ErrorCode::limit_exceeded, path.string() + " is larger than an ELF index can be");
  std::string head(header.size(), '\0');
  head.resize(read_fully_at(fd.get(), head.data(), head.size(), 0));
  ElfIndex index;
  // An apply killed before its first append reached the disk leaves an empty or torn
  // header: an index with nothing in it yet.
  if (head.size() < header.size() && header.starts_with(head)) return index;
  if (head != header)
    throw Error(ErrorCode::invalid_argument, path.string() + " is not an ELF index (it does not start with \"" +
                                                 std::string(header.substr(0, header.size() - 1)) + "\")");
  // Read straight into the records (a torn tail is dropped): the index is read on every
  // brand, before its walk can start.
  const auto body = static_cast<std::size_t>(st.st_size) - header.size();
  index.records_.resize(body / sizeof(Record));
  const std::size_t want = index.records_.size() * sizeof(Record);
  if (read_fully_at(fd.get(), index.records_.data(), want, header.size()) != want)
    throw Error(ErrorCode::io, path.string() + " shrank while it was read");
  if (index.records_.empty()) return index;
  // At most half full, so probes stay short.
  std::size_t capacity = 16;
  while (capacity < 2 * index.records_.size()) capacity *= 2;
  index.slots_.assign(capacity, 0);
  for (std::uint32_t number = 0; number < index.records_.size(); ++number) {
    const FileIdentity& id = index.records_[number].file;
    for (std::size_t slot = hash(id) & (capacity - 1);; slot = (slot + 1) & (capacity - 1)) {
      if (index.slots_[slot] == 0) {
        index.slots_[slot] = number + 1;
        break;
      }
      if (index.records_[index.slots_[slot] - 1].file == id) break;  // listed twice: one is enough
    }
    if ((index.records_[number].flags & elf_flag) != 0) index.elf_inodes_.push_back(id.inode);
  }
  std::sort(index.elf_inodes_.begin(), index.elf_inodes_.end());
  return index;
}

bool ElfIndex::lists_elf_inode(std::uint64_t inode) const noexcept {
  return std::binary_search(elf_inodes_.begin(), elf_inodes_.end(), inode);
}

std::optional<IndexedContent> ElfIndex::look_up(const struct stat& st) const {
  if (!S_ISREG(st.st_mode) || empty()) return std::nullopt;
  const FileIdentity id = identity_of(st);
  return probe(id, first_slot(id));
}

std::vector<std::optional<IndexedContent>> ElfIndex::look_up(std::span<const struct stat> files) const {
  std::vector<std::optional<IndexedContent>> found(files.size());
  if (empty()) return found;
  // Three passes: ask for every file's first slot, then for the records those name, and
  // only then compare, when most of what the comparisons read has arrived.
  std::vector<FileIdentity> ids(files.size());
  std::vector<std::size_t> first(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    ids[i] = identity_of(files[i]);
    first[i] = first_slot(ids[i]);
    __builtin_prefetch(&slots_[first[i]]);
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (const std::uint32_t number = slots_[first[i]]; number != 0) {
      const auto* record = reinterpret_cast<const char*>(&records_[number - 1]);
      __builtin_prefetch(record);
      __builtin_prefetch(record + sizeof(Record) - 1);  // a record can straddle two cache lines
    }
  }
  for (std::size_t i = 0; i < files.size(); ++i)
    if (S_ISREG(files[i].st_mode)) found[i] = probe(ids[i], first[i]);
  return found;
}

std::optional<IndexedContent> ElfIndex::probe(const FileIdentity& id, std::size_t from) const {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t slot = from; slots_[slot] != 0; slot = (slot + 1) & mask) {
    const Record& r = records_[slots_[slot] - 1];
    if (r.file == id) return content_of(r.flags);
  }
  return std::nullopt;
}

std::uint64_t ElfIndex::hash(const FileIdentity& id) noexcept {
  // Inode numbers are unique within the tree at any moment; ctime separates their reuse.
  // splitmix64's finaliser spreads the mostly sequential inode numbers over the table.
  std::uint64_t x =
      id.inode ^ (static_cast<std::uint64_t>(id.ctime_nsec) << 21) ^ static_cast<std::uint64_t>(id.ctime_sec);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
