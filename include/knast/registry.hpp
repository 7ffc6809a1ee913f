/// @file registry.hpp
/// @brief Registry: the OCI distribution API over HTTPS — resolving references, pulling
///        images into an ImageStore, pushing them back, listing tags, logging in.
///
/// A Registry talks to any number of registries; it keeps per-registry state (bearer
/// tokens per scope, whether a loopback or insecure registry speaks TLS, reusable
/// connections), so one instance should serve a whole program. It may be used from
/// several threads at once.
///
/// Security rules it keeps whatever the caller asks:
/// - plain HTTP only for `localhost`, `127.0.0.1`, `::1` and registries listed in
///   RegistryOptions::insecure_registries (HTTPS is tried first even there, except for a
///   loopback registry that is also listed: plain HTTP first, then HTTPS if it speaks
///   TLS); TLS certificates are always verified;
/// - credentials go only to the registry's own host and to the token realm that registry
///   names, and never over plain HTTP to a host other than the registry's;
/// - an Authorization header is dropped when a redirect leads to another host (blob
///   downloads are redirected to storage services);
/// - credentials never appear in an error message.
///
/// Failures are Errors whose message says what was being done
/// ("pull localhost:5000/app:1: blob sha256:…: HTTP 500 after 4 attempts"), with codes
/// network (transport, HTTP 5xx), auth (401/403, bad credentials, token server errors),
/// not_found (unknown manifest, tag, blob or platform), integrity (content that does not
/// match its digest or size), limit_exceeded (a manifest over max_manifest_bytes),
/// cancelled (a progress callback said stop), unsupported (a schema 1 manifest).
#pragma once

