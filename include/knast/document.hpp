/// @file document.hpp
/// @brief Validating an OCI document of a named kind, with a one-line summary, as
///        `knast validate` and knast_document_validate() do.
#pragma once

#include <knast/export.hpp>
#include <knast/oci.hpp>

#include <string>
#include <string_view>

namespace knast {
inline namespace v0 {

/// The kinds of document validate_document() knows.
enum class DocumentKind { manifest, index, config };

/// Parses "manifest", "index" or "config". @throws Error invalid_argument otherwise.
KNAST_API DocumentKind parse_document_kind(std::string_view name);
/// The name of a kind: "manifest", "index", "config".
KNAST_API std::string_view to_string(DocumentKind kind) noexcept;

/// One line describing a manifest: media type, config digest, layer count, total size.
KNAST_API std::string summarize(const Manifest& manifest);
/// One line describing an index: media type and the platforms of its entries.
KNAST_API std::string summarize(const Index& index);
/// One line describing an image config: platform, layer count, entrypoint and cmd.
KNAST_API std::string summarize(const ImageConfig& config);

/// Parses @p bytes strictly as a document of @p kind and returns its summary.
/// @throws Error as Manifest::parse, Index::parse or ImageConfig::parse do.
KNAST_API std::string validate_document(DocumentKind kind, std::string_view bytes);

}  // namespace v0
}  // namespace knast
