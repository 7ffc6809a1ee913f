/// @file curl_handle.hpp
/// @brief Private: RAII owners of libcurl's handles (easy handles, header lists, URL
///        handles) and the one-time global initialisation.
#pragma once

#include "registry/curl_api.hpp"

#include <curl/curl.h>

#include <memory>
#include <string>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace registry_detail {

/// Runs curl_global_init once per process (thread-safe); every handle maker calls it.
void ensure_curl_initialized();

/// Deletes an easy handle.
struct CurlEasyDeleter {
  void operator()(CURL* handle) const noexcept { curl().easy_cleanup(handle); }
};
/// An owned easy handle.
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
/// A new easy handle. @throws Error internal if libcurl cannot make one.
CurlEasy make_curl_easy();

/// An owned curl_slist of header lines.
class CurlHeaderList {
 public:
  CurlHeaderList() = default;
  ~CurlHeaderList() { curl().slist_free_all(list_); }
  CurlHeaderList(CurlHeaderList&& other) noexcept : list_(other.list_) { other.list_ = nullptr; }
  CurlHeaderList& operator=(CurlHeaderList&& other) noexcept {
    if (this != &other) {
      curl().slist_free_all(list_);
      list_ = other.list_;
      other.list_ = nullptr;
    }
    return *this;
  }
  CurlHeaderList(const CurlHeaderList&) = delete;
  CurlHeaderList& operator=(const CurlHeaderList&) = delete;

  /// Appends "Name: value". @throws Error internal when out of memory.
  void append(const std::string& line);
  /// The list for CURLOPT_HTTPHEADER (null when empty).
  curl_slist* get() const noexcept { return list_; }

 private:
  curl_slist* list_ = nullptr;
};

/// The parts of an absolute http(s) URL, as libcurl's URL parser reads them.
struct UrlParts {
  std::string scheme;  ///< "http" or "https", lower case.
  std::string host;    ///< Lower case; IPv6 in brackets.
  std::string port;    ///< Always set (the scheme's default when absent).

  /// "scheme://host:port": two URLs with the same origin talk to the same server.
  std::string origin() const { return scheme + "://" + host + ":" + port; }
  /// "host:port", as plain_http_allowed() takes it.
  std::string host_port() const { return host + ":" + port; }
};

/// Parses an absolute http(s) URL. @throws Error invalid_argument otherwise.
UrlParts parse_url(std::string_view url);

/// @p reference (absolute, or relative as in a Location or Link header) resolved
/// against @p base. @throws Error invalid_argument if the result is not an http(s) URL.
std::string resolve_url(std::string_view base, std::string_view reference);

/// @p url with `name=value` (already encoded) added to its query.
std::string add_query(std::string_view url, std::string_view name_value);

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
