#include "registry/curl_api.hpp"

#include "core/shared_library.hpp"

#include <knast/error.hpp>


#include <mutex>
#include <string>

namespace knast {
inline namespace v0 {
namespace registry_detail {
namespace {

// The soname of libcurl's ABI 4 on Linux and FreeBSD alike.
constexpr const char* library = "libcurl.so.4";

template <typename Function>
void look_up(void* handle, Function& out, const char* name) {
  detail::look_up(handle, out, name, library, ": libcurl 7.80 or newer is needed");
}

CurlApi load() {
  void* handle = detail::open_shared_library(library, ErrorCode::not_found, "registry access needs libcurl",
                                             "Debian: apt-get install libcurl4; FreeBSD: pkg install curl");
  CurlApi api{};
  look_up(handle, api.global_init, "curl_global_init");
  look_up(handle, api.easy_init, "curl_easy_init");
  look_up(handle, api.easy_cleanup, "curl_easy_cleanup");
  look_up(handle, api.easy_reset, "curl_easy_reset");
  look_up(handle, api.easy_setopt, "curl_easy_setopt");
  look_up(handle, api.easy_getinfo, "curl_easy_getinfo");
  look_up(handle, api.easy_perform, "curl_easy_perform");
  look_up(handle, api.easy_strerror, "curl_easy_strerror");
  look_up(handle, api.slist_append, "curl_slist_append");
  look_up(handle, api.slist_free_all, "curl_slist_free_all");
  look_up(handle, api.url, "curl_url");
  look_up(handle, api.url_cleanup, "curl_url_cleanup");
  look_up(handle, api.url_set, "curl_url_set");
  look_up(handle, api.url_get, "curl_url_get");
  look_up(handle, api.url_strerror, "curl_url_strerror");
  look_up(handle, api.free, "curl_free");
  return api;
}

}  // namespace

const CurlApi& curl() {
  static std::once_flag once;
  static CurlApi api{};
  std::call_once(once, [] { api = load(); });  // a throw leaves the flag unset: the next call retries
  return api;
}

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
