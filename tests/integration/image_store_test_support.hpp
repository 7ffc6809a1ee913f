// Helpers shared by the image_store_*_test.cpp integration tests: temporary folders,
// small but real images (gzip tar layers made with libarchive), running tools.
#pragma once

#include "../unit/oci_test_support.hpp"

#include <knast/image_store.hpp>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace store_test {

namespace fs = std::filesystem;
using knast::Descriptor;
using knast::ImageStore;
using knast::Platform;
using knast::Reference;
using oci_test::error_from;

/// A fresh folder under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "knast-store-test.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

/// Whole contents of a file ("" if it cannot be read).
inline std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// Writes a whole file.
inline void spit(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// Every path under @p root (relative), with the size of regular files: a snapshot to
/// check that a failed operation left a folder exactly as it was.
inline std::map<std::string, std::string> snapshot(const fs::path& root) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const auto rel = fs::relative(entry.path(), root).string();
    files[rel] = entry.is_regular_file() ? slurp(entry.path()) : std::string("<dir>");
  }
  return files;
}

/// Files in the store's ingest folder (temporary blobs).
inline std::size_t ingest_files(const fs::path& store) {
  std::error_code ec;
  std::size_t n = 0;
  for (auto it = fs::directory_iterator(store / "knast" / "ingest", ec); !ec && it != fs::directory_iterator(); ++it) ++n;
  return n;
}

/// A tar (gzip-compressed when @p gzip) of regular files {path, content}, made by
/// libarchive with fixed times and owners so the same files always give the same bytes.
inline std::string make_tar(const std::vector<std::pair<std::string, std::string>>& files, bool gzip) {
  std::vector<char> buffer(16 << 20);
  std::size_t used = 0;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  archive_write_set_bytes_in_last_block(a, 1);
  if (archive_write_open_memory(a, buffer.data(), buffer.size(), &used) != ARCHIVE_OK)
    throw std::runtime_error(archive_error_string(a));
  for (const auto& [path, content] : files) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0755);
    archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    archive_entry_set_mtime(e, 1700000000, 0);
    archive_write_header(a, e);
    archive_write_data(a, content.data(), content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return std::string(buffer.data(), used);
}

/// An image put into a store: its manifest, config and layer descriptors.
struct TestImage {
  Descriptor manifest;
  Descriptor config;
  std::vector<Descriptor> layers;
};

/// Puts a one-layer image for @p platform into @p store; @p marker goes into a file of the
/// layer and into the config, so different markers give different images.
inline TestImage put_image(ImageStore& store, const std::string& marker,
                           const Platform& platform = Platform{"linux", "amd64", "", "", {}},
                           std::vector<std::pair<std::string, std::string>> files = {}) {
  files.emplace_back("etc/marker", marker + "\n");
  const std::string tar = make_tar(files, false);
  const std::string tar_gz = make_tar(files, true);
  TestImage image;
  image.layers.push_back(store.put_blob(tar_gz, std::string(knast::media_type::oci_layer_gzip)));
  knast::ImageConfig config;
  config.architecture = platform.architecture;
  config.os = platform.os;
  if (!platform.variant.empty()) config.variant = platform.variant;
  config.created = "2024-05-01T12:00:00Z";
  config.config.cmd = std::vector<std::string>{"/bin/sh"};
  config.config.labels["marker"] = marker;
  config.diff_ids.push_back(knast::Digest::of(tar));
  image.config = store.put_blob(config.to_json(), std::string(knast::media_type::oci_config));
  knast::Manifest manifest;
  manifest.config = image.config;
  manifest.layers = image.layers;
  image.manifest = store.put_blob(manifest.to_json(), std::string(knast::media_type::oci_manifest));
  return image;
}

/// Puts an index of @p images (each with its platform) into @p store.
inline Descriptor put_index(ImageStore& store, const std::vector<std::pair<TestImage, Platform>>& images) {
  knast::Index index;
  for (const auto& [image, platform] : images) {
    Descriptor entry = image.manifest;
    entry.platform = platform;
    index.manifests.push_back(entry);
  }
  return store.put_blob(index.to_json(), std::string(knast::media_type::oci_index));
}

/// Runs a shell command; its exit status, with stdout and stderr in @p output.
inline int run(const std::string& command, std::string* output = nullptr) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string text;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) text.append(buffer, n);
  const int status = ::pclose(pipe);
  if (output) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// Parses a reference (test inputs are valid).
inline Reference reference(std::string_view text) { return Reference::parse(text); }

}  // namespace store_test

namespace store_test {

/// A forked child running @p body and exiting with what it returns (1 if it throws).
/// The child never returns into the test framework.
template <typename F>
pid_t fork_child(F&& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    int status = 1;
    try {
      status = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child %d: %s\n", ::getpid(), e.what());
    }
    std::fflush(stderr);
    ::_exit(status);
  }
  return pid;
}

/// Waits for @p pid; its exit status, or 128 + signal.
inline int wait_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// Whether @p pid is still running (not reaped).
inline bool still_running(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == 0;
}

/// Both ends of a pipe, closed on destruction; the base of the signals below.
class Pipe {
 public:
  Pipe() {
    if (::pipe(fds_) != 0) throw std::runtime_error("pipe failed");
  }
  ~Pipe() {
    close_read_end();
    close_write_end();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

 protected:
  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }
  void close_read_end() { close_end(0); }
  void close_write_end() { close_end(1); }

 private:
  void close_end(int end) {
    if (fds_[end] >= 0) ::close(fds_[end]);
    fds_[end] = -1;
  }
  int fds_[2] = {-1, -1};
};

/// A pipe a parent writes to once to release children blocked in wait().
class Barrier : private Pipe {
 public:
  /// In a child: blocks until release(). (The child's copy of the write end is closed
  /// first, or the parent's release could never be seen as end of file.)
  void wait() {
    close_write_end();
    char c;
    while (::read(read_end(), &c, 1) < 0 && errno == EINTR) {
    }
  }
  /// In the parent: closing the write end wakes every reader at once.
  void release() { close_write_end(); }
};

/// A pipe a forked child signals through once it has made some progress, so the parent
/// can time what it does next after that point however slow the machine is.
class ProgressSignal : private Pipe {
 public:
  /// In the child: reports progress (a full pipe only means it was reported before).
  void notify() {
    const char c = 1;
    [[maybe_unused]] const auto written = ::write(write_end(), &c, 1);
  }
  /// In the parent: whether progress was reported within @p timeout.
  bool wait_for(std::chrono::milliseconds timeout) {
    pollfd readable{read_end(), POLLIN, 0};
    int ready;
    while ((ready = ::poll(&readable, 1, static_cast<int>(timeout.count()))) < 0 && errno == EINTR) {
    }
    char c;
    return ready == 1 && ::read(read_end(), &c, 1) == 1;
  }
};

}  // namespace store_test
