// ImageStore: opening a layout, reading blobs, names and leases. Writing blobs is in
// blob_writer.cpp, resolve() in resolve.cpp, garbage collection in gc.cpp and verify()
// in verify.cpp; load/save/import_rootfs live with the archive code.
#include <knast/image_store.hpp>

#include "image_store/index_edit.hpp"
#include "image_store/platform_choice.hpp"
#include "image_store/reachability.hpp"
#include "image_store/store_files.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>

#include <algorithm>
#include <cstdint>
#include <set>

namespace knast {
inline namespace v0 {

using detail::in_context;
using detail::StoreFiles;
namespace fs = std::filesystem;

namespace {

// ---- open ------------------------------------------------------------------------------

constexpr std::string_view oci_layout_content = R"({"imageLayoutVersion":"1.0.0"})";

enum class Found { missing, empty, layout, foreign };

// What initialise() may have left before oci-layout, which it writes last: a folder with
// knast/ and nothing but these is a layout whose creation was interrupted.
bool is_unfinished_layout(const fs::path& root) {
  static const std::set<std::string> ours = {"knast", "blobs", "index.json"};
  bool has_private_dir = false;
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string name = entry.path().filename().string();
    if (!ours.count(name)) return false;
    has_private_dir = has_private_dir || name == "knast";
  }
  return has_private_dir;
}

Found classify(const StoreFiles& files) {
  const auto status = fs::status(files.root);
  if (!fs::exists(status)) return Found::missing;
  if (!fs::is_directory(status))
    throw Error(ErrorCode::invalid_argument, "exists and is not a directory");
  if (fs::exists(files.oci_layout())) return Found::layout;
  if (fs::is_empty(files.root) || is_unfinished_layout(files.root)) return Found::empty;
  // Another process may have written oci-layout, the last step of initialise(), while the
  // folder was being read: then it is a layout, not a foreign folder.
  if (fs::exists(files.oci_layout())) return Found::layout;
  return Found::foreign;
}

void check_layout(const StoreFiles& files) {
  const detail::UniqueFd fd = detail::open_file(files.oci_layout(), O_RDONLY);
  const auto doc = nlohmann::json::parse(detail::read_all(fd, 4096, files.oci_layout()), nullptr, false);
  if (!doc.is_object() || !doc.contains("imageLayoutVersion") || !doc["imageLayoutVersion"].is_string())
    throw Error(ErrorCode::invalid_argument, "oci-layout is not a JSON object with a string imageLayoutVersion");
  const auto version = doc["imageLayoutVersion"].get<std::string>();
  if (version.rfind("1.", 0) != 0)
    throw Error(ErrorCode::unsupported, fmt::format("OCI image layout version {} is not supported (1.x is)", version));
  if (!fs::is_regular_file(files.index()))
    throw Error(ErrorCode::invalid_argument, "has an oci-layout file but no index.json: not a valid OCI image layout");
}

// Each step leaves a state classify() recognises, and no file is overwritten, so two
// processes creating the same store at once, or one that died half-way, are harmless.
void initialise(const StoreFiles& files) {
  fs::create_directories(files.root);
  detail::ensure_private_dirs(files);
  if (detail::make_directory(files.blobs())) detail::sync_directory(files.root);
  if (detail::make_directory(files.blob_dir(DigestAlgorithm::sha256))) detail::sync_directory(files.blobs());
  const auto temp = files.private_dir() / ("init-" + detail::unique_name());
  detail::create_file_once(files.index(), temp, Index{}.to_json());
  detail::create_file_once(files.oci_layout(), temp, oci_layout_content);
}

// ---- names -----------------------------------------------------------------------------

void check_taggable(const Descriptor& target) {
  if (!is_manifest_media_type(target.media_type) && !is_index_media_type(target.media_type))
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{} has media type {}, not a manifest or an index", target.digest.string(), target.media_type));
}

// The target and everything it needs must be present, or the name would point at an
// image nobody can use.
void check_complete(const StoreFiles& files, const Descriptor& target) {
  const auto found = detail::walk_from(files, {target});
  if (!found.unreadable.empty()) throw found.unreadable.front().second;
  if (!found.missing.empty()) {
    const auto& blob = found.missing.front();
    throw Error(ErrorCode::not_found,
                fmt::format("blob {} ({}) is missing from the store", blob.digest.string(), blob.media_type));
  }
}

// ---- list ------------------------------------------------------------------------------

void summarize_manifest(const StoreFiles& files, const Descriptor& target, ImageSummary& summary) {
  const Manifest manifest = Manifest::parse(detail::read_document(files, target));
  summary.size = manifest.total_size();
  const ImageConfig config = ImageConfig::parse(detail::read_document(files, manifest.config));
  summary.platforms.push_back(config.platform());
  summary.created = config.created;
}

void summarize_index(const StoreFiles& files, const Descriptor& target, ImageSummary& summary) {
  const auto found = detail::walk_from(files, {target});
  for (const auto& document : found.documents) {
    if (is_index_media_type(document.media_type)) {
      for (const auto& entry : Index::parse(detail::read_document(files, document)).manifests)
        if (entry.platform && !detail::is_attestation(*entry.platform) && is_manifest_media_type(entry.media_type))
          summary.platforms.push_back(*entry.platform);
    } else {
      const auto size = Manifest::parse(detail::read_document(files, document)).total_size();
      summary.size = size > INT64_MAX - summary.size ? INT64_MAX : summary.size + size;
    }
  }
}

// Best effort: a damaged image is still listed by name and target, without the facts
// its blobs would give (verify() says what is wrong), so one bad image does not hide
// the others.
ImageSummary summarize(const StoreFiles& files, std::string name, const Descriptor& target) {
  ImageSummary summary;
  summary.name = std::move(name);
  summary.target = target;
  try {
    if (is_manifest_media_type(target.media_type))
      summarize_manifest(files, target, summary);
    else
      summarize_index(files, target, summary);
  } catch (const Error&) {
  }
  return summary;
}

}  // namespace

// ---- ImageStore ------------------------------------------------------------------------

ImageStore ImageStore::open(const fs::path& root, OpenMode mode) {
  const fs::path absolute = fs::absolute(root).lexically_normal();
  return in_context(fmt::format("open store {}", absolute.string()), [&] {
    const StoreFiles files(absolute);
    switch (classify(files)) {
      case Found::layout:
        check_layout(files);
        break;
      case Found::missing:
      case Found::empty:
        if (mode == OpenMode::must_exist)
          throw Error(ErrorCode::not_found, "there is no OCI image layout (no oci-layout file)");
        initialise(files);
        break;
      case Found::foreign:
        throw Error(ErrorCode::invalid_argument,
                    "the folder is not empty and not an OCI image layout (no oci-layout file); refusing to write to it");
    }
    return ImageStore(absolute);
  });
}

bool ImageStore::has_blob(const Digest& digest) const { return detail::blob_exists(StoreFiles(root_), digest); }

fs::path ImageStore::blob_path(const Digest& digest) const { return StoreFiles(root_).blob(digest); }

std::string ImageStore::read_blob(const Digest& digest, std::size_t max_bytes) const {
  return in_context(fmt::format("read blob {} from store {}", digest.string(), root_.string()),
                    [&] { return detail::read_verified_blob(StoreFiles(root_), digest, max_bytes); });
}

StoreLease ImageStore::lease() const {
  return in_context(fmt::format("lease store {}", root_.string()), [&] {
    return StoreLease(detail::lock_gc(StoreFiles(root_), detail::LockKind::shared).release());
  });
}

void ImageStore::tag(const Reference& name, const Descriptor& target) {
  in_context(fmt::format("tag {} as {} in store {}", name.string(), target.digest.string(), root_.string()), [&] {
    check_taggable(target);
    const StoreFiles files(root_);
    // Checked under the index lock: garbage collection holds it while it sweeps, so what
    // is found present here stays until the name protects it.
    detail::update_index(files, [&](Index& index) {
      check_complete(files, target);
      detail::set_named(index, name.string(), target);
    });
  });
}

void ImageStore::untag(const Reference& name) {
  in_context(fmt::format("untag {} in store {}", name.string(), root_.string()), [&] {
    detail::update_index(StoreFiles(root_), [&](Index& index) {
      if (!detail::remove_named(index, name.string()))
        throw Error(ErrorCode::not_found, fmt::format("no image is named {}", name.string()));
    });
  });
}

std::optional<Descriptor> ImageStore::find(const Reference& name) const {
  return in_context(fmt::format("find {} in store {}", name.string(), root_.string()),
                    [&] { return detail::find_named(detail::read_index(StoreFiles(root_)), name.string()); });
}

std::vector<ImageSummary> ImageStore::list() const {
  return in_context(fmt::format("list store {}", root_.string()), [&] {
    const StoreFiles files(root_);
    std::vector<ImageSummary> images;
    for (auto& [name, target] : detail::named_entries(detail::read_index(files)))
      images.push_back(summarize(files, name, target));
    return images;
  });
}

// ---- StoreLease ------------------------------------------------------------------------

StoreLease::~StoreLease() { detail::UniqueFd closing(fd_); }

StoreLease::StoreLease(StoreLease&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

StoreLease& StoreLease::operator=(StoreLease&& other) noexcept {
  if (this != &other) {
    detail::UniqueFd closing(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

}  // namespace v0
}  // namespace knast
