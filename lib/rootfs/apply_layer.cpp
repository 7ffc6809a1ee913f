#include "rootfs/apply_layer.hpp"

#include "core/text.hpp"
#include "image_store/posix_io.hpp"
#include "platform/fs.hpp"
#include "rootfs/apply_names.hpp"
#include "rootfs/in_root.hpp"
#include "rootfs/tree_remove.hpp"
#include "rootfs/tree_walk.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

constexpr std::size_t max_warnings = 100;
constexpr int dir_open_flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;

EntryKey identity(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw Error(errno, "look at a directory being applied into");
  return {st.st_dev, st.st_ino};
}

std::string key_of(const EntryKey& dir, std::string_view name) {
  std::string key;
  key.reserve(sizeof dir.dev + sizeof dir.ino + name.size());
  key.append(reinterpret_cast<const char*>(&dir.dev), sizeof dir.dev);
  key.append(reinterpret_cast<const char*>(&dir.ino), sizeof dir.ino);
  key.append(name);
  return key;
}

std::size_t depth_of(std::string_view path) {
  return path.empty() ? 0 : 1 + static_cast<std::size_t>(std::count(path.begin(), path.end(), '/'));
}

void write_all_at(int fd, const void* data, std::size_t size, std::uint64_t offset) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const auto n = ::pwrite(fd, p, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(errno, "write the file's content");
    }
    p += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
}

// An ELF file's first page is the one branding may later rewrite (EI_OSABI). Written on
// its own, it gets a page-cache folio of its own: Linux gives a large write large folios
// (up to 2 MiB), and ext4 walks every block of a folio to write one byte into it, which
// made branding's write twice as slow (bench/RESULTS.md, brand). Elsewhere it is one more
// write per ELF file.
constexpr std::size_t elf_first_page = 4096;

void write_block(int fd, const void* data, std::size_t size, std::uint64_t offset) {
  if (offset == 0 && size > elf_first_page && std::memcmp(data, "\x7f" "ELF", 4) == 0) {
    write_all_at(fd, data, elf_first_page, 0);
    write_all_at(fd, static_cast<const char*>(data) + elf_first_page, size - elf_first_page, elf_first_page);
    return;
  }
  write_all_at(fd, data, size, offset);
}

// fchmodat without following a final symlink. glibc answers ENOTSUP for
// AT_SYMLINK_NOFOLLOW when /proc is missing; then chmod the entry (known not to be a
// link) directly.
void chmod_nofollow(int dir_fd, const std::string& name, mode_t permissions) {
  if (::fchmodat(dir_fd, name.c_str(), permissions, AT_SYMLINK_NOFOLLOW) == 0) return;
  if (errno != ENOTSUP && errno != EOPNOTSUPP) throw Error(errno, "set the mode");
  struct stat st {};
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) throw Error(errno, "set the mode");
  if (S_ISLNK(st.st_mode)) return;
  if (::fchmodat(dir_fd, name.c_str(), permissions, 0) != 0) throw Error(errno, "set the mode");
}

int errno_of(bool ok) noexcept { return ok ? 0 : errno; }

}  // namespace

LayerApplier::LayerApplier(int root_fd, const ApplyOptions& options)
    : root_fd_(root_fd),
      options_(options),
      preserve_owners_(options.preserve_owners.value_or(::geteuid() == 0)),
      make_devices_(options.allow_devices && ::geteuid() == 0) {}

void LayerApplier::warn(std::string message) {
  if (report_.warnings.size() < max_warnings) report_.warnings.push_back(std::move(message));
}

void LayerApplier::mark_created(const EntryKey& dir, std::string_view name) { created_.insert(key_of(dir, name)); }

bool LayerApplier::was_created(const EntryKey& dir, std::string_view name) const {
  return created_.contains(key_of(dir, name));
}

