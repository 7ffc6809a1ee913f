// resolve(): a name or digest down to one manifest and its config.
#include <knast/image_store.hpp>

#include "image_store/index_edit.hpp"
#include "image_store/platform_choice.hpp"
#include "image_store/reachability.hpp"
#include "image_store/store_files.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace knast {
inline namespace v0 {

using detail::StoreFiles;

namespace {

// Nested indexes deeper than this are refused rather than followed.
constexpr int max_index_depth = 8;

struct Start {
  std::optional<std::string> name;
  Descriptor target;
};

struct Candidate {
  Platform platform;
  Descriptor manifest;
  Descriptor index;  // the index the manifest is listed in
};

// ---- finding where to start ------------------------------------------------------------

bool is_hex_prefix(std::string_view text) {
  return !text.empty() && text.size() <= 128 &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Every manifest and index the names reach: what a digest or a prefix may designate.
std::vector<Descriptor> known_documents(const StoreFiles& files, const Index& index) {
  return detail::walk_from(files, index.manifests).documents;
}

// A digest no name reaches, but whose blob is here: its type is read from the content.
Descriptor sniff_document(const StoreFiles& files, const Digest& digest) {
  const std::string bytes = detail::read_verified_blob(files, digest, max_manifest_bytes);
  Descriptor descriptor;
  descriptor.digest = digest;
  descriptor.size = static_cast<std::int64_t>(bytes.size());
  try {
    descriptor.media_type = Manifest::parse(bytes).media_type;
  } catch (const Error&) {
    try {
      descriptor.media_type = Index::parse(bytes).media_type;
    } catch (const Error&) {
      throw Error(ErrorCode::invalid_argument, fmt::format("blob {} is not a manifest or an index", digest.string()));
    }
  }
  return descriptor;
}

Descriptor find_by_digest(const StoreFiles& files, const Index& index, const Digest& digest) {
  for (const auto& document : known_documents(files, index))
    if (document.digest == digest) return document;
  return sniff_document(files, digest);
}

std::optional<Descriptor> find_by_prefix(const StoreFiles& files, const Index& index, std::string_view text) {
  std::string_view prefix = text;
  std::optional<DigestAlgorithm> algorithm;
  for (const auto candidate : {DigestAlgorithm::sha256, DigestAlgorithm::sha512}) {
    const std::string label = std::string(to_string(candidate)) + ":";
    if (prefix.substr(0, label.size()) == label) {
      prefix.remove_prefix(label.size());
      algorithm = candidate;
    }
  }
  if (!is_hex_prefix(prefix)) return std::nullopt;
  std::vector<Descriptor> matches;
  for (auto& document : known_documents(files, index)) {
    const bool same = std::any_of(matches.begin(), matches.end(), [&](const Descriptor& d) { return d.digest == document.digest; });
    if (!same && (!algorithm || *algorithm == document.digest.algorithm()) && document.digest.hex().starts_with(prefix))
      matches.push_back(std::move(document));
  }
  if (matches.size() > 1) {
    std::vector<std::string> digests;
    for (const auto& m : matches) digests.push_back(m.digest.string());
    throw Error(ErrorCode::invalid_argument, fmt::format("{} is ambiguous: it starts {}", text, fmt::join(digests, ", ")));
  }
  if (matches.empty()) return std::nullopt;
  return matches.front();
}

// Names first, as written in index.json (a layout from skopeo or umoci may hold short
// names such as "latest"), then normalised; then a digest; then a digest prefix.
Start find_start(const StoreFiles& files, std::string_view text) {
  const Index index = detail::read_index(files);
  if (auto entry = detail::find_named(index, text)) return {std::string(text), std::move(*entry)};
  if (const auto digest = Digest::try_parse(text)) return {std::nullopt, find_by_digest(files, index, *digest)};
  if (const auto reference = Reference::try_parse(text)) {
    if (auto entry = detail::find_named(index, reference->string())) return {reference->string(), std::move(*entry)};
    if (reference->digest()) return {std::nullopt, find_by_digest(files, index, *reference->digest())};
  }
  if (auto entry = find_by_prefix(files, index, text)) return {std::nullopt, std::move(*entry)};
  throw Error(ErrorCode::not_found, "no image has this name, and no manifest or index this digest");
}

// ---- choosing from an index ------------------------------------------------------------

// An entry without a platform has its config's.
std::optional<Platform> platform_of_entry(const StoreFiles& files, const Descriptor& entry) {
  if (entry.platform) return entry.platform;
  try {
    const Manifest manifest = Manifest::parse(detail::read_document(files, entry));
    return ImageConfig::parse(detail::read_document(files, manifest.config)).platform();
  } catch (const Error&) {
    return std::nullopt;  // not a candidate; the error lists what is available
  }
}

void collect_candidates(const StoreFiles& files, const Descriptor& index_descriptor, int depth,
                        std::vector<Candidate>& out) {
  if (depth > max_index_depth)
    throw Error(ErrorCode::limit_exceeded, fmt::format("indexes nest deeper than {} levels", max_index_depth));
  const Index index = Index::parse(detail::read_document(files, index_descriptor));
  for (const auto& entry : index.manifests) {
    if (is_index_media_type(entry.media_type)) {
      collect_candidates(files, entry, depth + 1, out);
    } else if (auto platform = platform_of_entry(files, entry)) {
      out.push_back({std::move(*platform), entry, index_descriptor});
    }
  }
}

ResolvedImage load_image(const StoreFiles& files, std::optional<std::string> name, std::optional<Descriptor> index,
                         const Descriptor& manifest_descriptor) {
  ResolvedImage image;
  image.name = std::move(name);
  image.index = std::move(index);
  image.manifest_descriptor = manifest_descriptor;
  image.manifest = Manifest::parse(detail::read_document(files, manifest_descriptor));
  image.config = ImageConfig::parse(detail::read_document(files, image.manifest.config));
  return image;
}

ResolvedImage resolve_index(const StoreFiles& files, Start start, const std::optional<Platform>& platform) {
  std::vector<Candidate> candidates;
  collect_candidates(files, start.target, 0, candidates);
  std::vector<Platform> platforms;
  for (const auto& c : candidates) platforms.push_back(c.platform);
  const auto chosen = detail::choose_platform(platforms, platform.value_or(Platform::host()),
                                              fmt::format("index {}", start.target.digest.string()));
  return load_image(files, std::move(start.name), candidates[chosen].index, candidates[chosen].manifest);
}

// A single manifest is checked against a platform only when the caller asked for one:
// inspecting an image made for another host is fine, running it is the caller's call.
ResolvedImage resolve_manifest(const StoreFiles& files, Start start, const std::optional<Platform>& platform) {
  ResolvedImage image = load_image(files, std::move(start.name), std::nullopt, start.target);
  if (platform)
    detail::choose_platform({image.config.platform()}, *platform,
                            fmt::format("manifest {}", start.target.digest.string()));
  return image;
}

}  // namespace

ResolvedImage ImageStore::resolve(std::string_view name_or_digest, const std::optional<Platform>& platform) const {
  return detail::in_context(fmt::format("resolve {} in store {}", name_or_digest, root_.string()), [&] {
    const StoreFiles files(root_);
    Start start = find_start(files, name_or_digest);
    if (is_index_media_type(start.target.media_type)) return resolve_index(files, std::move(start), platform);
    return resolve_manifest(files, std::move(start), platform);
  });
}

}  // namespace v0
}  // namespace knast
