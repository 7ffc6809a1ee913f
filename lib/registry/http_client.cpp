#include "registry/http_client.hpp"

#include "registry/http_parse.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <exception>

namespace knast {
inline namespace v0 {
namespace registry_detail {
namespace {

/// Error bodies are only for messages; registries send a few hundred bytes.
constexpr std::size_t max_error_body = 64u << 10;
/// Far more than any registry sends, far less than could hurt.
constexpr std::size_t max_header_bytes = 256u << 10;
/// libcurl's receive buffer. Its 16 KiB default costs a recv(), a callback, a write() and
/// a hash update per 16 KiB of blob; 256 KiB cuts those several times over on a fast link
/// while the memory stays bounded (one buffer per connection, a few connections).
constexpr long receive_buffer_bytes = 256L << 10;

bool is_success(long status) noexcept { return status >= 200 && status < 300; }

/// Transport failures worth another attempt: the network or the server hiccuped.
bool is_retryable(CURLcode rc) noexcept {
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP3:
      return true;
    default:
      return false;
  }
}

/// What a failed exchange tells about the protocol the server speaks. A TLS server
/// that gets a plain-HTTP request hangs up, resets, or answers with a TLS alert record,
/// which libcurl reads as a malformed (or HTTP/0.9) answer.
/// An answer that got as far as headers was HTTP, whatever went wrong afterwards.
ProtocolHint protocol_hint(CURLcode rc, bool got_headers) noexcept {
  switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
      return ProtocolHint::tls_handshake;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return got_headers ? ProtocolHint::none : ProtocolHint::not_http;
    default:
      return ProtocolHint::none;
  }
}

/// Whether the server ended the TLS session with an alert about the client's certificate.
/// Alerts a client receives about certificates are about its own (OpenSSL's wording:
/// "sslv3 alert bad certificate", "tlsv13 alert certificate required", "tlsv1 alert
/// unknown ca"); a server certificate the client distrusts fails otherwise.
bool peer_refused_client_certificate(std::string_view error) {
  const std::string text = ascii_lower(error);
  return text.find("alert") != std::string::npos &&
         (text.find("certificate") != std::string::npos || text.find("unknown ca") != std::string::npos);
}

/// The state of one perform(), reached from libcurl's callbacks through their userdata.
struct Exchange {
  const HttpRequest* request = nullptr;
  RequestBody* body = nullptr;
  ResponseSink* sink = nullptr;
  const std::atomic<bool>* cancel = nullptr;
  CURL* handle = nullptr;
  HttpResponse response;
  bool began = false;
  std::size_t header_bytes = 0;
  std::exception_ptr parked;
  char error[CURL_ERROR_SIZE] = {};

  long current_status() const {
    long status = 0;
    curl().easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    return status;
  }
  /// Tells the sink a 2xx body starts (once per answer).
  void begin_body() {
    if (began) return;
    began = true;
    response.status = current_status();
    if (sink && is_success(response.status)) sink->begin(response.status, response.headers);
  }
};

void add_header_line(Exchange& x, std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.substr(0, 5) == "HTTP/") {
    // A new answer starts (after a 100 Continue, or a proxy's CONNECT answer): only the
    // last one's headers count.
    x.response.headers.entries.clear();
    return;
  }
  if (line.empty() || line.front() == ' ' || line.front() == '\t') return;  // end, or obsolete folding
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return;
  x.response.headers.entries.emplace_back(std::string(trim_ows(line.substr(0, colon))),
                                          std::string(trim_ows(line.substr(colon + 1))));
}

extern "C" std::size_t on_header(char* data, std::size_t size, std::size_t count, void* userdata) {
  auto& x = *static_cast<Exchange*>(userdata);
  const std::size_t length = size * count;
  try {
    x.header_bytes += length;
    if (x.header_bytes > max_header_bytes)
      throw Error(ErrorCode::limit_exceeded, fmt::format("the server sent more than {} bytes of headers", max_header_bytes));
    add_header_line(x, std::string_view(data, length));
    return length;
  } catch (...) {
    x.parked = std::current_exception();
    return 0;
  }
}

extern "C" std::size_t on_write(char* data, std::size_t size, std::size_t count, void* userdata) {
  auto& x = *static_cast<Exchange*>(userdata);
  const std::size_t length = size * count;
  try {
    x.begin_body();
    if (is_success(x.response.status)) {
      if (x.sink) x.sink->write(data, length);
    } else if (x.response.error_body.size() < max_error_body) {
      x.response.error_body.append(data, std::min(length, max_error_body - x.response.error_body.size()));
    }
    return length;
  } catch (...) {
    x.parked = std::current_exception();
    return 0;  // anything but length makes libcurl abort with CURLE_WRITE_ERROR
  }
}

extern "C" std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* userdata) {
  auto& x = *static_cast<Exchange*>(userdata);
  try {
    return x.body ? x.body->read(buffer, size * count) : 0;
  } catch (...) {
    x.parked = std::current_exception();
    return CURL_READFUNC_ABORT;
  }
}

