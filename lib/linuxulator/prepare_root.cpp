// Getting a root and a host ready for a Linux-emulation plan: mount points and files in
// the root (portable POSIX, never through a symlink), kernel modules on the host (through
// lib/platform/<os>/linuxulator_<os>.cpp).
#include "linuxulator/root_paths.hpp"
#include "platform/linuxulator.hpp"

#include "image_store/posix_io.hpp"

#include <knast/error.hpp>
#include <knast/linuxulator.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace knast {
inline namespace v0 {
namespace {

using detail::UniqueFd;

bool below(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && (dir == "/" || path[dir.size()] == '/');
}

// Mount points the host must find in the root: those not inside another mount of the
// plan (/dev/fd and /dev/shm come from the devfs mounted on /dev).
std::vector<std::string> outer_mount_points(const LinuxEmulationPlan& plan) {
  std::vector<std::string> out;
  for (const auto& m : plan.mounts) {
    bool inner = false;
    for (const auto& other : plan.mounts) inner = inner || below(m.target, other.target);
    if (!inner) out.push_back(m.target);
  }
  return out;
}

// Writes @p file beside its final name and renames it into place, so a reader sees the
// old or new content, and a symlink in its place is replaced rather than written through.
void write_root_file(int root_fd, const RootFile& file, PreflightReport& report) {
  std::vector<std::string> parts = detail::root_path_components(file.path);
  const std::string leaf = parts.back();
  parts.pop_back();
  UniqueFd dir = detail::open_directory_beneath(root_fd, parts, true, &report.created);
  const std::string temp = ".knast-" + leaf + "." + detail::unique_name();
  UniqueFd fd(::openat(dir.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) throw Error(errno, "write " + file.path + " inside the root: " + std::strerror(errno));
  try {
    detail::write_all(fd, file.content.data(), file.content.size(), file.path);
    if (::fchmod(fd.get(), static_cast<mode_t>(file.mode)) != 0)
      throw Error(errno, "chmod " + file.path + " inside the root: " + std::strerror(errno));
    if (::renameat(dir.get(), temp.c_str(), dir.get(), leaf.c_str()) != 0)
      throw Error(errno, "rename into " + file.path + " inside the root: " + std::strerror(errno));
  } catch (...) {
    ::unlinkat(dir.get(), temp.c_str(), 0);
    throw;
  }
  report.files_written.push_back(file.path);
}

// What to tell an administrator about a missing module (FREEBSD.md §4: rc.d/linux loads
// linux and linux64 for linux_enable; rc.d/kld loads kld_list).
std::string how_to_load(const KernelModule& m) {
  const std::string persist = (m.file == "linux64" || m.file == "linux")
                                  ? "set linux_enable=YES in rc.conf"
                                  : "add " + m.file + " to kld_list in rc.conf";
  return "kernel module " + m.file + " is not loaded: run `kldload " + m.file + "` or " + persist;
}

}  // namespace

PreflightReport prepare_linux_root(const LinuxEmulationPlan& plan, const std::filesystem::path& root) {
  try {
    UniqueFd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd) throw Error(errno, std::string("open: ") + std::strerror(errno));
    PreflightReport report;
    for (const auto& target : outer_mount_points(plan))
      detail::open_directory_beneath(root_fd.get(), detail::root_path_components(target), true, &report.created);
    for (const auto& file : plan.files) write_root_file(root_fd.get(), file, report);
    return report;
  } catch (const Error& e) {
    throw e.with_context("prepare Linux root " + root.string());
  }
}

PreflightReport preflight(const LinuxEmulationPlan& plan, const std::filesystem::path& root,
                          const PreflightOptions& options) {
  if (!platform::has_kernel_modules())
    throw Error(ErrorCode::unsupported, "preflight for a " + plan.image.string() +
                                            " image checks a FreeBSD host's kernel modules; this host is " +
                                            Platform::host().normalized().string() +
                                            " (prepare_linux_root() alone works anywhere)");
  PreflightReport report;
  for (const auto& m : plan.kernel_modules) {
    if (platform::kernel_module_present(m.file, m.module)) {
      report.modules_present.push_back(m.file);
    } else if (options.load_modules) {
      try {
        platform::load_kernel_module(m.file);
      } catch (const Error& e) {
        throw e.with_context(how_to_load(m));
      }
      report.modules_loaded.push_back(m.file);
    } else {
      throw Error(ErrorCode::not_found, how_to_load(m));
    }
  }
  if (options.prepare_root) {
    PreflightReport prepared = prepare_linux_root(plan, root);
    report.created = std::move(prepared.created);
    report.files_written = std::move(prepared.files_written);
  }
  return report;
}

}  // namespace v0
}  // namespace knast
