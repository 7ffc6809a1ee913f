/// @file image_store.hpp
/// @brief ImageStore: an OCI image layout on disk that never loses data and that other
///        tools (skopeo, umoci) can read and write.
///
/// The store root is a valid OCI image layout:
///
/// ```
/// oci-layout                 {"imageLayoutVersion": "1.0.0"}
/// index.json                 an OCI index; each named image is an entry whose annotation
///                            org.opencontainers.image.ref.name is the full normalised
///                            reference ("docker.io/library/alpine:3.20")
/// blobs/sha256/<hex>         content, written once, verified before it becomes visible
/// knast/                     knast's private files, ignored by other tools:
///   index.lock, gc.lock      cross-process locks (flock): index.lock is held exclusively
///                            around every read-modify-write of index.json (which is
///                            replaced by rename, so readers need no lock); gc.lock is
///                            shared by leases and blob writers, exclusive by garbage
///                            collection (taken before index.lock, never after)
///   ingest/                  blobs being written, each flocked by its writer; never
///                            visible under blobs/
/// ```
#pragma once

#include <knast/digest.hpp>
#include <knast/export.hpp>
#include <knast/oci.hpp>
#include <knast/platform.hpp>
#include <knast/reference.hpp>

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

/// The annotation that names an image in index.json.
inline constexpr std::string_view ref_name_annotation = "org.opencontainers.image.ref.name";

/// Writes one blob into a store: stream bytes in, then commit().
///
/// Bytes go to a temporary file under `knast/ingest/` while they are hashed and counted.
/// commit() checks the expected digest and size, fsyncs, and renames the file into
/// `blobs/`; until then nothing is visible. A writer destroyed without commit() removes
/// its temporary file. Two writers of the same blob (in one process or several) both
/// succeed and leave one copy. Move-only.
class KNAST_API BlobWriter {
 public:
  ~BlobWriter();
  /// Writers move but do not copy.
  BlobWriter(BlobWriter&&) noexcept;
  /// Writers move but do not copy.
  BlobWriter& operator=(BlobWriter&&) noexcept;
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  /// Appends @p size bytes. @throws Error integrity once more than the expected size
  /// arrives; io or limit_exceeded (a full disk) from the file system.
  void write(const void* data, std::size_t size);
  /// Appends the bytes of @p data.
  void write(std::string_view data) { write(data.data(), data.size()); }
  /// Bytes written so far.
  std::uint64_t bytes_written() const noexcept;
  /// Verifies, fsyncs and publishes the blob; returns its digest. @throws Error integrity
  /// on a digest or size mismatch (the temporary file is removed, the store unchanged).
  Digest commit();
  /// Drops the temporary file. Safe to call more than once.
  void abort() noexcept;

 private:
  friend class ImageStore;
  struct State;
  explicit BlobWriter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// Keeps garbage collection away while held: blobs written under a lease but not yet
/// referenced by index.json (a pull in progress) are not collected. Move-only.
///
/// A lease (like a live BlobWriter) is a shared flock(2) on `knast/gc.lock`, and
/// collect_garbage() waits for every one of them, the calling process's own included:
/// never collect on a thread that holds a lease or an unfinished writer of the same store.
/// The descriptor is close-on-exec, but a child forked (without exec) while a lease is held
/// shares the lock until it exits.
class KNAST_API StoreLease {
 public:
  ~StoreLease();
  /// Leases move but do not copy.
  StoreLease(StoreLease&&) noexcept;
  /// Leases move but do not copy.
  StoreLease& operator=(StoreLease&&) noexcept;
  StoreLease(const StoreLease&) = delete;
  StoreLease& operator=(const StoreLease&) = delete;