extern "C" int on_progress(void* userdata, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto& x = *static_cast<const Exchange*>(userdata);
  return x.cancel && x.cancel->load(std::memory_order_relaxed) ? 1 : 0;
}

template <typename T>
void set(CURL* handle, CURLoption option, T value) {
  if (const CURLcode rc = curl().easy_setopt(handle, option, value); rc != CURLE_OK)
    throw Error(ErrorCode::internal, fmt::format("libcurl refused an option: {}", curl().easy_strerror(rc)));
}

curl_off_t body_size(const HttpRequest& request) {
  return request.body ? static_cast<curl_off_t>(request.body->size()) : 0;
}

void configure_method(CURL* handle, const HttpRequest& request) {
  const std::string& method = request.method;
  if (method == "GET") {
    set(handle, CURLOPT_HTTPGET, 1L);
  } else if (method == "HEAD") {
    set(handle, CURLOPT_NOBODY, 1L);
  } else if (method == "POST") {
    set(handle, CURLOPT_POST, 1L);
    set(handle, CURLOPT_POSTFIELDSIZE_LARGE, body_size(request));
    if (!request.body) set(handle, CURLOPT_POSTFIELDS, "");
  } else if (method == "PUT" || method == "PATCH") {
    set(handle, CURLOPT_UPLOAD, 1L);
    set(handle, CURLOPT_INFILESIZE_LARGE, body_size(request));
    if (method == "PATCH") set(handle, CURLOPT_CUSTOMREQUEST, "PATCH");
  } else if (method == "DELETE") {
    set(handle, CURLOPT_CUSTOMREQUEST, "DELETE");
  } else {
    throw Error(ErrorCode::internal, "unsupported HTTP method " + method);
  }
}

}  // namespace

std::optional<std::string> HttpHeaders::get(std::string_view name) const {
  for (const auto& [key, value] : entries)
    if (iequals(key, name)) return value;
  return std::nullopt;
}

std::vector<std::string> HttpHeaders::all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [key, value] : entries)
    if (iequals(key, name)) out.push_back(value);
  return out;
}

std::size_t StringBody::read(char* buffer, std::size_t size) {
  const std::size_t n = std::min(size, data_.size() - offset_);
  std::memcpy(buffer, data_.data() + offset_, n);
  offset_ += n;
  return n;
}

void BufferSink::begin(long, const HttpHeaders& headers) {
  body_.clear();  // a retried or redirected answer starts over
  // Refuse at once what is announced as too large, before any byte arrives.
  const auto length = headers.get("Content-Length");
  if (!length) return;
  const auto announced = parse_content_length(*length);
  if (!announced) throw Error(ErrorCode::network, fmt::format("{}: malformed Content-Length {}", what_, quote_header(*length)));
  if (*announced > max_bytes_)
    throw Error(ErrorCode::limit_exceeded,
                fmt::format("{} is {} bytes, over the limit of {} bytes", what_, *announced, max_bytes_));
}