LayerApplier::Meta LayerApplier::read_meta(archive_entry* entry) const {
  Meta meta;
  const auto uid = owner_id(archive_entry_uid(entry));
  if (!uid)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("owner uid {} is not a valid uid (refused rather than truncated)", archive_entry_uid(entry)));
  const auto gid = owner_id(archive_entry_gid(entry));
  if (!gid)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("group gid {} is not a valid gid (refused rather than truncated)", archive_entry_gid(entry)));
  meta.uid = *uid;
  meta.gid = *gid;
  meta.permissions = static_cast<mode_t>(archive_entry_perm(entry) & 07777);
  if (archive_entry_mtime_is_set(entry)) {
    meta.times[1].tv_sec = static_cast<time_t>(archive_entry_mtime(entry));
    meta.times[1].tv_nsec = archive_entry_mtime_nsec(entry);
  } else {
    meta.times[1].tv_nsec = UTIME_OMIT;
  }
  if (archive_entry_atime_is_set(entry)) {
    meta.times[0].tv_sec = static_cast<time_t>(archive_entry_atime(entry));
    meta.times[0].tv_nsec = archive_entry_atime_nsec(entry);
  } else {
    meta.times[0] = meta.times[1];  // as docker and umoci do
  }
  return meta;
}

LayerApplier::Parent LayerApplier::parent_dir(std::string_view path) {
  if (parent_valid_ && path == parent_path_) return {parent_fd_.get(), parent_id_};
  const CreatedDirFn created = [this](int dir_fd, std::string_view name) { mark_created(identity(dir_fd), name); };
  UniqueFd fd = open_dir_in_root(root_fd_, path, MissingDirs::create, created);
  parent_id_ = identity(fd.get());
  parent_fd_ = std::move(fd);
  parent_path_ = path;
  parent_valid_ = true;
  return {parent_fd_.get(), parent_id_};
}

void LayerApplier::apply(archive_entry* entry, SourceArchive& reader) {
  ++report_.entries;
  if (options_.max_entries != 0 && report_.entries > options_.max_entries)
    throw Error(ErrorCode::limit_exceeded,
                fmt::format("the layer has more than {} entries (ApplyOptions::max_entries; raise it if the image is "
                            "trusted)",
                            options_.max_entries));
  // An entry without a name names the root, like "." and "/".
  const char* pathname = archive_entry_pathname(entry);
  const std::string_view raw_name = pathname ? pathname : "";
  const auto path = clean_layer_path(raw_name);
  if (!path)
    throw Error(ErrorCode::invalid_argument,
                "its name climbs above the root with \"..\" (refused, as docker refuses it: no honest layer has one)");
  const auto [parent, base] = split_parent(*path);

  switch (const auto whiteout = parse_whiteout(base); whiteout.kind) {
    case WhiteoutName::Kind::remove:
    case WhiteoutName::Kind::opaque:
      apply_whiteout(parent, base);
      ++report_.whiteouts;
      return;
    case WhiteoutName::Kind::aufs_meta:
      warn(fmt::format("{}: aufs metadata, skipped", quote_untrusted(raw_name)));
      return;
    case WhiteoutName::Kind::invalid:
      throw Error(ErrorCode::invalid_argument, "a whiteout that names no entry, or its own directory");
    case WhiteoutName::Kind::none:
      break;
  }
  if (has_whiteout_parent(*path)) {
    warn(fmt::format("{}: inside a folder with a whiteout name, skipped", quote_untrusted(raw_name)));
    return;
  }

  const Meta meta = read_meta(entry);
  const auto type = archive_entry_filetype(entry);
  const bool is_hardlink = archive_entry_hardlink(entry) != nullptr;
  if (path->empty()) {
    if (type != AE_IFDIR || is_hardlink)
      throw Error(ErrorCode::invalid_argument, "an entry that is not a directory names the root itself");
    update_root(meta, entry);
    return;
  }
  const Parent dir = parent_dir(parent);
  const std::string name(base);
  if (is_hardlink) return make_hardlink(dir, name, *path, entry);
  switch (type) {
    case AE_IFREG: return make_file(dir, name, meta, entry, reader);
    case AE_IFDIR: return make_directory(dir, name, *path, meta, entry);
    case AE_IFLNK: return make_symlink(dir, name, meta, entry);
    case AE_IFIFO:
    case AE_IFCHR:
    case AE_IFBLK: return make_special(dir, name, meta, entry);
    default: warn(fmt::format("{}: a socket or unknown file type, skipped", quote_untrusted(raw_name)));
  }
}

