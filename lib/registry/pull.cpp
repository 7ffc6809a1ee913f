// Registry::pull: resolve, choose the platform, stream the blobs into the store in
// parallel, store the manifests, tag. The store gets nothing unverified: every blob goes
// through a BlobWriter that hashes while it writes and publishes only on commit.
#include "registry/manifests.hpp"
#include "registry/operations.hpp"
#include "registry/transfer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace knast {
inline namespace v0 {
namespace registry_detail {
namespace {

/// Streams one blob into the store. After a dropped connection the next attempt asks for
/// the rest with Range, and the writer carries on hashing from where it stopped; a
/// registry that ignores the Range gets a fresh start.
class BlobSink final : public ResponseSink {
 public:
  BlobSink(ImageStore& store, const Descriptor& blob, BlobReporter& reporter)
      : store_(store), blob_(blob), reporter_(reporter) {}

  std::vector<std::string> request_headers() const override {
    if (ranges_ && written() > 0) return {"Range: " + range_from(written())};
    return {};
  }
  void begin(long status, const HttpHeaders& headers) override {
    if (status == 206) {
      check_range(headers);
    } else if (written() > 0) {
      restart();
    }
    check_length(headers);
  }
  void write(const char* data, std::size_t size) override {
    writer().write(data, size);
    received_ += size;
    furthest_ = std::max(furthest_, written());
    reporter_.bytes(static_cast<std::int64_t>(size));
  }
  /// How far into the blob any attempt got: it grows only when an attempt gets further
  /// than all before, so a server that keeps dropping the same early part of a blob (or
  /// ignores Range and drops) runs out of retries instead of looping forever.
  std::uint64_t progress() const noexcept override { return furthest_; }
  /// Bytes received, restarts included.
  std::uint64_t received() const noexcept { return received_; }

  std::uint64_t written() const noexcept { return writer_ ? writer_->bytes_written() : 0; }
  /// Whether every byte is in (an empty blob is complete before any writer exists).
  bool complete() const noexcept { return written() == blob_size(blob_); }
  void commit() { writer().commit(); }
  /// Drops what was written and starts a new writer.
  void restart() {
    reporter_.bytes(-static_cast<std::int64_t>(written()));
    writer_.reset();
    writer_.emplace(store_.ingest(blob_.digest, blob_size(blob_)));
  }

 private:
  BlobWriter& writer() {
    if (!writer_) writer_.emplace(store_.ingest(blob_.digest, blob_size(blob_)));
    return *writer_;
  }

  void check_range(const HttpHeaders& headers) {
    std::optional<ContentRange> range;
    if (const auto value = headers.get("Content-Range")) {
      try {
        range = parse_content_range(*value);
      } catch (const Error&) {
      }
    }
    if (range && range->first == written() && (!range->complete || *range->complete == blob_size(blob_))) return;
    // Not the range asked for: start over without asking for ranges. A TransportError
    // makes the request layer try again.
    ranges_ = false;
    restart();
    throw TransportError(fmt::format("blob {}: the registry answered a range other than the one asked for",
                                     blob_.digest.string()),
                         true);
  }

  void check_length(const HttpHeaders& headers) const {
    const auto value = headers.get("Content-Length");
    if (!value) return;
    const std::uint64_t expected = blob_size(blob_) - written();
    const auto announced = parse_content_length(*value);
    if (!announced || *announced != expected)
      throw Error(ErrorCode::integrity,
                  fmt::format("blob {}: the registry announces {} bytes where {} are expected", blob_.digest.string(),
                              announced ? std::to_string(*announced) : quote_header(*value), expected));
  }

  ImageStore& store_;
  const Descriptor& blob_;
  BlobReporter& reporter_;
  std::optional<BlobWriter> writer_;
  std::uint64_t received_ = 0;
  std::uint64_t furthest_ = 0;
  bool ranges_ = true;
};

/// The pulled content and where it came from.
struct Downloader {
  RegistryClient& client;
  ImageStore& store;
  const std::vector<Endpoint>& endpoints;  // the one that served the manifest first
  const std::string& repository;
  std::atomic<std::uint64_t> bytes_received{0};
  std::atomic<std::size_t> downloaded{0};

  /// Fetches @p blob from the registry's endpoints in order (mirrors first), then, for a
  /// foreign layer, from the URLs its descriptor names. A partial transfer carries on from
  /// the next source with Range.
  TransferState download(const Descriptor& blob, BlobReporter& reporter, const std::atomic<bool>& cancel) {
    if (store.has_blob(blob.digest)) return TransferState::skipped;  // another pull was quicker
    reporter.state(TransferState::transferring);
    BlobSink sink(store, blob, reporter);
    const std::size_t sources = endpoints.size() + blob.urls.size();
    std::optional<std::string> registry_error;
    for (std::size_t i = 0;; ++i) {
      try {
        if (i < endpoints.size())
          fetch(endpoints[i], blob, sink, cancel);
        else
          fetch_foreign(blob.urls[i - endpoints.size()], blob, sink, cancel);
        bytes_received += sink.received();
        ++downloaded;
        return TransferState::done;
      } catch (const Error& e) {
        if (e.kind() == ErrorCode::cancelled || i + 1 == sources) {
          bytes_received += sink.received();
          if (i < endpoints.size() || !registry_error || e.kind() == ErrorCode::cancelled) throw;
          throw Error(e.kind(), fmt::format("{}; from the registry: {}", e.what(), *registry_error));
        }
        if (i + 1 == endpoints.size()) registry_error = e.what();
        // Another source may have a good copy; a partial one would only be resumed if the
        // bytes so far were trustworthy, and after a digest failure they are not.
        if (e.kind() == ErrorCode::integrity) sink.restart();
      }
    }
  }

  void fetch(const Endpoint& endpoint, const Descriptor& blob, BlobSink& sink, const std::atomic<bool>& cancel) {
    RegistryCall call;
    call.what = endpoint.mirror ? fmt::format("blob {} (mirror {})", blob.digest.string(), endpoint.host)
                                : fmt::format("blob {}", blob.digest.string());
    call.path = blob_path(repository, blob.digest);
    call.scopes = {pull_scope(repository)};
    finish(call.what, client.send(endpoint, call, &sink, &cancel), blob, sink);
  }

  /// A foreign layer from one of its URLs: over HTTPS, or plain HTTP where the insecure
  /// rules allow it, with no credentials (the URL is not the registry's), still verified.
  void fetch_foreign(const std::string& url, const Descriptor& blob, BlobSink& sink, const std::atomic<bool>& cancel) {
    const UrlParts parts = parse_url(url);
    RegistryCall call;
    // The origin only: the rest of a URL may carry a signature.
    call.what = fmt::format("blob {} from {}", blob.digest.string(), parts.origin());
    call.url = url;
    if (parts.scheme == "http" && !plain_http_allowed(parts.host_port(), client.options().insecure_registries))
      throw Error(ErrorCode::network,
                  fmt::format("{}: plain HTTP, allowed only for localhost and insecure registries", call.what));
    finish(call.what, client.send_anonymous(call, &sink, &cancel), blob, sink);
  }

  /// Checks how a transfer ended and commits the blob.
  static void finish(const std::string& what, const HttpResponse& response, const Descriptor& blob, BlobSink& sink) {
    // 416: everything had arrived before the connection dropped, nothing is left to send.
    const bool whole = response.status == 200 || response.status == 206 || (response.status == 416 && sink.complete());
    if (!whole) throw status_error(what, response);
    if (!sink.complete())
      throw Error(ErrorCode::network,
                  fmt::format("{}: the transfer ended after {} of {} bytes", what, sink.written(), blob_size(blob)));
    sink.commit();
  }
};

/// @p endpoints with @p first moved to the front.
std::vector<Endpoint> preferring(std::vector<Endpoint> endpoints, const Endpoint& first) {
  std::stable_partition(endpoints.begin(), endpoints.end(), [&](const Endpoint& e) { return e.host == first.host; });
  return endpoints;
}

/// Config and layers of every manifest, each once, in order.
std::vector<Descriptor> blobs_of(const std::vector<FetchedDocument>& manifests) {
  std::vector<Descriptor> out;
  std::set<Digest> seen;
  for (const auto& document : manifests) {
    const Manifest& manifest = *document.manifest;
    if (seen.insert(manifest.config.digest).second) out.push_back(manifest.config);
    for (const auto& layer : manifest.layers)
      if (seen.insert(layer.digest).second) out.push_back(layer);
  }
  return out;
}

/// Writes a document's bytes into the store unless it is there already.
void store_document(ImageStore& store, const ResolvedManifest& document) {
  const Descriptor& d = document.descriptor;
  if (store.has_blob(d.digest)) return;
  BlobWriter writer = store.ingest(d.digest, blob_size(d));
  writer.write(document.bytes);
  writer.commit();
}

/// How deep indexes may nest below the root index, and how many there may be: far more
/// than any image uses, few enough that a hostile registry cannot keep a pull busy.
constexpr std::size_t max_nested_depth = 8;
constexpr std::size_t max_nested_indexes = 64;

/// A manifest or index an index lists: from the store if it is there (read_blob verifies
/// it), else from the registry; it must be the size the entry says.
FetchedDocument entry_document(RegistryClient& client, const std::vector<Endpoint>& endpoints, const Reference& ref,
                               ImageStore& store, const Descriptor& entry) {
  const std::string what =
      fmt::format("{} {}", is_index_media_type(entry.media_type) ? "index" : "manifest", entry.digest.string());
  // The entry's media type decides what the bytes must parse as.
  FetchedDocument document =
      store.has_blob(entry.digest)
          ? check_document(store.read_blob(entry.digest, std::max(max_manifest_bytes, max_index_bytes)),
                           entry.media_type, std::nullopt, entry.digest, what)
          : fetch_from_first(client, endpoints, ref.path(), entry.digest.string(), entry.digest, nullptr).document;
  if (document.resolved.descriptor.size != entry.size)
    throw Error(ErrorCode::integrity, fmt::format("{}: is {} bytes, the index says {}", what,
                                                  document.resolved.descriptor.size, entry.size));
  // A registry's Content-Type may say otherwise than the entry; the bytes are right (their
  // digest is), the index that lists them is not.
  if (is_index_media_type(entry.media_type) ? !document.index : !document.manifest)
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: is {}, not what the index lists it as ({})", what,
                                                         document.index ? "an index" : "a manifest", entry.media_type));
  return document;
}

/// The entries below a root index, nested indexes followed: what to choose from.
struct IndexTree {
  std::vector<Descriptor> entries;        ///< Entries that are not indexes, in order, depth first.
  std::vector<FetchedDocument> nested;    ///< The nested indexes, each listed after those below it.
};

/// Gathers the entries of an index and of the indexes nested in it (fetched as needed),
/// to a bounded depth and count, each nested index once. An entry without a platform
/// takes that of the index entry above it.
///
/// Every nested index is fetched, whatever its platform: the store reads all of an
/// index's nested indexes when it chooses a platform, and they are small documents.
class IndexWalker {
 public:
  IndexWalker(RegistryClient& client, const std::vector<Endpoint>& endpoints, const Reference& ref, ImageStore& store)
      : client_(client), endpoints_(endpoints), ref_(ref), store_(store) {}

  IndexTree walk(const Index& root) {
    visit(root, std::nullopt, 0);
    return std::move(tree_);
  }

 private:
  void visit(const Index& index, const std::optional<Platform>& inherited, std::size_t depth) {
    for (const auto& listed : index.manifests) {
      Descriptor entry = listed;
      if (!entry.platform) entry.platform = inherited;
      if (!is_index_media_type(entry.media_type)) {
        tree_.entries.push_back(std::move(entry));
        continue;
      }
      // A digest cannot list itself, but a registry can list one index twice or in two places.
      if (!seen_.insert(entry.digest).second) continue;
      if (depth >= max_nested_depth || seen_.size() > max_nested_indexes)
        throw Error(ErrorCode::limit_exceeded,
                    fmt::format("index {}: indexes nest more than {} deep or number more than {}",
                                entry.digest.string(), max_nested_depth, max_nested_indexes));
      FetchedDocument document = entry_document(client_, endpoints_, ref_, store_, entry);
      visit(*document.index, entry.platform, depth + 1);
      tree_.nested.push_back(std::move(document));
    }
  }

  RegistryClient& client_;
  const std::vector<Endpoint>& endpoints_;
  const Reference& ref_;
  ImageStore& store_;
  std::set<Digest> seen_;
  IndexTree tree_;
};

/// Tags @p ref as @p root; returns what it names. An ImageStore that names only complete
/// images refuses an index whose other platforms are absent (not_found): the one manifest
/// pulled from it is named instead, and the index stays in the store unnamed. Not under
/// a digest reference, which would then name content of another digest.
Descriptor name_in_store(ImageStore& store, const Reference& ref, const Descriptor& root,
                         const std::vector<Descriptor>& manifests) {
  try {
    store.tag(ref, root);
    return root;
  } catch (const Error& e) {
    const bool one_manifest_of_an_index = manifests.size() == 1 && manifests.front().digest != root.digest;
    if (e.kind() != ErrorCode::not_found || !one_manifest_of_an_index || ref.digest()) throw;
  }
  store.tag(ref, manifests.front());
  return manifests.front();
}

}  // namespace

