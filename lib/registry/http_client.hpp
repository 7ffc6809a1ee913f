/// @file http_client.hpp
/// @brief Private: one HTTP exchange over a libcurl easy handle — no redirects followed,
///        no retries, no authentication: the layers above decide those.
///
/// Response bodies stream into a ResponseSink (only for 2xx answers; other bodies are
/// kept, cut to 64 KiB, for error messages). Exceptions a sink or body throws are parked
/// in the callback, the transfer is aborted, and the exception is rethrown once libcurl
/// has returned: nothing ever unwinds through libcurl's frames.
#pragma once

#include "registry/curl_handle.hpp"

#include <knast/error.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace knast {
inline namespace v0 {
namespace registry_detail {

/// Response headers in the order received, names as sent.
struct HttpHeaders {
  std::vector<std::pair<std::string, std::string>> entries;  ///< Name, value (trimmed).

  /// The first value of @p name (case-insensitive), if any.
  std::optional<std::string> get(std::string_view name) const;
  /// Every value of @p name, in order.
  std::vector<std::string> all(std::string_view name) const;
};

/// A request body that can be sent again (after a redirect or for a retry).
class RequestBody {
 public:
  virtual ~RequestBody() = default;
  /// Total bytes.
  virtual std::uint64_t size() const = 0;
  /// Goes back to the first byte.
  virtual void rewind() = 0;
  /// Copies up to @p size next bytes to @p buffer; 0 at the end. May throw.
  virtual std::size_t read(char* buffer, std::size_t size) = 0;
};

/// A body held in memory.
class StringBody final : public RequestBody {
 public:
  explicit StringBody(std::string data) : data_(std::move(data)) {}
  std::uint64_t size() const override { return data_.size(); }
  void rewind() override { offset_ = 0; }
  std::size_t read(char* buffer, std::size_t size) override;

 private:
  std::string data_;
  std::size_t offset_ = 0;
};

/// Receives the body of a 2xx answer.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  /// Extra request headers for the next attempt (a Range to resume, say).
  virtual std::vector<std::string> request_headers() const { return {}; }
  /// A 2xx answer's headers are in and its body follows. Called once per answer, also
  /// for an empty body, before any write(). May throw to refuse the answer.
  virtual void begin(long status, const HttpHeaders& headers) = 0;
  /// The next bytes of the body. May throw.
  virtual void write(const char* data, std::size_t size) = 0;
  /// Body bytes taken so far in total (a retry that makes progress is not a failure).
  virtual std::uint64_t progress() const noexcept { return 0; }
};

/// A sink that keeps the body in memory, refusing one over a limit while it arrives.
class BufferSink final : public ResponseSink {
 public:
  /// Keeps at most @p max_bytes; @p what names the document in the limit error.
  BufferSink(std::size_t max_bytes, std::string what) : max_bytes_(max_bytes), what_(std::move(what)) {}
  void begin(long status, const HttpHeaders& headers) override;
  void write(const char* data, std::size_t size) override;
  /// The body received.
  std::string& body() noexcept { return body_; }

 private:
  std::size_t max_bytes_;
  std::string what_;
  std::string body_;
};

/// One request.
struct HttpRequest {
  std::string method = "GET";        ///< GET, HEAD, POST, PUT, PATCH or DELETE.
  std::string url;                   ///< Absolute http(s) URL.
  std::vector<std::string> headers;  ///< "Name: value" lines.
  RequestBody* body = nullptr;       ///< Body for POST, PUT, PATCH (none: empty).
};

/// One answer (the body went to the sink, unless it was an error).
struct HttpResponse {
  long status = 0;          ///< HTTP status.
  HttpHeaders headers;      ///< The final answer's headers.
  std::string error_body;   ///< The body of a non-2xx answer, at most 64 KiB.
  std::string url;          ///< The URL that gave this answer (after redirects).
  unsigned attempts = 1;    ///< Attempts it took (set by the retrying layer).
};

/// What a transport failure says about the protocol the server speaks.
enum class ProtocolHint {
  none,           ///< Nothing (refused, timed out, cancelled, ...).
  tls_handshake,  ///< The TLS handshake failed: a plain-HTTP server, typically.
  not_http,       ///< A plain-HTTP request got no HTTP answer: a TLS server, typically.
};

/// A failure to exchange anything with the server (connection, TLS, timeout, reset).
class TransportError : public Error {
 public:
  /// A failure described by @p message; @p hint says what it tells about the server.
  TransportError(std::string message, bool retryable, ProtocolHint hint = ProtocolHint::none)
      : Error(ErrorCode::network, std::move(message)), retryable_(retryable), hint_(hint) {}
  /// Whether trying again may help.
  bool retryable() const noexcept { return retryable_; }
  /// Whether the TLS handshake failed (a plain-HTTP server, typically).
  bool tls_handshake() const noexcept { return hint_ == ProtocolHint::tls_handshake; }
  /// What the failure tells about the protocol the server speaks.
  ProtocolHint hint() const noexcept { return hint_; }

 private:
  bool retryable_;
  ProtocolHint hint_;
};

/// Connection settings shared by every exchange.
struct TransferSettings {
  std::chrono::milliseconds connect_timeout{30'000};  ///< Connection phase.
  std::chrono::seconds low_speed_time{30};            ///< See RegistryOptions.
  std::uint32_t low_speed_limit = 1024;               ///< See RegistryOptions.
  std::optional<std::filesystem::path> ca_file;       ///< CA bundle instead of the system's.
  std::optional<std::filesystem::path> client_cert;   ///< Client certificate (PEM).
  std::optional<std::filesystem::path> client_key;    ///< Its key (PEM).
  std::string user_agent;                             ///< User-Agent.
};

/// Sends requests over one easy handle, so connections are reused. Not thread-safe:
/// one per thread.
class HttpClient {
 public:
  /// A client with @p settings (which must outlive it).
  explicit HttpClient(const TransferSettings& settings);

  /// Sends @p request and returns the answer; a 2xx body goes to @p sink (none: dropped).
  /// @p cancel, when set, aborts the transfer (Error cancelled).
  /// @throws TransportError; whatever the sink or body throws; Error limit_exceeded for
  ///         absurd header sizes.
  HttpResponse perform(const HttpRequest& request, ResponseSink* sink, const std::atomic<bool>* cancel = nullptr);

  /// The settings in use.
  const TransferSettings& settings() const noexcept { return *settings_; }

 private:
  void configure(const HttpRequest& request, const CurlHeaderList& headers);
  const TransferSettings* settings_;
  CurlEasy handle_;
};

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
