// Other systems: no kernel confinement (the portable walk does it all), no extended
// attributes, no device nodes.
#include "platform/fs.hpp"

#include <cerrno>

namespace knast::platform {

FastResolve open_dir_in_root_fast(int, const char*, int&) noexcept { return FastResolve::fall_back; }
std::string_view in_root_mechanism() noexcept { return "none"; }
bool has_fast_in_root() noexcept { return false; }
int set_xattr_fd(int, std::string_view, std::span<const std::byte>) noexcept { return ENOTSUP; }
int set_xattr_nofollow(int, const char*, std::string_view, std::span<const std::byte>) noexcept { return ENOTSUP; }
int make_device_at(int, const char*, mode_t, std::uint32_t, std::uint32_t) noexcept { return ENOTSUP; }
void start_writeback(int, std::uint64_t, std::uint64_t) noexcept {}
int no_atime_open_flag() noexcept { return 0; }
int nofollow_symlink_errno() noexcept { return ELOOP; }

}  // namespace knast::platform
