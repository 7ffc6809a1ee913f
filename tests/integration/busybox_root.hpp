// Support for tests that run containers. A tiny root file system: Debian's static /bin/busybox
// with its applet links and a user database with one user (app, uid 1000, also in group
// staff), and a pipe for its output. Shared by the crun, executor and lifecycle tests.
#pragma once

#include "image_store_test_support.hpp"

#include "core/unique_fd.hpp"

#include <knast/oci.hpp>
#include <knast/run_spec.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace busybox_test {

/// A pipe with both ends close-on-exec, to hand a container's stdout or stderr.
struct Pipe {
  knast::detail::UniqueFd read;
  knast::detail::UniqueFd write;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    read.reset(fds[0]);
    write.reset(fds[1]);
  }
};

/// Why containers cannot be made on this host, or "" when they can: knast refuses in a
/// chroot (the process root is not a mount point), as the executor says.
inline std::string containers_unavailable() {
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string field;
    for (int i = 0; i < 5 && fields >> field; ++i) {
    }
    if (field == "/") return {};
  }
  return "the root directory is not a mount point (a chroot): knast makes no containers here";
}

/// The applets linked in bin/ of make_busybox_root().
inline constexpr const char* busybox_applets[] = {"sh",    "echo", "true", "false", "cat",   "id",
                                                  "pwd",   "touch", "ls",  "sleep", "hostname", "grep",
                                                  "kill",  "mkdir", "wc",  "head",  "env", "stat"};

/// Makes a busybox root at @p root (created).
inline void make_busybox_root(const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  fs::create_directories(root / "bin");
  fs::copy_file("/bin/busybox", root / "bin/busybox");
  for (const char* applet : busybox_applets) fs::create_symlink("busybox", root / "bin" / applet);
  for (const char* dir : {"etc", "tmp", "home/app", "proc", "dev", "sys", "run", "data"})
    fs::create_directories(root / dir);
  store_test::spit(root / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n");
  store_test::spit(root / "etc/group", "root:x:0:\napp:x:1000:\nstaff:x:50:app\n");
}

/// Writes the bundle @p dir of a busybox container of @p root on this Linux host: the
/// test image's config with @p overrides (host_os and container_id filled in when empty).
inline std::filesystem::path write_bundle(const std::filesystem::path& dir, const std::filesystem::path& root,
                                          knast::RunOverrides overrides) {
  if (overrides.host_os.empty()) overrides.host_os = "linux";
  if (overrides.container_id.empty()) overrides.container_id = "0123456789abcdef";
  const auto spec =
      knast::make_run_spec(knast::ImageConfig::parse(oci_test::testdata("busybox-config.json")), root, overrides);
  std::filesystem::create_directories(dir.parent_path());
  knast::write_bundle(dir, spec);
  return dir;
}

}  // namespace busybox_test
