#include "registry/curl_handle.hpp"

#include "registry/http_parse.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>

#include <mutex>

namespace knast {
inline namespace v0 {
namespace registry_detail {
namespace {

struct CurlUrlDeleter {
  void operator()(CURLU* handle) const noexcept { curl().url_cleanup(handle); }
};
using CurlUrl = std::unique_ptr<CURLU, CurlUrlDeleter>;

struct CurlStringDeleter {
  void operator()(char* text) const noexcept { curl().free(text); }
};

CurlUrl make_url_handle() {
  ensure_curl_initialized();
  CurlUrl handle(curl().url());
  if (!handle) throw Error(ErrorCode::internal, "libcurl could not make a URL handle");
  return handle;
}

[[noreturn]] void bad_url(std::string_view url, std::string_view problem) {
  throw Error(ErrorCode::invalid_argument, fmt::format("URL {}: {}", quote_header(url), problem));
}

std::string url_part(CURLU* handle, CURLUPart part, unsigned flags, std::string_view url) {
  char* raw = nullptr;
  const CURLUcode rc = curl().url_get(handle, part, &raw, flags);
  std::unique_ptr<char, CurlStringDeleter> owned(raw);
  if (rc != CURLUE_OK || !raw) bad_url(url, curl().url_strerror(rc));
  return raw;
}

void require_http(CURLU* handle, std::string_view url) {
  const std::string scheme = ascii_lower(url_part(handle, CURLUPART_SCHEME, 0, url));
  if (scheme != "http" && scheme != "https") bad_url(url, "not an http or https URL");
}

}  // namespace

void ensure_curl_initialized() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl().global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw Error(ErrorCode::internal, "libcurl could not be initialised");
  });
}

CurlEasy make_curl_easy() {
  ensure_curl_initialized();
  CurlEasy handle(curl().easy_init());
  if (!handle) throw Error(ErrorCode::internal, "libcurl could not make a transfer handle");
  return handle;
}

void CurlHeaderList::append(const std::string& line) {
  curl_slist* grown = curl().slist_append(list_, line.c_str());
  if (!grown) throw Error(ErrorCode::internal, "out of memory building HTTP headers");
  list_ = grown;
}

UrlParts parse_url(std::string_view url) {
  const CurlUrl handle = make_url_handle();
  // No CURLU_GUESS_SCHEME and no default scheme: only absolute URLs are accepted.
  if (const CURLUcode rc = curl().url_set(handle.get(), CURLUPART_URL, std::string(url).c_str(), 0); rc != CURLUE_OK)
    bad_url(url, curl().url_strerror(rc));
  require_http(handle.get(), url);
  UrlParts parts;
  parts.scheme = ascii_lower(url_part(handle.get(), CURLUPART_SCHEME, 0, url));
  parts.host = ascii_lower(url_part(handle.get(), CURLUPART_HOST, 0, url));
  parts.port = url_part(handle.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT, url);
  return parts;
}

std::string resolve_url(std::string_view base, std::string_view reference) {
  const CurlUrl handle = make_url_handle();
  if (const CURLUcode rc = curl().url_set(handle.get(), CURLUPART_URL, std::string(base).c_str(), 0); rc != CURLUE_OK)
    bad_url(base, curl().url_strerror(rc));
  // Setting a URL on a handle that holds one resolves it as a relative reference.
  if (const CURLUcode rc = curl().url_set(handle.get(), CURLUPART_URL, std::string(reference).c_str(), 0);
      rc != CURLUE_OK)
    bad_url(reference, curl().url_strerror(rc));
  require_http(handle.get(), reference);
  return url_part(handle.get(), CURLUPART_URL, 0, reference);
}

std::string add_query(std::string_view url, std::string_view name_value) {
  const auto hash = url.find('#');
  const std::string_view base = url.substr(0, hash);
  const char separator = base.find('?') == std::string_view::npos ? '?' : (base.back() == '?' || base.back() == '&') ? '\0' : '&';
  std::string out(base);
  if (separator != '\0') out += separator;
  out += name_value;
  return out;
}

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
