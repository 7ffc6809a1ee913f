#include "linuxulator/tree_walk.hpp"

#include "core/unique_fd.hpp"
#include "platform/fs.hpp"

#include <knast/error.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

struct DirCloser {
  void operator()(DIR* dir) const noexcept { ::closedir(dir); }
};
using DirHandle = std::unique_ptr<DIR, DirCloser>;

// Files of one directory handed to the visitor in one call. A large directory (a lib/
// or bin/ with thousands of files, most of the ELF files of an image) is split into
// several calls that other threads can take, or one thread would do it alone while the
// others idle.
constexpr std::size_t files_per_visit = 256;

// One piece of work, of three kinds:
//  - a directory to open and read: `name` under `dir` (its parent), reported as `rel`;
//  - a directory already open (the root): `dir` itself, `name` empty, no files;
//  - some of a read directory's files to visit: `files` not empty, `dir` the directory.
// A subdirectory is opened only when it is taken, not when its parent is read, and the
// work is taken last in, first out (depth first). So the walk holds about one
// descriptor per level of the path it is in, not one per directory waiting: a process
// with threads whose descriptor table outgrows its size waits a whole RCU grace period
// on Linux (expand_fdtable), and a breadth-first walk holding every waiting directory
// open grew the table to 512 and lost a quarter of its time to it (bench/RESULTS.md).
struct Task {
  std::shared_ptr<const UniqueFd> dir;
  std::string name;
  std::string rel;
  std::vector<WalkFile> files;
};

class Walk {
 public:
  Walk(dev_t device, const DirectoryVisitor& visit, const SkipVisitor& skip)
      : device_(device), visit_(visit), skip_(skip) {}

  void push(Task task) {
    {
      std::lock_guard lock(mutex_);
      stack_.push_back(std::move(task));
    }
    ready_.notify_one();
  }

  void run(unsigned threads) {
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i) pool.emplace_back([this] { work(); });
    work();
    for (auto& t : pool) t.join();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void work() {
    for (;;) {
      Task task;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return stop_ || !stack_.empty() || busy_ == 0; });
        if (stop_ || stack_.empty()) {
          ready_.notify_all();  // the walk is over (or failed): wake the others to see it
          return;
        }
        task = std::move(stack_.back());
        stack_.pop_back();
        ++busy_;
      }
      try {
        if (!task.files.empty()) visit_(task.dir->get(), task.rel, task.files);
        else if (!task.name.empty()) enter(task);
        else read_directory(task.dir, task.rel);
      } catch (...) {
        std::lock_guard lock(mutex_);
        if (!error_) error_ = std::current_exception();
        stop_ = true;
      }
      {
        std::lock_guard lock(mutex_);
        --busy_;
      }
      ready_.notify_all();
    }
  }

  void read_directory(const std::shared_ptr<const UniqueFd>& dir, const std::string& rel) {
    // fdopendir takes over its descriptor; give it a duplicate so `dir` stays usable (and
    // closed by its last owner) for the visitor.
    UniqueFd for_dir(::fcntl(dir->get(), F_DUPFD_CLOEXEC, 0));
    if (!for_dir) throw Error(errno, "walk " + shown(rel) + ": dup: " + std::strerror(errno));
    DirHandle handle(::fdopendir(for_dir.get()));
    if (!handle) throw Error(errno, "walk " + shown(rel) + ": fdopendir: " + std::strerror(errno));
    for_dir.release();

    std::vector<WalkFile> files;
    errno = 0;
    while (const dirent* entry = ::readdir(handle.get())) {
      const char* name = entry->d_name;
      if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
      unsigned char type = entry->d_type;
      if (type == DT_UNKNOWN) type = type_by_stat(dir->get(), name);
      if (type == DT_REG) files.push_back({name, static_cast<std::uint64_t>(entry->d_ino)});
      else if (type == DT_DIR) push(Task{dir, name, join_relative(rel, name), {}});
      errno = 0;
    }
    if (errno != 0) throw Error(errno, "walk " + shown(rel) + ": readdir: " + std::strerror(errno));
    handle.reset();
    // All but the first chunk go to the stack; this thread visits the first.
    for (std::size_t at = files_per_visit; at < files.size(); at += files_per_visit) {
      const auto end = files.begin() + static_cast<std::ptrdiff_t>(std::min(files.size(), at + files_per_visit));
      push(Task{dir, {}, rel, std::vector<WalkFile>(files.begin() + static_cast<std::ptrdiff_t>(at), end)});
    }
    files.resize(std::min(files.size(), files_per_visit));
    if (!files.empty()) visit_(dir->get(), rel, files);
  }

  static unsigned char type_by_stat(int dir_fd, const char* name) {
    struct stat st{};
    if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return DT_UNKNOWN;
    if (S_ISREG(st.st_mode)) return DT_REG;
    if (S_ISDIR(st.st_mode)) return DT_DIR;
    return DT_UNKNOWN;
  }

  // Opens the subdirectory @p task names and reads it.
  void enter(Task& task) {
    UniqueFd fd = open_directory(task.dir->get(), task.name.c_str());
    if (!fd) {
      // Replaced by a symlink (ELOOP; EMLINK on FreeBSD) or a file since readdir: not ours.
      if (errno == ELOOP || errno == EMLINK || errno == ENOTDIR || errno == ENOENT) return;
      skip_(task.rel, std::string("cannot open directory: ") + std::strerror(errno));
      return;
    }
    task.dir.reset();  // the parent's descriptor is not needed any more
    struct stat st{};
    if (::fstat(fd.get(), &st) != 0) throw Error(errno, "walk " + shown(task.rel) + ": fstat: " + std::strerror(errno));
    if (st.st_dev != device_) {
      skip_(task.rel, "another file system is mounted here");
      return;
    }
    read_directory(std::make_shared<const UniqueFd>(std::move(fd)), task.rel);
  }

  // Without an access-time update: listing a directory to look at its files is not a
  // use of it, and on a freshly unpacked tree (atime <= mtime) relatime would otherwise
  // write every directory's inode on the first walk.
  static UniqueFd open_directory(int parent_fd, const char* name) {
    return UniqueFd(platform::openat_without_atime(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  }

  static std::string shown(const std::string& rel) { return rel.empty() ? "." : rel; }

  const dev_t device_;
  const DirectoryVisitor& visit_;
  const SkipVisitor& skip_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<Task> stack_;  // taken from the back: depth first (see Task)
  std::size_t busy_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace

std::string join_relative(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + '/' + name;
}

void walk_tree(int root_fd, unsigned threads, const DirectoryVisitor& visit, const SkipVisitor& skip) {
  struct stat st{};
  if (::fstat(root_fd, &st) != 0) throw Error(errno, std::string("walk: fstat of the root: ") + std::strerror(errno));
  UniqueFd root(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  if (!root) throw Error(errno, std::string("walk: dup of the root: ") + std::strerror(errno));
  Walk walk(st.st_dev, visit, skip);
  walk.push(Task{std::make_shared<const UniqueFd>(std::move(root)), {}, {}, {}});
  walk.run(std::max(threads, 1u));
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
