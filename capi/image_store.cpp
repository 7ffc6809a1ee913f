// C ABI for the image store.
#include "guard.hpp"
#include "handles.hpp"

#include <knast/image_store.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>


// Each row keeps its strings so the getters can hand out borrowed pointers.
struct knast_image_list {
  struct Row {
    std::string name;
    std::string digest;
    std::string platforms;
    std::optional<std::string> created;
    std::int64_t size;
  };
  std::vector<Row> rows;
};

namespace {

using knast::capi::guard;
using knast::capi::owned_string;
using knast::capi::require;
using knast::capi::strings_of;

constexpr knast_store_options default_store_options = KNAST_STORE_OPTIONS_INIT;
constexpr knast_import_options default_import_options = KNAST_IMPORT_OPTIONS_INIT;

knast_image_list::Row row_of(const knast::ImageSummary& image) {
  std::string platforms;
  for (const auto& platform : image.platforms) {
    if (!platforms.empty()) platforms += ',';
    platforms += platform.string();
  }
  return {image.name, image.target.digest.string(), std::move(platforms), image.created, image.size};
}

const knast_image_list::Row* row_at(const knast_image_list* list, size_t i) {
  return list != nullptr && i < list->rows.size() ? &list->rows[i] : nullptr;
}

std::string joined_lines(const std::vector<knast::Reference>& names) {
  std::string out;
  for (const auto& name : names) out += name.string() + '\n';
  return out;
}

knast::ArchiveFormat archive_format(uint32_t format) {
  switch (format) {
    case KNAST_ARCHIVE_DOCKER: return knast::ArchiveFormat::docker;
    case KNAST_ARCHIVE_OCI: return knast::ArchiveFormat::oci;
    default:
      throw knast::Error(knast::ErrorCode::invalid_argument, "unknown archive format " + std::to_string(format));
  }
}

}  // namespace

extern "C" {

knast_status knast_store_options_init(knast_store_options* opts, unsigned int version) {
  return guard([&] { knast::capi::init_options(opts, version, default_store_options); });
}

knast_status knast_image_store_open(knast_image_store** out, const char* root, const knast_store_options* opts) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(root, "root");
    const knast_store_options options = knast::capi::options_or_default(opts, default_store_options);
    const auto mode = (options.flags & KNAST_STORE_MUST_EXIST) != 0 ? knast::ImageStore::OpenMode::must_exist
                                                                     : knast::ImageStore::OpenMode::create;
    *out = new knast_image_store{knast::ImageStore::open(root, mode)};
  });
}

void knast_image_store_free(knast_image_store* store) { delete store; }

knast_status knast_image_store_list(knast_image_list** out, knast_image_store* store) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(store, "store");
    auto list = std::make_unique<knast_image_list>();
    for (const auto& image : store->store.list()) list->rows.push_back(row_of(image));
    *out = list.release();
  });
}

size_t knast_image_list_count(const knast_image_list* list) { return list != nullptr ? list->rows.size() : 0; }
const char* knast_image_list_name(const knast_image_list* list, size_t i) {
  const auto* row = row_at(list, i);
  return row != nullptr ? row->name.c_str() : nullptr;
}
const char* knast_image_list_digest(const knast_image_list* list, size_t i) {
  const auto* row = row_at(list, i);
  return row != nullptr ? row->digest.c_str() : nullptr;
}
const char* knast_image_list_platforms(const knast_image_list* list, size_t i) {
  const auto* row = row_at(list, i);
  return row != nullptr ? row->platforms.c_str() : nullptr;
}
const char* knast_image_list_created(const knast_image_list* list, size_t i) {
  const auto* row = row_at(list, i);
  return row != nullptr && row->created ? row->created->c_str() : nullptr;
}
int64_t knast_image_list_size(const knast_image_list* list, size_t i) {
  const auto* row = row_at(list, i);
  return row != nullptr ? row->size : -1;
}
void knast_image_list_free(knast_image_list* list) { delete list; }