PullResult pull_image(RegistryClient& client, const Reference& ref, ImageStore& store, const PullOptions& options) {
  const StoreLease lease = store.lease();  // nothing written here is collected before the tag
  const Resolution root = resolve_reference(client, ref, nullptr);
  const std::vector<Endpoint> endpoints = preferring(client.endpoints(ref.domain(), true), root.endpoint);

  std::vector<FetchedDocument> manifests;
  IndexTree tree;  // of the root index, if it is one
  if (root.document.manifest) {
    manifests.push_back(root.document);
  } else {
    const Platform wanted = options.platform.value_or(Platform::host());
    tree = IndexWalker(client, endpoints, ref, store).walk(*root.document.index);
    std::set<Digest> taken;  // nested indexes may list one manifest twice
    for (const auto& entry : select_manifests(tree.entries, wanted, options.all_platforms, "the index"))
      if (taken.insert(entry.digest).second) manifests.push_back(entry_document(client, endpoints, ref, store, entry));
  }

  const std::vector<Descriptor> blobs = blobs_of(manifests);
  std::vector<bool> present;
  for (const auto& blob : blobs) present.push_back(store.has_blob(blob.digest));
  Downloader downloader{client, store, endpoints, ref.path()};
  const unsigned jobs = options.jobs ? options.jobs : client.options().jobs;
  transfer_blobs(blobs, present, jobs, options.progress,
                 [&](std::size_t i, BlobReporter& reporter, const std::atomic<bool>& cancel) {
                   return downloader.download(blobs[i], reporter, cancel);
                 });

  // Manifests after their blobs and the index after its manifests: whatever a crash
  // leaves behind, no document in the store points at content that is not.
  PullResult result{ref, root.document.resolved.descriptor, {}, downloader.bytes_received.load(), 0, 0};
  for (const auto& manifest : manifests) {
    store_document(store, manifest.resolved);
    result.manifests.push_back(manifest.resolved.descriptor);
  }
  for (const auto& index : tree.nested) store_document(store, index.resolved);
  if (root.document.index) store_document(store, root.document.resolved);
  result.target = name_in_store(store, ref, root.document.resolved.descriptor, result.manifests);
  result.blobs_downloaded = downloader.downloaded.load();
  result.blobs_skipped = blobs.size() - result.blobs_downloaded;
  return result;
}

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
