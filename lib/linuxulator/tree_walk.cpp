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
#include <deque>
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

// A directory still to be read, or (files not empty) some of a read directory's files
// still to be visited. The chunks of one directory share its descriptor.
struct Task {
  std::shared_ptr<const UniqueFd> dir;
  std::string rel;
  std::vector<std::string> files;
};

class Walk {
 public:
  Walk(dev_t device, const DirectoryVisitor& visit, const SkipVisitor& skip)
      : device_(device), visit_(visit), skip_(skip) {}

  void push(Task task) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(task));
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
        ready_.wait(lock, [this] { return stop_ || !queue_.empty() || busy_ == 0; });
        if (stop_ || queue_.empty()) {
          ready_.notify_all();  // the walk is over (or failed): wake the others to see it
          return;
        }
        task = std::move(queue_.front());
        queue_.pop_front();
        ++busy_;
      }
      try {
        if (task.files.empty()) read_directory(task);
        else visit_(task.dir->get(), task.rel, task.files);
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

  void read_directory(const Task& dir) {
    // fdopendir takes over its descriptor; give it a duplicate so dir.dir stays usable
    // (and closed by its owner) for the visitor.
    UniqueFd for_dir(::fcntl(dir.dir->get(), F_DUPFD_CLOEXEC, 0));
    if (!for_dir) throw Error(errno, "walk " + shown(dir.rel) + ": dup: " + std::strerror(errno));
    DirHandle handle(::fdopendir(for_dir.get()));
    if (!handle) throw Error(errno, "walk " + shown(dir.rel) + ": fdopendir: " + std::strerror(errno));
    for_dir.release();

    std::vector<std::string> files;
    errno = 0;
    while (const dirent* entry = ::readdir(handle.get())) {
      const char* name = entry->d_name;
      if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
      unsigned char type = entry->d_type;
      if (type == DT_UNKNOWN) type = type_by_stat(dir, name);
      if (type == DT_REG) files.emplace_back(name);
      else if (type == DT_DIR) enter(dir, name);
      errno = 0;
    }
    if (errno != 0) throw Error(errno, "walk " + shown(dir.rel) + ": readdir: " + std::strerror(errno));
    handle.reset();
    // All but the first chunk go to the queue; this thread visits the first.
    for (std::size_t at = files_per_visit; at < files.size(); at += files_per_visit) {
      const auto end = files.begin() + static_cast<std::ptrdiff_t>(std::min(files.size(), at + files_per_visit));
      push(Task{dir.dir, dir.rel, std::vector<std::string>(files.begin() + static_cast<std::ptrdiff_t>(at), end)});
    }
    files.resize(std::min(files.size(), files_per_visit));
    if (!files.empty()) visit_(dir.dir->get(), dir.rel, files);
  }

  unsigned char type_by_stat(const Task& dir, const char* name) const {
    struct stat st{};
    if (::fstatat(dir.dir->get(), name, &st, AT_SYMLINK_NOFOLLOW) != 0) return DT_UNKNOWN;
    if (S_ISREG(st.st_mode)) return DT_REG;
    if (S_ISDIR(st.st_mode)) return DT_DIR;
    return DT_UNKNOWN;
  }

  void enter(const Task& parent, const char* name) {
    std::string rel = join_relative(parent.rel, name);
    UniqueFd fd = open_directory(parent.dir->get(), name);
    if (!fd) {
      // Replaced by a symlink (ELOOP; EMLINK on FreeBSD) or a file since readdir: not ours.
      if (errno == ELOOP || errno == EMLINK || errno == ENOTDIR || errno == ENOENT) return;
      skip_(rel, std::string("cannot open directory: ") + std::strerror(errno));
      return;
    }
    struct stat st{};
    if (::fstat(fd.get(), &st) != 0) throw Error(errno, "walk " + shown(rel) + ": fstat: " + std::strerror(errno));
    if (st.st_dev != device_) {
      skip_(rel, "another file system is mounted here");
      return;
    }
    push(Task{std::make_shared<const UniqueFd>(std::move(fd)), std::move(rel), {}});
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
  std::deque<Task> queue_;
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
  walk.push(Task{std::make_shared<const UniqueFd>(std::move(root)), "", {}});
  walk.run(std::max(threads, 1u));
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