knast_status knast_image_store_tag(knast_image_store* store, const char* source, const char* target) {
  return guard([&] {
    require(store, "store");
    require(source, "source");
    require(target, "target");
    store->store.tag(knast::Reference::parse(target), store->store.target_of(source));
  });
}

knast_status knast_image_store_untag(knast_image_store* store, const char* name) {
  return guard([&] {
    require(store, "store");
    require(name, "name");
    store->store.untag(knast::Reference::parse(name));
  });
}

knast_status knast_image_store_remove(knast_image_store* store, const char* name) {
  return guard([&] {
    require(store, "store");
    require(name, "name");
    store->store.remove(knast::Reference::parse(name));
  });
}

knast_status knast_image_store_inspect(char** json, knast_image_store* store, const char* name_or_digest,
                                       const char* platform) {
  return guard([&] {
    require(json, "json");
    *json = nullptr;
    require(store, "store");
    require(name_or_digest, "name_or_digest");
    std::optional<knast::Platform> wanted;
    if (platform != nullptr) wanted = knast::Platform::parse(platform);
    *json = owned_string(knast::to_json(store->store.resolve(name_or_digest, wanted)));
  });
}

knast_status knast_image_store_gc(size_t* blobs_removed, uint64_t* bytes_freed, knast_image_store* store,
                                  int dry_run) {
  return guard([&] {
    require(store, "store");
    knast::GcReport report = store->store.collect_garbage(dry_run != 0);
    if (blobs_removed != nullptr) *blobs_removed = report.removed.size();
    if (bytes_freed != nullptr) *bytes_freed = report.bytes_freed;
  });
}

knast_status knast_image_store_verify(size_t* problems, char** report, knast_image_store* store) {
  return guard([&] {
    if (report != nullptr) *report = nullptr;
    require(problems, "problems");
    require(store, "store");
    knast::VerifyReport result = store->store.verify();
    *problems = result.problems.size();
    if (report != nullptr) {
      std::string lines;
      for (const auto& problem : result.problems) lines += problem.path + ": " + problem.detail + '\n';
      *report = owned_string(lines);
    }
  });
}

knast_status knast_image_store_load(char** names, knast_image_store* store, const char* archive) {
  return guard([&] {
    if (names != nullptr) *names = nullptr;
    require(store, "store");
    require(archive, "archive");
    std::vector<knast::Reference> loaded = store->store.load(archive);
    if (names != nullptr) *names = owned_string(joined_lines(loaded));
  });
}

knast_status knast_image_store_save(knast_image_store* store, const char* const* names, size_t count,
                                    const char* archive, uint32_t format) {
  return guard([&] {
    require(store, "store");
    require(archive, "archive");
    if (count > 0) require(names, "names");
    std::vector<knast::Reference> references;
    for (const auto& name : strings_of(names, count, "names")) references.push_back(knast::Reference::parse(name));
    store->store.save(references, archive, archive_format(format));
  });
}

knast_status knast_import_options_init(knast_import_options* opts, unsigned int version) {
  return guard([&] { knast::capi::init_options(opts, version, default_import_options); });
}

knast_status knast_image_store_import(char** digest, knast_image_store* store, const char* tarball, const char* name,
                                      const knast_import_options* opts) {
  return guard([&] {
    if (digest != nullptr) *digest = nullptr;
    require(store, "store");
    require(tarball, "tarball");
    require(name, "name");
    const knast_import_options options = knast::capi::options_or_default(opts, default_import_options);
    knast::ImportOptions import;
    if (options.change_count > 0) require(options.changes, "opts->changes");
    import.changes = strings_of(options.changes, options.change_count, "changes");
    if (options.platform != nullptr) import.platform = knast::Platform::parse(options.platform);
    if (options.comment != nullptr) import.comment = options.comment;
    knast::ResolvedImage image = store->store.import_rootfs(tarball, knast::Reference::parse(name), import);
    if (digest != nullptr) *digest = owned_string(image.manifest_descriptor.digest.string());
  });
}

}  // extern "C"