template <typename Create>
bool LayerApplier::create_replacing(const Parent& parent, const std::string& name, bool is_dir, Create create) {
  int status = create();
  if (status == EEXIST) {
    // As docker: a directory meets a directory → merge (the entry's metadata wins);
    // anything else in the way is removed, a directory with all it holds.
    if (is_dir) {
      struct stat st {};
      if (::fstatat(parent.fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) return false;
    }
    delete_tree_at(parent.fd, name);
    forget_parent();
    status = create();
  }
  if (status != 0) throw Error(status, "create it");
  return true;
}

void LayerApplier::make_file(const Parent& parent, const std::string& name, const Meta& meta, archive_entry* entry,
                             SourceArchive& reader) {
  UniqueFd fd;
  create_replacing(parent, name, false, [&] {
    // O_EXCL: never open what exists (a hardlink of a lower file, a symlink); it is
    // replaced instead.
    fd.reset(::openat(parent.fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    return errno_of(static_cast<bool>(fd));
  });
  mark_created(parent.id, name);

  const auto declared = static_cast<std::uint64_t>(std::max<la_int64_t>(archive_entry_size(entry), 0));
  std::uint64_t end = 0;
  FileHead head{};  // a hole before a block reads as zeros, as head starts
  for (;;) {
    const void* block = nullptr;
    std::size_t size = 0;
    la_int64_t offset = 0;
    const int status =
        reader.check(archive_read_data_block(reader.get(), &block, &size, &offset), "read the file's content");
    if (status == ARCHIVE_EOF) break;
    if (offset < 0 || static_cast<std::uint64_t>(offset) + size > declared)
      throw Error(ErrorCode::integrity, fmt::format("the content is longer than the {} bytes its header declares",
                                                    declared));
    if (options_.max_bytes != 0 && report_.bytes + size > options_.max_bytes)
      throw Error(ErrorCode::limit_exceeded,
                  fmt::format("the layer holds more than {} bytes of file content (ApplyOptions::max_bytes; raise it "
                              "if the image is trusted)",
                              options_.max_bytes));
    write_block(fd.get(), block, size, static_cast<std::uint64_t>(offset));
    if (!options_.elf_index.empty()) keep_head(head, block, size, static_cast<std::uint64_t>(offset));
    report_.bytes += size;
    end = std::max(end, static_cast<std::uint64_t>(offset) + size);
  }
  // A sparse file may end in a hole.
  if (end < declared && ::ftruncate(fd.get(), static_cast<off_t>(declared)) != 0)
    throw Error(errno, "set the size of a sparse file");
  // chown before chmod: chown clears setuid and setgid bits.
  if (preserve_owners_ && ::fchown(fd.get(), meta.uid, meta.gid) != 0) throw Error(errno, "set the owner");
  set_xattrs_fd(fd.get(), entry, name);
  if (::fchmod(fd.get(), meta.permissions) != 0) throw Error(errno, "set the mode");
  if (::futimens(fd.get(), meta.times) != 0) throw Error(errno, "set the times");
  if (!options_.elf_index.empty()) index_file(fd.get(), head);
}

void LayerApplier::keep_head(FileHead& head, const void* block, std::size_t size, std::uint64_t offset) {
  if (offset >= head.size()) return;
  const std::size_t n = std::min<std::size_t>(size, head.size() - offset);
  std::memcpy(head.data() + offset, block, n);
}

// After every change the apply makes to the file (content, owner, xattrs, mode, times),
// so the stat is the one brand_tree() will see if nothing else touches the file.
void LayerApplier::index_file(int fd, const FileHead& head) {
  struct stat st{};
  if (::fstat(fd, &st) != 0) throw Error(errno, "stat the file for the ELF index");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  const auto seen_size = static_cast<std::size_t>(std::min<std::uint64_t>(size, head.size()));
  const std::span<const std::uint8_t> seen(head.data(), seen_size);
  elf_index_entries_.push_back({identity_of(st), index_content(seen, size)});
  if (elf_index_entries_.size() >= elf_index_batch) flush_elf_index();
}

void LayerApplier::flush_elf_index() {
  if (options_.elf_index.empty()) return;
  append_elf_index(options_.elf_index, elf_index_entries_);
  elf_index_entries_.clear();
}

void LayerApplier::make_directory(const Parent& parent, const std::string& name, std::string_view path,
                                  const Meta& meta, archive_entry* entry) {
  // 0700 until finish() sets the real mode: a read-only directory must still take the
  // entries that follow it.
  create_replacing(parent, name, true, [&] { return errno_of(::mkdirat(parent.fd, name.c_str(), 0700) == 0); });
  mark_created(parent.id, name);
  UniqueFd dir(::openat(parent.fd, name.c_str(), dir_open_flags | O_NOFOLLOW));
  if (!dir) throw Error(errno, "open the directory");
  if (preserve_owners_ && ::fchown(dir.get(), meta.uid, meta.gid) != 0) throw Error(errno, "set the owner");
  set_xattrs_fd(dir.get(), entry, name);
  const auto id = identity(dir.get());
  fixups_.push_back({std::string(path), id.dev, id.ino, meta.permissions, {meta.times[0], meta.times[1]}});
}

void LayerApplier::make_symlink(const Parent& parent, const std::string& name, const Meta& meta,
                                archive_entry* entry) {
  const char* target = archive_entry_symlink(entry);
  if (target == nullptr || *target == '\0') throw Error(ErrorCode::invalid_argument, "a symbolic link without a target");
  // Stored as it is, whatever it names: it is only ever resolved inside the root.
  create_replacing(parent, name, false, [&] { return errno_of(::symlinkat(target, parent.fd, name.c_str()) == 0); });
  mark_created(parent.id, name);
  set_owner_at(parent.fd, name, meta);
  set_xattrs_at(parent.fd, name, entry);
  if (::utimensat(parent.fd, name.c_str(), meta.times, AT_SYMLINK_NOFOLLOW) != 0) throw Error(errno, "set the times");
}

void LayerApplier::make_hardlink(const Parent& parent, const std::string& name, std::string_view path,
                                 archive_entry* entry) {
  const char* raw_target = archive_entry_hardlink(entry);
  const auto target = clean_layer_path(raw_target);
  if (!target)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("hardlink target {} climbs above the root with \"..\"", quote_untrusted(raw_target)));
  if (target->empty()) throw Error(ErrorCode::invalid_argument, "a hardlink to the root directory");
  if (*target == path) return;  // a link to itself: already there
  const auto [target_parent, target_base] = split_parent(*target);
  const std::string target_name(target_base);
  const auto missing = [&] {
    return Error(ErrorCode::invalid_argument,
                 fmt::format("hardlink target {} does not exist in the root (a hardlink must name a file extracted "
                             "before it)",
                             quote_untrusted(raw_target)));
  };
  UniqueFd target_dir = open_dir_in_root(root_fd_, target_parent, MissingDirs::absent_ok);
  if (!target_dir) throw missing();
  struct stat target_st {};
  if (::fstatat(target_dir.get(), target_name.c_str(), &target_st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) throw missing();
    throw Error(errno, fmt::format("look at the hardlink target {}", quote_untrusted(raw_target)));
  }
  if (S_ISDIR(target_st.st_mode))
    throw Error(ErrorCode::invalid_argument,
                fmt::format("hardlink target {} is a directory", quote_untrusted(raw_target)));
  struct stat here {};
  if (::fstatat(parent.fd, name.c_str(), &here, AT_SYMLINK_NOFOLLOW) == 0 && here.st_dev == target_st.st_dev &&
      here.st_ino == target_st.st_ino) {
    mark_created(parent.id, name);  // the same file under both names already
    return;
  }
  // Flags 0: link a symlink itself, never what it points to (FreeBSD's link(2) follows).
  create_replacing(parent, name, false, [&] {
    return errno_of(::linkat(target_dir.get(), target_name.c_str(), parent.fd, name.c_str(), 0) == 0);
  });
  mark_created(parent.id, name);
  // The link moved the file's ctime: list it again as it is now.
  if (!options_.elf_index.empty() && S_ISREG(target_st.st_mode)) reindex_linked_file(parent.fd, name);
}

void LayerApplier::reindex_linked_file(int dir_fd, const std::string& name) {
  const UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd) throw Error(errno, "open the linked file for the ELF index");
  FileHead head{};
  read_fully_at(fd.get(), head.data(), head.size(), 0);
  index_file(fd.get(), head);
}

void LayerApplier::make_special(const Parent& parent, const std::string& name, const Meta& meta,
                                archive_entry* entry) {
  const auto type = archive_entry_filetype(entry);
  if (type == AE_IFIFO) {
    // Made, never opened: opening a FIFO would block until someone opens its other end.
    create_replacing(parent, name, false, [&] { return errno_of(::mkfifoat(parent.fd, name.c_str(), 0600) == 0); });
  } else {
    if (!make_devices_) {
      ++report_.skipped_devices;
      warn(fmt::format("{}: device node {}:{} not created ({})", quote_untrusted(archive_entry_pathname(entry)),
                       archive_entry_rdevmajor(entry), archive_entry_rdevminor(entry),
                       options_.allow_devices ? "not running as root" : "devices not allowed"));
      return;
    }
    const mode_t kind = type == AE_IFCHR ? S_IFCHR : S_IFBLK;
    int made = 0;
    create_replacing(parent, name, false, [&] {
      made = platform::make_device_at(parent.fd, name.c_str(), kind | 0600,
                                      static_cast<std::uint32_t>(archive_entry_rdevmajor(entry)),
                                      static_cast<std::uint32_t>(archive_entry_rdevminor(entry)));
      return made == EPERM ? 0 : made;
    });
    if (made == EPERM) {
      // Root without the right to make devices (a user namespace, a jail): skipped as
      // when not allowed, as docker does.
      ++report_.skipped_devices;
      warn(fmt::format("{}: device node not created: the kernel refused it (EPERM)",
                       quote_untrusted(archive_entry_pathname(entry))));
      return;
    }
  }
  mark_created(parent.id, name);
  set_owner_at(parent.fd, name, meta);
  set_xattrs_at(parent.fd, name, entry);
  chmod_nofollow(parent.fd, name, meta.permissions);
  if (::utimensat(parent.fd, name.c_str(), meta.times, AT_SYMLINK_NOFOLLOW) != 0) throw Error(errno, "set the times");
}

void LayerApplier::update_root(const Meta& meta, archive_entry* entry) {
  if (preserve_owners_ && ::fchown(root_fd_, meta.uid, meta.gid) != 0) throw Error(errno, "set the root's owner");
  set_xattrs_fd(root_fd_, entry, "/");
  const auto id = identity(root_fd_);
  fixups_.push_back({std::string(), id.dev, id.ino, meta.permissions, {meta.times[0], meta.times[1]}});
}

void LayerApplier::set_owner_at(int dir_fd, const std::string& name, const Meta& meta) {
  if (preserve_owners_ && ::fchownat(dir_fd, name.c_str(), meta.uid, meta.gid, AT_SYMLINK_NOFOLLOW) != 0)
    throw Error(errno, "set the owner");
}

template <typename Set>
void LayerApplier::set_xattrs(archive_entry* entry, std::string_view what, Set set) {
  if (!options_.xattrs || archive_entry_xattr_reset(entry) == 0) return;
  const char* key = nullptr;
  const void* value = nullptr;
  std::size_t size = 0;
  while (archive_entry_xattr_next(entry, &key, &value, &size) == ARCHIVE_OK) {
    const int status = set(key, std::span<const std::byte>(static_cast<const std::byte*>(value), size));
    if (status != 0) {
      ++report_.skipped_xattrs;
      warn(fmt::format("{}: extended attribute {} not restored: {}", quote_untrusted(what), quote_untrusted(key),
                       std::strerror(status)));
    }
  }
}

void LayerApplier::set_xattrs_fd(int fd, archive_entry* entry, std::string_view what) {
  set_xattrs(entry, what, [fd](const char* key, std::span<const std::byte> value) {
    return platform::set_xattr_fd(fd, key, value);
  });
}

void LayerApplier::set_xattrs_at(int dir_fd, const std::string& name, archive_entry* entry) {
  set_xattrs(entry, name, [&](const char* key, std::span<const std::byte> value) {
    return platform::set_xattr_nofollow(dir_fd, name.c_str(), key, value);
  });
}

void LayerApplier::apply_whiteout(std::string_view parent, std::string_view base) {
  if (base == opaque_marker) {
    // The marker says the directory exists in this layer and hides all below it.
    const Parent dir = parent_dir(parent);
    hide_lower(dir.fd, dir.id);
  } else {
    // A whiteout only removes: a missing directory has nothing to remove.
    const UniqueFd dir = open_dir_in_root(root_fd_, parent, MissingDirs::absent_ok);
    if (!dir) return;
    const auto target = base.substr(whiteout_prefix.size());
    // The spec: a whiteout applies to lower layers only, never to its own layer's files.
    if (!was_created(identity(dir.get()), target)) delete_tree_at(dir.get(), std::string(target));
  }
  forget_parent();
}

void LayerApplier::hide_lower(int dir_fd, const EntryKey& dir) {
  for (const auto& name : list_names(dir_fd, "a directory of the root")) {
    if (!was_created(dir, name)) {
      delete_tree_at(dir_fd, name);
      continue;
    }
    // Kept, but a directory this layer lists may still hold lower files.
    UniqueFd child(::openat(dir_fd, name.c_str(), dir_open_flags | O_NOFOLLOW));
    if (child) hide_lower(child.get(), identity(child.get()));
  }
}

void LayerApplier::finish() {
  std::stable_sort(fixups_.begin(), fixups_.end(),
                   [](const DirFixup& a, const DirFixup& b) { return depth_of(a.path) > depth_of(b.path); });
  for (const auto& fixup : fixups_) {
    const UniqueFd dir = open_dir_in_root(root_fd_, fixup.path, MissingDirs::absent_ok);
    if (!dir) continue;  // removed by a later entry of the layer
    struct stat st {};
    if (::fstat(dir.get(), &st) != 0) throw Error(errno, "look at a directory");
    if (st.st_dev != fixup.dev || st.st_ino != fixup.ino) continue;  // replaced since
    if (::fchmod(dir.get(), fixup.permissions) != 0)
      throw Error(errno, fmt::format("set the mode of the directory {}", quote_untrusted(fixup.path)));
    if (::futimens(dir.get(), fixup.times) != 0)
      throw Error(errno, fmt::format("set the times of the directory {}", quote_untrusted(fixup.path)));
  }
  fixups_.clear();
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