#include <knast/digest.hpp>
#include <knast/export.hpp>
#include <knast/oci.hpp>
#include <knast/platform.hpp>
#include <knast/reference.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace knast {
inline namespace v0 {

class ImageStore;

/// Credentials for one registry, as `docker login` keeps them.
struct KNAST_API Credentials {
  std::string username;        ///< User name (may be empty with an identity token).
  std::string password;        ///< Password or personal access token.
  std::string identity_token;  ///< An OAuth2 refresh token (docker's `identitytoken`); used instead of the password when set.

  /// Whether nothing is set (anonymous access).
  bool empty() const noexcept { return username.empty() && password.empty() && identity_token.empty(); }
  /// Credentials compare field by field.
  friend bool operator==(const Credentials&, const Credentials&) = default;
};

/// A TLS client certificate and its private key (PEM files).
struct KNAST_API ClientCertificate {
  std::filesystem::path certificate;  ///< The certificate (PEM).
  std::filesystem::path key;          ///< Its private key (PEM).
};

/// How a Registry connects and authenticates. The defaults suit public registries.
struct KNAST_API RegistryOptions {
  /// The docker config.json to read credentials from and to write on login(); by default
  /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
  std::optional<std::filesystem::path> docker_config;
  /// Whether to read the docker config at all (false: explicit credentials only).
  bool use_docker_config = true;
  /// Credentials by registry domain ("docker.io", "localhost:5000"); they win over the
  /// docker config.
  std::map<std::string, Credentials> credentials;
  /// Registries ("host:port" or "host" for any port) that may be reached over plain HTTP
  /// when they do not speak TLS, in addition to localhost, 127.0.0.1 and ::1. Listing a
  /// loopback registry makes plain HTTP the first try there. Also the hosts a foreign
  /// layer's URL may name over plain HTTP.
  std::vector<std::string> insecure_registries;
  /// Mirrors by registry domain: endpoints ("https://mirror.example", "localhost:5001")
  /// tried in order before the registry itself when pulling and resolving (never when
  /// pushing). A mirror that fails or lacks the content is skipped.
  std::map<std::string, std::vector<std::string>> mirrors;
  /// A PEM bundle of certificate authorities to trust instead of the system's.
  std::optional<std::filesystem::path> ca_file;
  /// A client certificate to present to registries that ask for one.
  std::optional<ClientCertificate> client_certificate;
  /// Blobs transferred at once by pull() and push() (at least 1).
  unsigned jobs = 3;
  /// Longest wait for a connection to be made.
  std::chrono::milliseconds connect_timeout{30'000};
  /// A transfer slower than low_speed_limit bytes per second for this long is dropped
  /// (and retried).
  std::chrono::seconds low_speed_time{30};
  /// See low_speed_time.
  std::uint32_t low_speed_limit = 1024;
  /// Retries after a failed attempt (connection failures, HTTP 429 and 5xx, a dropped
  /// transfer). A blob transfer that made progress resumes without using up a retry.
  unsigned retries = 3;
  /// Wait before the first retry; it doubles with every further one.
  std::chrono::milliseconds retry_delay{500};
  /// Longest wait between retries, also the cap on a server's Retry-After.
  std::chrono::milliseconds max_retry_delay{30'000};
  /// Longest a `docker-credential-*` helper may take.
  std::chrono::milliseconds credential_helper_timeout{10'000};
  /// The User-Agent header; empty means "knast/<version>".
  std::string user_agent;
};

/// A manifest or index exactly as a registry served it.
struct KNAST_API ResolvedManifest {
  /// Its descriptor: the media type the registry declared (or the document's own), the
  /// digest of the bytes received, their size.
  Descriptor descriptor;
  /// The bytes received (at most max_manifest_bytes), verified against the digest.
  std::string bytes;
};

/// Where a blob transfer stands.
enum class TransferState {
  queued,       ///< Waiting for a free job.
  transferring, ///< Bytes are moving.
  skipped,      ///< Already present (in the store, or in the registry when pushing).
  mounted,      ///< Pushing: mounted from another repository of the same registry.
  done,         ///< Transferred and verified.
};

/// One progress report: the blob it is about, and the whole operation.
struct KNAST_API Progress {
  Digest digest = Digest::of(std::string_view{});  ///< The blob.
  std::string media_type;                          ///< Its media type.
  TransferState state = TransferState::queued;     ///< Where it stands.
  std::uint64_t bytes_done = 0;                    ///< Its bytes transferred (or present).
  std::uint64_t bytes_total = 0;                   ///< Its size.
  std::uint64_t total_bytes_done = 0;              ///< All blobs' bytes transferred or present.
  std::uint64_t total_bytes = 0;                   ///< All blobs' sizes.
  std::size_t blobs_done = 0;                      ///< Blobs done, skipped or mounted.
  std::size_t blobs_total = 0;                     ///< Blobs in the operation.
};

/// Receives progress reports, always on the thread that called pull() or push(), never
/// two at once. Returning false cancels the operation (ErrorCode::cancelled).
using ProgressCallback = std::function<bool(const Progress&)>;

/// What pull() fetches.
struct KNAST_API PullOptions {
  /// The platform to choose from an index; by default the host's. A Linux image on a
  /// FreeBSD host is a valid request: ask for `linux/amd64`.
  std::optional<Platform> platform;
  /// Fetch every platform of an index (attestations excepted) instead of one.
  bool all_platforms = false;
  /// Blobs downloaded at once; 0 means RegistryOptions::jobs.
  unsigned jobs = 0;
  /// Progress reports per blob; may cancel.
  ProgressCallback progress;
};

/// What pull() did.
struct KNAST_API PullResult {
  Reference reference;                 ///< The reference pulled (and tagged in the store).
  Descriptor target;                   ///< What the reference names in the store now: the index or a manifest (see Registry::pull).
  std::vector<Descriptor> manifests;   ///< The image manifests stored (one per platform pulled).
  std::uint64_t bytes_downloaded = 0;  ///< Blob bytes received (a resumed transfer's bytes once; one that started over, again).
  std::size_t blobs_downloaded = 0;    ///< Blobs downloaded.
  std::size_t blobs_skipped = 0;       ///< Blobs already in the store.
};

/// What push() sends.
struct KNAST_API PushOptions {
  /// Push only this platform's manifest of an index named by the source (as a manifest);
  /// by default the whole index, whose manifests must all be in the store.
  std::optional<Platform> platform;
  /// Blobs uploaded at once; 0 means RegistryOptions::jobs.
  unsigned jobs = 0;
  /// Upload blobs larger than this in chunks of this size (PATCH); 0 uploads every blob
  /// in one request.
  std::uint64_t chunk_size = 0;
  /// Mount blobs from the source repository when it is on the same registry instead of
  /// uploading them.
  bool mount = true;
  /// Progress reports per blob; may cancel.
  ProgressCallback progress;
};

/// What push() did.
struct KNAST_API PushResult {
  Reference reference;               ///< The destination.
  Descriptor target;                 ///< The manifest or index pushed under it.
  std::uint64_t bytes_uploaded = 0;  ///< Blob bytes sent.
  std::size_t blobs_uploaded = 0;    ///< Blobs uploaded.
  std::size_t blobs_mounted = 0;     ///< Blobs mounted from the source repository.
  std::size_t blobs_skipped = 0;     ///< Blobs the registry had already.
};

/// A client of OCI distribution registries (Docker Hub, GHCR, Harbor, distribution, ...).
class KNAST_API Registry {
 public:
  /// A client with @p options. Nothing is contacted and no file is read until needed.
  explicit Registry(RegistryOptions options = {});
  ~Registry();
  /// Registries move but do not copy.
  Registry(Registry&&) noexcept;
  /// Registries move but do not copy.
  Registry& operator=(Registry&&) noexcept;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// The options in use.
  const RegistryOptions& options() const noexcept;

  /// Checks that @p registry ("docker.io", "localhost:5000") speaks the distribution API
  /// (`GET /v2/`), authenticating as needed. @throws Error network, auth.
  void ping(std::string_view registry);

  /// Fetches the manifest or index @p ref names (by tag or digest), with every media type
  /// knast understands in the Accept header. The bytes are checked against the digest of
  /// a digest reference and against the registry's Docker-Content-Digest; they are parsed
  /// as a Manifest or Index, so a document knast cannot use is refused here.
  /// @throws Error not_found, integrity, limit_exceeded, unsupported, network, auth.
  ResolvedManifest resolve(const Reference& ref);

  /// The descriptor of what @p ref names, from a HEAD request (no body is downloaded;
  /// falls back to GET when the registry sends no digest). @throws as resolve().
  Descriptor head(const Reference& ref);

  /// Pulls @p ref into @p store: the manifest (or the index, the indexes nested in it and
  /// the manifests chosen from them), the configs and the layers, each streamed into the
  /// store while it is hashed, verified, and committed only when complete. Blobs already
  /// present are skipped; blobs download in parallel. A foreign layer (one with `urls`)
  /// the registry does not serve comes from its URLs. A store lease is held throughout, and the reference is
  /// tagged only when everything is in: a failed or cancelled pull tags nothing.
  ///
  /// The reference names what was pulled: the manifest, or the index. A store that names
  /// only complete images refuses an index whose other platforms are absent; after a
  /// single-platform pull by tag the reference then names the manifest pulled, the index
  /// staying in the store unnamed (by digest, the store's refusal is the error).
  /// PullResult::target says which.
  /// @throws Error not_found (naming the platforms available when none matches),
  ///         integrity, cancelled, network, auth, limit_exceeded, io.
  PullResult pull(const Reference& ref, ImageStore& store, const PullOptions& options = {});

  /// Pushes the image @p source names in @p store to @p destination: blobs first (each
  /// checked with HEAD, mounted across repositories of the same registry, or uploaded),
  /// then the manifests, then the index, tagged as @p destination's tag (or put by digest).
  /// @throws Error not_found (not in the store), network, auth, integrity, cancelled.
  PushResult push(ImageStore& store, const Reference& source, const Reference& destination,
                  const PushOptions& options = {});

  /// The tags of @p repository (its tag and digest are ignored), following the registry's
  /// pagination; @p page_size asks for pages of that many (0: the registry's default).
  /// @throws Error not_found, network, auth.
  std::vector<std::string> tags(const Reference& repository, std::size_t page_size = 0);

  /// The repositories of @p registry (`GET /v2/_catalog`), following pagination; most
  /// public registries refuse this (auth). @throws Error network, auth.
  std::vector<std::string> catalog(std::string_view registry, std::size_t page_size = 0);

  /// Checks @p credentials against @p registry ("docker.io", "localhost:5000") and, if
  /// they work, stores them — with the credential helper the docker config names for the
  /// registry (`credHelpers`, else `credsStore`), else in the docker config itself
  /// (written atomically, mode 0600) — and uses them from then on.
  /// @throws Error auth (refused, or the helper failed), network, io.
  void login(std::string_view registry, const Credentials& credentials);

  /// Removes @p registry's credentials from the docker config, its credential helper
  /// and this client. Returns whether there were any. @throws Error io, auth (the helper
  /// failed).
  bool logout(std::string_view registry);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace v0
}  // namespace knast
