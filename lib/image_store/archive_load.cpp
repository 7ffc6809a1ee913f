// ImageStore::load: scan the archive, decide its format, load its blobs under a lease,
// and only then tag — all names or, if tagging fails part-way, none.
#include <knast/image_store.hpp>

#include "image_store/archive_formats.hpp"
#include "image_store/archive_manifest.hpp"
#include "image_store/store_files.hpp"
#include "oci/json_reader.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace knast {
inline namespace v0 {
namespace {

using detail::ArchiveFile;
using detail::NamedTarget;

constexpr std::string_view docker_manifest_entry = "manifest.json";
constexpr std::string_view oci_index_entry = "index.json";
constexpr std::string_view oci_layout_entry = "oci-layout";

// A metadata file the scan read, or nothing if the archive has no such entry.
const std::string* metadata(const ArchiveFile& archive, const ArchiveFile::Documents& documents,
                            std::string_view name) {
  if (const auto it = documents.find(name); it != documents.end()) return &it->second;
  if (archive.contains(name))
    throw Error(ErrorCode::invalid_argument, fmt::format("entry {} is not a regular file", detail::quote_text(name)));
  return nullptr;
}

// docker ≥ 25 writes both manifest.json and an OCI layout; manifest.json is read then,
// as docker load does, because only it carries the full names (RepoTags).
std::vector<NamedTarget> load_targets(ImageStore& store, ArchiveFile& archive) {
  const auto documents = archive.scan({{std::string(docker_manifest_entry), max_manifest_bytes},
                                       {std::string(oci_index_entry), max_index_bytes},
                                       {std::string(oci_layout_entry), detail::max_oci_layout_bytes}});
  if (const auto* manifest = metadata(archive, documents, docker_manifest_entry))
    return detail::load_docker_archive(store, archive, *manifest);
  const auto* index = metadata(archive, documents, oci_index_entry);
  const auto* layout = metadata(archive, documents, oci_layout_entry);
  if (index && layout) return detail::load_oci_archive(store, archive, *index, *layout);
  throw Error(ErrorCode::invalid_argument,
              "is neither a docker save archive (it has no manifest.json) nor an OCI archive (it has no oci-layout "
              "and index.json)");
}

// The last target given for a name wins, as when docker loads one tag twice; names keep
// the order they first appeared in.
std::vector<NamedTarget> last_per_name(const std::vector<NamedTarget>& targets) {
  std::vector<NamedTarget> out;
  for (const auto& target : targets) {
    const auto same = std::find_if(out.begin(), out.end(), [&](const NamedTarget& t) { return t.name == target.name; });
    if (same == out.end()) {
      out.push_back(target);
    } else {
      same->target = target.target;
    }
  }
  return out;
}

struct PreviousName {
  Reference name;
  std::optional<Descriptor> target;
};

// Puts back what the names pointed at before; best effort, as it runs while another
// error is on its way out, and that error is the one to report.
void restore(ImageStore& store, const std::vector<PreviousName>& previous) noexcept {
  for (auto it = previous.rbegin(); it != previous.rend(); ++it) {
    try {
      if (it->target) {
        store.tag(it->name, *it->target);
      } else {
        store.untag(it->name);
      }
    } catch (...) {
    }
  }
}

std::vector<Reference> tag_all(ImageStore& store, const std::vector<NamedTarget>& targets) {
  std::vector<PreviousName> previous;
  std::vector<Reference> names;
  try {
    for (const auto& [name, target] : last_per_name(targets)) {
      auto before = store.find(name);
      store.tag(name, target);
      previous.push_back({name, std::move(before)});
      names.push_back(name);
    }
  } catch (...) {
    restore(store, previous);
    throw;
  }
  return names;
}

}  // namespace

std::vector<Reference> ImageStore::load(const std::filesystem::path& archive) {
  return detail::in_context(fmt::format("load {}", archive.string()), [&] {
    const StoreLease held = lease();  // blobs stay until the names protect them
    ArchiveFile file(archive);
    return tag_all(*this, load_targets(*this, file));
  });
}

}  // namespace v0
}  // namespace knast
