/// @file curl_api.hpp
/// @brief Private: libcurl, loaded the first time a registry is used.
///
/// libknast does not link libcurl: loading it and its dependencies (Debian's libcurl
/// brings some thirty libraries: Kerberos, LDAP, GnuTLS, SSH, ...) costs ~13 ms at the start
/// of every program that links libknast, whether it ever talks to a registry or not — a
/// third of what running a short-lived container takes. The functions knast uses are
/// looked up once with dlopen(3)/dlsym(3), from the libcurl ABI 4 that the headers
/// describe; a host without libcurl fails the first registry call with a clear error.
#pragma once

#include <curl/curl.h>

namespace knast {
inline namespace v0 {
namespace registry_detail {

/// The libcurl functions knast calls.
struct CurlApi {
  CURLcode (*global_init)(long flags);
  CURL* (*easy_init)();
  void (*easy_cleanup)(CURL* handle);
  void (*easy_reset)(CURL* handle);
  CURLcode (*easy_setopt)(CURL* handle, CURLoption option, ...);
  CURLcode (*easy_getinfo)(CURL* handle, CURLINFO info, ...);
  CURLcode (*easy_perform)(CURL* handle);
  const char* (*easy_strerror)(CURLcode code);
  curl_slist* (*slist_append)(curl_slist* list, const char* line);
  void (*slist_free_all)(curl_slist* list);
  CURLU* (*url)();
  void (*url_cleanup)(CURLU* handle);
  CURLUcode (*url_set)(CURLU* handle, CURLUPart part, const char* content, unsigned int flags);
  CURLUcode (*url_get)(const CURLU* handle, CURLUPart part, char** content, unsigned int flags);
  const char* (*url_strerror)(CURLUcode code);
  void (*free)(void* pointer);
};

/// libcurl, loaded on the first call (thread-safe). @throws Error not_found when libcurl
/// (libcurl.so.4) cannot be loaded, internal when it lacks a function knast needs.
const CurlApi& curl();

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
