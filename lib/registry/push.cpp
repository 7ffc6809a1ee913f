// Registry::push: blobs first (HEAD to skip what the registry has, a cross-repository
// mount when the source lives on the same registry, else an upload in one PUT or in
// PATCHed chunks), then the manifests by digest, then the index or manifest under the
// destination's tag. Blobs stream from the store's files; nothing is held in memory.
#include "registry/manifests.hpp"
#include "registry/operations.hpp"
#include "registry/transfer.hpp"

#include "image_store/posix_io.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include <fcntl.h>
#include <unistd.h>

namespace knast {
inline namespace v0 {
namespace registry_detail {
namespace {

/// A byte range of a store file as a request body, counting what was sent.
class FileBody final : public RequestBody {
 public:
  FileBody(const std::filesystem::path& path, std::uint64_t offset, std::uint64_t length, BlobReporter& reporter)
      : fd_(detail::open_file(path, O_RDONLY)), path_(path), offset_(offset), length_(length), reporter_(reporter) {}
  FileBody(const FileBody&) = delete;
  FileBody& operator=(const FileBody&) = delete;

  std::uint64_t size() const override { return length_; }
  void rewind() override {
    reporter_.bytes(-static_cast<std::int64_t>(position_));
    position_ = 0;
  }
  std::size_t read(char* buffer, std::size_t size) override {
    const auto wanted = static_cast<std::size_t>(std::min<std::uint64_t>(size, length_ - position_));
    if (wanted == 0) return 0;
    ssize_t got;
    do {
      got = ::pread(fd_.get(), buffer, wanted, static_cast<off_t>(offset_ + position_));
    } while (got < 0 && errno == EINTR);
    if (got < 0) throw Error(errno, fmt::format("read {}", path_.string()));
    if (got == 0) throw Error(ErrorCode::integrity, fmt::format("{} is shorter than its descriptor says", path_.string()));
    position_ += static_cast<std::uint64_t>(got);
    reporter_.bytes(got);
    return static_cast<std::size_t>(got);
  }
 private:
  detail::UniqueFd fd_;
  std::filesystem::path path_;
  std::uint64_t offset_;
  std::uint64_t length_;
  std::uint64_t position_ = 0;
  BlobReporter& reporter_;
};

/// Counts what one upload attempt reported, so a failed attempt's bytes can be taken back.
class AttemptReporter final : public BlobReporter {
 public:
  explicit AttemptReporter(BlobReporter& inner) : inner_(inner) {}
  void state(TransferState state) override { inner_.state(state); }
  void bytes(std::int64_t delta) override {
    total_ += delta;
    inner_.bytes(delta);
  }
  void undo() {
    inner_.bytes(-total_);
    total_ = 0;
  }

 private:
  BlobReporter& inner_;
  std::int64_t total_ = 0;
};

/// A manifest or index to push, with its bytes from the store.
struct Document {
  Descriptor descriptor;
  std::string bytes;
};

struct Counters {
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::size_t> uploaded{0};
  std::atomic<std::size_t> mounted{0};
  std::atomic<std::size_t> skipped{0};
};

/// What one push does against the destination registry.
class Pusher {
 public:
  Pusher(RegistryClient& client, ImageStore& store, const Reference& source, const Reference& destination,
         const PushOptions& options)
      : client_(client),
        store_(store),
        options_(options),
        endpoint_(client.endpoints(destination.domain(), false).back()),
        repository_(destination.path()) {
    scopes_ = {push_scope(repository_)};
    // A blob already in the source repository of the same registry is mounted, not sent.
    if (options.mount && source.domain() == destination.domain() && source.path() != destination.path()) {
      mount_from_ = source.path();
      scopes_.push_back(pull_scope(*mount_from_));
    }
  }

  TransferState blob(const Descriptor& blob, BlobReporter& reporter, const std::atomic<bool>& cancel) {
    for (unsigned attempt = 0;; ++attempt) {
      AttemptReporter counted(reporter);
      try {
        return push_blob(blob, counted, cancel);
      } catch (const Error& e) {
        counted.undo();
        // An upload that cannot go on (a broken monolithic PUT, a chunked one whose
        // status is unclear) starts over as a whole; the request layer does not resend
        // an upload itself.
        if (e.kind() != ErrorCode::network || attempt >= client_.options().retries) throw;
      }
    }
  }

  /// PUTs a manifest or index under @p reference (a tag or digest).
  void put_document(const Document& document, const std::string& reference) {
    RegistryCall call = make_call(fmt::format("manifest {}", reference), "PUT", manifest_path(repository_, reference));
    call.headers.push_back("Content-Type: " + document.descriptor.media_type);
    StringBody body(document.bytes);
    call.body = &body;
    const HttpResponse response = client_.send(endpoint_, call, nullptr, nullptr);
    if (response.status != 201 && response.status != 200) throw status_error(call.what, response);
    check_digest_header(call.what, response, document.descriptor.digest);
  }

  Counters counters;

 private:
  RegistryCall make_call(std::string what, std::string method, std::string path_or_url) const {
    RegistryCall call;
    call.what = std::move(what);
    call.method = std::move(method);
    (path_or_url.front() == '/' ? call.path : call.url) = std::move(path_or_url);
    call.scopes = scopes_;
    return call;
  }

  static void check_digest_header(const std::string& what, const HttpResponse& response, const Digest& expected) {
    const auto header = response.headers.get("Docker-Content-Digest");
    if (!header) return;
    const auto announced = Digest::try_parse(trim_ows(*header));
    if (!announced || *announced != expected)
      throw Error(ErrorCode::integrity,
                  fmt::format("{}: the registry stored {} instead", what, announced ? announced->string() : quote_header(*header)));
  }

  TransferState push_blob(const Descriptor& blob, BlobReporter& reporter, const std::atomic<bool>& cancel) {
    const std::string what = fmt::format("blob {}", blob.digest.string());
    if (exists(blob, what, cancel)) {
      ++counters.skipped;
      return TransferState::skipped;
    }
    reporter.state(TransferState::transferring);
    const auto location = start_upload(blob, what, cancel);
    if (!location) {
      ++counters.mounted;
      return TransferState::mounted;
    }
    const bool chunked = options_.chunk_size > 0 && blob_size(blob) > options_.chunk_size;
    const HttpResponse done = chunked ? upload_chunks(blob, *location, reporter, what, cancel)
                                      : upload_whole(blob, *location, reporter, what, cancel);
    if (done.status != 201) throw status_error(what, done);
    check_digest_header(what, done, blob.digest);
    counters.bytes += blob_size(blob);
    ++counters.uploaded;
    return TransferState::done;
  }

  bool exists(const Descriptor& blob, const std::string& what, const std::atomic<bool>& cancel) {
    const HttpResponse response =
        client_.send(endpoint_, make_call(what, "HEAD", blob_path(repository_, blob.digest)), nullptr, &cancel);
    if (response.status == 404) return false;
    if (response.status != 200) throw status_error(what, response);
    return true;
  }

  /// Starts an upload session (or mounts the blob): the session's URL, or nothing if the
  /// blob was mounted.
  std::optional<std::string> start_upload(const Descriptor& blob, const std::string& what, const std::atomic<bool>& cancel) {
    std::string path = upload_path(repository_);
    if (mount_from_)
      path = add_query(path, form_encode({{"mount", blob.digest.string()}, {"from", *mount_from_}}));
    const HttpResponse response = client_.send(endpoint_, make_call(what, "POST", path), nullptr, &cancel);
    if (response.status == 201 && mount_from_) return std::nullopt;
    if (response.status != 202) throw status_error(what, response);
    return location_of(response, what);
  }

  static std::string location_of(const HttpResponse& response, const std::string& what) {
    const auto location = response.headers.get("Location");
    if (!location) throw Error(ErrorCode::network, fmt::format("{}: the registry gave no upload Location", what));
    return resolve_url(response.url, *location);  // relative or absolute, both occur
  }

  HttpResponse upload_whole(const Descriptor& blob, const std::string& location, BlobReporter& reporter,
                            const std::string& what, const std::atomic<bool>& cancel) {
    FileBody body(store_.blob_path(blob.digest), 0, blob_size(blob), reporter);
    RegistryCall call = make_call(what, "PUT", add_query(location, form_encode({{"digest", blob.digest.string()}})));
    call.headers.push_back("Content-Type: application/octet-stream");
    call.body = &body;
    call.retry = false;
    return client_.send(endpoint_, call, nullptr, &cancel);
  }

  /// Uploads @p blob in PATCHed chunks. A chunk cut short is not sent again from its
  /// start: the upload's status (GET on its URL, per the distribution spec) says how many
  /// bytes the registry holds, and the upload goes on from there.
  HttpResponse upload_chunks(const Descriptor& blob, std::string location, BlobReporter& reporter,
                             const std::string& what, const std::atomic<bool>& cancel) {
    std::uint64_t offset = 0;
    unsigned resumes = 0;
    while (offset < blob_size(blob)) {
      const std::uint64_t length = std::min(options_.chunk_size, blob_size(blob) - offset);
      try {
        location = send_chunk(blob, location, offset, length, reporter, what, cancel);
        offset += length;
      } catch (const Error& e) {
        if (e.kind() != ErrorCode::network || resumes++ >= client_.options().retries) throw;
        const auto status = upload_status(location, what, cancel);
        // A status that is unclear, or that lost acknowledged bytes, starts the blob over.
        if (!status || status->held < offset || status->held > offset + length) throw;
        reporter.bytes(static_cast<std::int64_t>(status->held - offset));
        offset = status->held;
        location = status->location;
      }
    }
    RegistryCall call = make_call(what, "PUT", add_query(location, form_encode({{"digest", blob.digest.string()}})));
    return client_.send(endpoint_, call, nullptr, &cancel);
  }

  /// PATCHes bytes [@p offset, @p offset + @p length) of @p blob to @p location; returns
  /// the URL to go on at. A failed chunk's bytes are taken back from the progress.
  std::string send_chunk(const Descriptor& blob, const std::string& location, std::uint64_t offset,
                         std::uint64_t length, BlobReporter& reporter, const std::string& what,
                         const std::atomic<bool>& cancel) {
    FileBody body(store_.blob_path(blob.digest), offset, length, reporter);
    RegistryCall call = make_call(what, "PATCH", location);
    call.headers = {"Content-Type: application/octet-stream",
                    fmt::format("Content-Range: {}-{}", offset, offset + length - 1)};
    call.body = &body;
    call.retry = false;
    HttpResponse response;
    try {
      response = client_.send(endpoint_, call, nullptr, &cancel);
    } catch (...) {
      body.rewind();  // what the registry kept of it, its status says
      throw;
    }
    if (response.status != 202) throw status_error(what, response);
    if (const auto range = response.headers.get("Range"); range && parse_upload_range(*range) != offset + length)
      throw Error(ErrorCode::network, fmt::format("{}: the registry holds {} bytes after a chunk ending at {}", what,
                                                  parse_upload_range(*range), offset + length));
    return location_of(response, what);
  }

  /// Where an upload stands.
  struct UploadStatus {
    std::uint64_t held;    ///< Bytes the registry holds.
    std::string location;  ///< The URL to go on at.
  };

  /// The status of the upload at @p location; nothing when the registry has forgotten it
  /// or does not say clearly.
  std::optional<UploadStatus> upload_status(const std::string& location, const std::string& what,
                                            const std::atomic<bool>& cancel) {
    const HttpResponse response =
        client_.send(endpoint_, make_call(what + " (upload status)", "GET", location), nullptr, &cancel);
    if (response.status != 204 && response.status != 200) return std::nullopt;
    const auto range = response.headers.get("Range");
    // Distribution says "0-0" for an empty upload as for one of one byte.
    if (!range || trim_ows(*range) == "0-0") return std::nullopt;
    try {
      const std::uint64_t held = parse_upload_range(*range);
      return UploadStatus{held, response.headers.get("Location") ? location_of(response, what) : location};
    } catch (const Error&) {
      return std::nullopt;  // a Range knast cannot read: start over rather than guess
    }
  }

  RegistryClient& client_;
  ImageStore& store_;
  const PushOptions& options_;
  Endpoint endpoint_;
  std::string repository_;
  std::optional<std::string> mount_from_;
  std::vector<std::string> scopes_;
};

Document read_document(const ImageStore& store, const Descriptor& descriptor) {
  return Document{descriptor, store.read_blob(descriptor.digest, std::max(max_manifest_bytes, max_index_bytes))};
}

/// The image manifests an index needs pushed with it: all must be in the store.
std::vector<Document> index_manifests(const ImageStore& store, const Index& index) {
  std::vector<Document> out;
  for (const auto& entry : index.manifests) {
    if (!store.has_blob(entry.digest))
      throw Error(ErrorCode::not_found,
                  fmt::format("the index lists {} ({}), which is not in the store: pull every platform first, or push "
                              "one platform with PushOptions::platform",
                              entry.digest.string(), entry.platform ? entry.platform->string() : "no platform"));
    if (!is_manifest_media_type(entry.media_type))
      throw Error(ErrorCode::unsupported, fmt::format("the index lists {}, an index itself; knast does not push those",
                                                      entry.digest.string()));
    out.push_back(read_document(store, entry));
  }
  return out;
}

/// Config and layers of @p manifests, each once; every one must be in the store (layers
/// with `urls` excepted: foreign layers are not pushed, as docker does).
std::vector<Descriptor> blobs_to_push(const ImageStore& store, const std::vector<Document>& manifests) {
  std::vector<Descriptor> out;
  std::set<Digest> seen;
  for (const auto& document : manifests) {
    const Manifest manifest = Manifest::parse(document.bytes);
    std::vector<Descriptor> blobs = {manifest.config};
    for (const auto& layer : manifest.layers)
      if (layer.urls.empty()) blobs.push_back(layer);
    for (auto& blob : blobs) {
      if (!seen.insert(blob.digest).second) continue;
      if (!store.has_blob(blob.digest))
        throw Error(ErrorCode::not_found, fmt::format("blob {} of manifest {} is not in the store", blob.digest.string(),
                                                      document.descriptor.digest.string()));
      out.push_back(std::move(blob));
    }
  }
  return out;
}

/// The tag or digest the root goes under; a digest destination must be the root's.
std::string destination_reference(const Reference& destination, const Descriptor& root) {
  if (destination.tag()) return *destination.tag();
  if (*destination.digest() != root.digest)
    throw Error(ErrorCode::invalid_argument, fmt::format("the destination names {} but the image is {}",
                                                         destination.digest()->string(), root.digest.string()));
  return root.digest.string();
}

}  // namespace

PushResult push_image(RegistryClient& client, ImageStore& store, const Reference& source, const Reference& destination,
                      const PushOptions& options) {
  const auto named = store.find(source);
  if (!named) throw Error(ErrorCode::not_found, fmt::format("no image named {} in the store", source.string()));
  Document root = read_document(store, *named);
  root.descriptor.annotations.clear();  // the store's ref.name is not part of what is pushed

  std::vector<Document> manifests;
  if (is_manifest_media_type(root.descriptor.media_type)) {
    manifests.push_back(root);
  } else {
    const Index index = Index::parse(root.bytes);
    if (options.platform) {
      root = read_document(store, select_manifests(index, *options.platform, false, "the index").front());
      manifests.push_back(root);
    } else {
      manifests = index_manifests(store, index);
    }
  }
  const std::string reference = destination_reference(destination, root.descriptor);
  const std::vector<Descriptor> blobs = blobs_to_push(store, manifests);

  Pusher pusher(client, store, source, destination, options);
  const unsigned jobs = options.jobs ? options.jobs : client.options().jobs;
  transfer_blobs(blobs, std::vector<bool>(blobs.size(), false), jobs, options.progress,
                 [&](std::size_t i, BlobReporter& reporter, const std::atomic<bool>& cancel) {
                   return pusher.blob(blobs[i], reporter, cancel);
                 });
  // An index's manifests go by digest before the index that names them.
  const bool index = !is_manifest_media_type(root.descriptor.media_type);
  if (index)
    for (const auto& manifest : manifests) pusher.put_document(manifest, manifest.descriptor.digest.string());
  pusher.put_document(root, reference);

  PushResult result{destination, root.descriptor, pusher.counters.bytes.load(), pusher.counters.uploaded.load(),
                    pusher.counters.mounted.load(), pusher.counters.skipped.load()};
  return result;
}

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
