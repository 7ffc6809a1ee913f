#include <knast/document.hpp>
#include <knast/error.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace knast {
inline namespace v0 {
namespace {

std::string quoted_list(const std::vector<std::string>& words) {
  std::vector<std::string> quoted;
  quoted.reserve(words.size());
  for (const auto& w : words) quoted.push_back(fmt::format("\"{}\"", w));
  return fmt::format("[{}]", fmt::join(quoted, ", "));
}

std::string entry_platform(const Descriptor& entry) {
  return entry.platform ? entry.platform->string() : std::string("unknown");
}

}  // namespace

DocumentKind parse_document_kind(std::string_view name) {
  if (name == "manifest") return DocumentKind::manifest;
  if (name == "index") return DocumentKind::index;
  if (name == "config") return DocumentKind::config;
  throw Error(ErrorCode::invalid_argument,
              fmt::format("unknown document kind \"{}\": expected manifest, index or config", name));
}

std::string_view to_string(DocumentKind kind) noexcept {
  switch (kind) {
    case DocumentKind::manifest: return "manifest";
    case DocumentKind::index: return "index";
    case DocumentKind::config: return "config";
  }
  return "unknown";
}

std::string summarize(const Manifest& manifest) {
  return fmt::format("manifest {}: config {}, {} layer{}, {} bytes", manifest.media_type,
                     manifest.config.digest.string(), manifest.layers.size(),
                     manifest.layers.size() == 1 ? "" : "s", manifest.total_size());
}

std::string summarize(const Index& index) {
  std::vector<std::string> platforms;
  platforms.reserve(index.manifests.size());
  for (const auto& entry : index.manifests) platforms.push_back(entry_platform(entry));
  return fmt::format("index {}: {} manifest{} ({})", index.media_type, index.manifests.size(),
                     index.manifests.size() == 1 ? "" : "s", fmt::join(platforms, ", "));
}

std::string summarize(const ImageConfig& config) {
  std::string line = fmt::format("config {}: {} layer{}", config.platform().string(), config.diff_ids.size(),
                                 config.diff_ids.size() == 1 ? "" : "s");
  if (config.config.entrypoint) line += ", entrypoint " + quoted_list(*config.config.entrypoint);
  if (config.config.cmd) line += ", cmd " + quoted_list(*config.config.cmd);
  return line;
}

std::string validate_document(DocumentKind kind, std::string_view bytes) {
  switch (kind) {
    case DocumentKind::manifest: return summarize(Manifest::parse(bytes));
    case DocumentKind::index: return summarize(Index::parse(bytes));
    case DocumentKind::config: return summarize(ImageConfig::parse(bytes));
  }
  throw Error(ErrorCode::internal, "validate_document: unknown document kind");
}

}  // namespace v0
}  // namespace knast