void BufferSink::write(const char* data, std::size_t size) {
  if (size > max_bytes_ - body_.size())
    throw Error(ErrorCode::limit_exceeded, fmt::format("{} is over the limit of {} bytes", what_, max_bytes_));
  body_.append(data, size);
}

HttpClient::HttpClient(const TransferSettings& settings) : settings_(&settings), handle_(make_curl_easy()) {}

void HttpClient::configure(const HttpRequest& request, const CurlHeaderList& headers) {
  CURL* h = handle_.get();
  // reset keeps the connection cache, so the next request reuses the connection.
  curl().easy_reset(h);
  set(h, CURLOPT_URL, request.url.c_str());
  set(h, CURLOPT_PROTOCOLS_STR, "http,https");
  set(h, CURLOPT_NOSIGNAL, 1L);
  set(h, CURLOPT_FOLLOWLOCATION, 0L);  // redirects are followed above, deciding about credentials
  set(h, CURLOPT_TCP_KEEPALIVE, 1L);
  set(h, CURLOPT_BUFFERSIZE, receive_buffer_bytes);
  set(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings_->connect_timeout.count()));
  set(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(settings_->low_speed_time.count()));
  set(h, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(settings_->low_speed_limit));
  set(h, CURLOPT_USERAGENT, settings_->user_agent.c_str());
  if (settings_->ca_file) set(h, CURLOPT_CAINFO, settings_->ca_file->c_str());
  if (settings_->client_cert) set(h, CURLOPT_SSLCERT, settings_->client_cert->c_str());
  if (settings_->client_key) set(h, CURLOPT_SSLKEY, settings_->client_key->c_str());
  set(h, CURLOPT_HTTPHEADER, headers.get());
  configure_method(h, request);
}

HttpResponse HttpClient::perform(const HttpRequest& request, ResponseSink* sink, const std::atomic<bool>* cancel) {
  CurlHeaderList headers;
  for (const auto& line : request.headers) headers.append(line);
  headers.append("Expect:");  // no 100-continue round trip before uploads
  configure(request, headers);

  Exchange x;
  x.request = &request;
  x.sink = sink;
  x.cancel = cancel;
  x.handle = handle_.get();
  x.response.url = request.url;
  CURL* h = handle_.get();
  set(h, CURLOPT_ERRORBUFFER, x.error);
  set(h, CURLOPT_HEADERFUNCTION, on_header);
  set(h, CURLOPT_HEADERDATA, &x);
  set(h, CURLOPT_WRITEFUNCTION, on_write);
  set(h, CURLOPT_WRITEDATA, &x);
  set(h, CURLOPT_NOPROGRESS, 0L);
  set(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  set(h, CURLOPT_XFERINFODATA, &x);
  // Always a read function: without one libcurl would read an upload from stdin.
  x.body = request.body;
  if (x.body) x.body->rewind();
  set(h, CURLOPT_READFUNCTION, on_read);
  set(h, CURLOPT_READDATA, &x);

  const CURLcode rc = curl().easy_perform(h);
  // Nothing may keep pointing at this frame's state once it is gone.
  curl().easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  if (x.parked) std::rethrow_exception(x.parked);
  if (rc == CURLE_ABORTED_BY_CALLBACK && cancel && cancel->load()) throw Error(ErrorCode::cancelled, "cancelled");
  if (rc != CURLE_OK) {
    const std::string detail = x.error[0] ? fmt::format("{} ({})", curl().easy_strerror(rc), x.error)
                                          : std::string(curl().easy_strerror(rc));
    // With TLS 1.3 the refusal comes after the handshake, as a failure to read; trying
    // again would only be refused again.
    if (peer_refused_client_certificate(x.error))
      throw TransportError(fmt::format("{}: {}",
                                       settings_->client_cert ? "the registry refused the client certificate"
                                                              : "the registry requires a client certificate "
                                                                "(RegistryOptions::client_certificate)",
                                       detail),
                           false);
    throw TransportError(detail, is_retryable(rc), protocol_hint(rc, x.header_bytes > 0));
  }
  x.begin_body();  // a 2xx answer without a body (HEAD, 201) still begins
  return std::move(x.response);
}

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