 private:
  friend class ImageStore;
  explicit StoreLease(int fd) noexcept : fd_(fd) {}
  int fd_ = -1;
};

/// One named image, as list() reports it.
struct KNAST_API ImageSummary {
  std::string name;                  ///< Full normalised reference.
  Descriptor target;                 ///< The index.json entry (a manifest or an index).
  std::vector<Platform> platforms;   ///< Platforms available (one for a single manifest).
  std::int64_t size = 0;             ///< Bytes of config + layers (of every platform for an index).
  std::optional<std::string> created;  ///< The image config's `created` (single manifests).
};

/// A name or digest resolved down to one image manifest and its config.
struct KNAST_API ResolvedImage {
  std::optional<std::string> name;   ///< The name it was resolved from, if any.
  std::optional<Descriptor> index;   ///< The index it was chosen from, if the target was one.
  Descriptor manifest_descriptor;    ///< The manifest's descriptor.
  Manifest manifest;                 ///< The manifest.
  ImageConfig config;                ///< The image config.
};

/// A resolved image as one JSON object: {"name", "index", "digest", "manifest", "config"},
/// the form `knast inspect` prints and knast_image_store_inspect() returns.
KNAST_API std::string to_json(const ResolvedImage& image);

/// What garbage collection removed (or would remove, in a dry run).
struct KNAST_API GcReport {
  std::vector<Digest> removed;       ///< Unreachable blobs removed.
  std::uint64_t bytes_freed = 0;     ///< Their total size.
  std::size_t stale_ingests = 0;     ///< Abandoned temporary files removed.
};

/// One problem verify() found.
struct KNAST_API VerifyProblem {
  /// What is wrong with the blob.
  enum class Kind { corrupt, missing, unexpected_file };
  Kind kind;                         ///< What is wrong.
  std::string path;                  ///< Path relative to the store root.
  std::optional<Digest> digest;      ///< The blob's digest, if known.
  std::string detail;                ///< A sentence for people.
};

/// What verify() checked and found.
struct KNAST_API VerifyReport {
  std::size_t blobs_checked = 0;     ///< Blobs rehashed.
  std::uint64_t bytes_checked = 0;   ///< Bytes rehashed.
  std::vector<VerifyProblem> problems;  ///< Empty when the store is sound.
  /// Whether nothing is wrong.
  bool ok() const noexcept { return problems.empty(); }
};

/// Archive formats for save() and load().
enum class ArchiveFormat {
  docker,  ///< `docker save`: manifest.json, repositories, config and layer files.
  oci,     ///< A tar of an OCI image layout.
};

/// Configuration changes for import_rootfs(), as `docker import --change` takes them.
struct KNAST_API ImportOptions {
  /// Dockerfile-style instructions: "CMD [\"sh\"]", "ENTRYPOINT /bin/app", "ENV A=b",
  /// "WORKDIR /srv", "USER 1000:1000", "EXPOSE 80/tcp", "LABEL k=v", also VOLUME and
  /// STOPSIGNAL, with docker's rules: JSON or shell form (["/bin/sh","-c",…]) for CMD and
  /// ENTRYPOINT; `ENV A=b C="d e"` or the legacy `ENV A b`; quotes, escapes and $VAR /
  /// ${VAR:-word} expansion in the other arguments; EXPOSE 80 → "80/tcp". Any other
  /// instruction is refused (invalid_argument naming it).
  std::vector<std::string> changes;
  Platform platform = Platform::host();  ///< The image's platform (normalised).
  std::optional<std::string> created;    ///< RFC 3339 time; default: now (UTC, seconds).
  std::optional<std::string> comment;    ///< History comment; default: "Imported from <file name>".
};

/// An OCI image layout on disk. Safe to share between threads and processes.
class KNAST_API ImageStore {
 public:
  /// How open() treats a missing or empty folder.
  enum class OpenMode {
    create,         ///< Create the layout when the folder is missing or empty.
    must_exist,     ///< Fail with not_found unless a layout is there.
  };

  /// Opens the layout at @p root. A folder that exists, is not empty and is not an OCI
  /// layout is refused (invalid_argument), never written to.
  static ImageStore open(const std::filesystem::path& root, OpenMode mode = OpenMode::create);

  /// The store root.
  const std::filesystem::path& root() const noexcept { return root_; }

  // ---- Content ---------------------------------------------------------------------

  /// Whether a blob is present (not checked against its digest).
  bool has_blob(const Digest& digest) const;
  /// Path of a blob's file (which may not exist).
  std::filesystem::path blob_path(const Digest& digest) const;
  /// Reads a whole blob of at most @p max_bytes, verifying its digest.
  /// @throws Error not_found, integrity (corrupt), limit_exceeded.
  std::string read_blob(const Digest& digest, std::size_t max_bytes) const;
  /// Starts writing a blob. With @p expected, commit() checks the digest; with
  /// @p expected_size, write() stops an overrun at once. Holds a lease until done.
  BlobWriter ingest(std::optional<Digest> expected = std::nullopt,
                    std::optional<std::uint64_t> expected_size = std::nullopt);
  /// Writes @p bytes as a blob (deduplicated) and returns its descriptor.
  Descriptor put_blob(std::string_view bytes, std::string media_type);
  /// Takes a lease that keeps garbage collection away while it is held.
  StoreLease lease() const;

  // ---- Names -----------------------------------------------------------------------

