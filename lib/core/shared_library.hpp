// Libraries knast loads on first use rather than links (libcurl, libnftables): a program
// that never pulls an image or publishes a port does not need them installed, and does
// not pay their start-up cost.
#pragma once

#include <knast/error.hpp>

#include <dlfcn.h>

#include <string>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace detail {

/// dlopen(3)s @p soname, never to be unloaded (its functions may be in use in other
/// threads, and some keep global state). @throws Error @p code with dlerror() and
/// @p advice ("needs libcurl: ... (Debian: apt-get install libcurl4)").
inline void* open_shared_library(const char* soname, ErrorCode code, std::string_view needed_for,
                                 std::string_view advice) {
  void* handle = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr)
    throw Error(code, std::string(needed_for) + ": " + ::dlerror() + " (" + std::string(advice) + ")");
  return handle;
}

/// Points @p out at the function @p name of @p handle (library @p soname).
/// @throws Error internal naming both, and @p advice (a minimum version, say).
template <typename Function>
void look_up(void* handle, Function& out, const char* name, const char* soname, std::string_view advice = {}) {
  void* symbol = ::dlsym(handle, name);
  if (symbol == nullptr)
    throw Error(ErrorCode::internal, std::string(soname) + " has no " + name + std::string(advice));
  out = reinterpret_cast<Function>(symbol);
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