  /// Points @p name at @p target (a manifest or index already in the store), replacing
  /// whatever it pointed at. The target, and the config and layers of every manifest it
  /// reaches, must be present, so a name never points at an image that cannot be used.
  /// An index may be partial (entries for platforms that were not pulled may be absent,
  /// as containerd allows); a `subject` may be absent. @throws Error not_found naming the
  /// first missing blob;
  /// invalid_argument if the target is not a manifest or an index; integrity if one of
  /// its documents is corrupt.
  void tag(const Reference& name, const Descriptor& target);
  /// Removes the name. @throws Error not_found.
  void untag(const Reference& name);
  /// The entry for @p name, if there is one.
  std::optional<Descriptor> find(const Reference& name) const;
  /// Every named image, sorted by name. An image whose blobs cannot be read is listed with
  /// its name and target only (verify() says what is wrong with it).
  std::vector<ImageSummary> list() const;
  /// Resolves a name ("alpine:3.20", "docker.io/library/alpine:3.20") or a manifest or
  /// index digest ("sha256:…", or a unique hex prefix of one that a name reaches) down to
  /// one manifest, choosing from an index with @p platform (default: the host's). A single
  /// manifest is checked against @p platform only when one is given.
  /// @throws Error not_found (naming the platforms available when none matches), integrity.
  ResolvedImage resolve(std::string_view name_or_digest, const std::optional<Platform>& platform = std::nullopt) const;
  /// What @p name_or_digest stands for: the index.json entry of a name, or the descriptor
  /// of the manifest or index a digest (or unique hex prefix) names. The target `tag` takes.
  /// @throws Error not_found.
  Descriptor target_of(std::string_view name_or_digest) const;
  /// Removes the name and then every blob nothing else references. @throws Error not_found.
  GcReport remove(const Reference& name);

  // ---- Maintenance -----------------------------------------------------------------

  /// Removes blobs no name reaches (index → manifests → config and layers) and abandoned
  /// ingest files. Never touches a blob while a lease or writer is live (waits for them;
  /// see StoreLease). Removes nothing, with an error, when a reachable manifest or index
  /// cannot be read, since what it references is then unknown.
  GcReport collect_garbage(bool dry_run = false);
  /// Rehashes every blob and checks every reachable one is present.
  VerifyReport verify() const;

  // ---- Archives --------------------------------------------------------------------

  /// Loads a `docker save` archive or an OCI archive (detected from its contents) and
  /// tags the images it names. Returns the names loaded. Entries with `..` or absolute
  /// names, and manifests that point outside the archive, are refused; on any error the
  /// store keeps no new name.
  ///
  /// The archive (a tar, possibly gzip/zstd/xz/bzip2-compressed as a whole) is read in
  /// passes: entry headers first, then the small documents, then the layers, streamed
  /// into the store and checked against their diff_ids (memory stays flat). A docker
  /// archive's manifest.json is read when there is one (classic `<id>/layer.tar`,
  /// skopeo's `<digest>.tar` and docker ≥ 25's `blobs/sha256/…` layouts); its configs are
  /// kept byte for byte and each image gets a new OCI manifest whose layers are the layer
  /// files as they are: uncompressed (`…layer.v1.tar`, digest = diff_id), gzip or zstd
  /// (told by their magic bytes); bzip2 or xz ones are stored decompressed. An OCI
  /// archive's blobs keep their digests; its images are named by the
  /// io.containerd.image.name or else the org.opencontainers.image.ref.name annotation,
  /// parsed as a reference. Images without a name are skipped.
  /// @throws Error invalid_argument (malformed or unsafe archive), integrity (content
  ///         that does not match a digest or diff_id), limit_exceeded, unsupported, io.
  std::vector<Reference> load(const std::filesystem::path& archive);
  /// Writes @p names (with their blobs) to @p archive in @p format, atomically (a
  /// temporary file beside it is renamed once complete); every blob's digest is checked as
  /// it is copied. `docker`: skopeo's docker-archive layout (`<config hex>.json`,
  /// `<blob digest hex>.tar` with each layer as stored — docker load and skopeo accept
  /// gzip and zstd layer files —, legacy `<id>/` folders, manifest.json, repositories); a
  /// name of an index is saved as the host platform's manifest. `oci`: an OCI layout with
  /// the full name in both name annotations; indexes are kept whole.
  /// @throws Error not_found (a name), integrity (a damaged blob), io.
  void save(const std::vector<Reference>& names, const std::filesystem::path& archive, ArchiveFormat format) const;
  /// Imports a plain root filesystem tarball as a one-layer image named @p name (a tag).
  /// The tarball is read once and stored as it is — uncompressed (no time spent
  /// compressing; a push compresses), or gzip or zstd as given —, its diff_id hashed on
  /// the way and its tar structure checked; bzip2 or xz are stored decompressed. The
  /// config comes from @p options (see ImportOptions). Returns the image as stored.
  /// @throws Error invalid_argument (a bad change, platform, `created`, or not a tar).
  ResolvedImage import_rootfs(const std::filesystem::path& tarball, const Reference& name, const ImportOptions& options = {});

 private:
  explicit ImageStore(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;
};

}  // namespace v0
}  // namespace knast
