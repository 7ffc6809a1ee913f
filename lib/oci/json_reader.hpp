/// @file json_reader.hpp
/// @brief Private: the one strict JSON reader (and the few writing helpers) that every
///        OCI document type is parsed and serialised with.
///
/// A JsonReader is a position in a parsed document: a JSON value plus the path that led
/// to it. Every typed read checks the type and, on failure, throws an Error whose message
/// names the document kind and the path ("manifest: layers[2].size: must be a
/// non-negative integer, got -1"), so the document types only say *what* they expect.
#pragma once

#include <knast/digest.hpp>
#include <knast/error.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace knast {
inline namespace v0 {
namespace detail {

using Json = nlohmann::json;

/// How deeply objects and arrays may nest. OCI documents need about five levels; the cap
/// keeps hostile input (a megabyte of '[') from costing unbounded work or stack in code
/// that walks the tree recursively, such as dump().
inline constexpr int max_json_depth = 64;

/// Parses @p text as JSON of any type with the same limits as parse_json_document():
/// size before parsing, nesting while parsing. @throws Error limit_exceeded, invalid_argument.
Json parse_json_value(std::string_view text, std::string_view kind, std::size_t max_bytes);

/// Parses @p text as the whole document of @p kind ("manifest"), which must be a JSON
/// object. The size is checked against @p max_bytes before any parsing.
/// @throws Error limit_exceeded (too large, too deep) or invalid_argument (malformed,
///         not an object); the message starts with @p kind.
Json parse_json_document(std::string_view text, std::string_view kind, std::size_t max_bytes);

/// Serialises @p doc compactly. Object keys come out sorted, so equal values give equal
/// bytes. @throws Error invalid_argument if a string is not valid UTF-8.
std::string dump_json_document(const Json& doc, std::string_view kind);

/// @p text as a JSON string literal, cut to a readable length: for quoting document
/// content in error messages without letting it garble or flood them.
std::string quote_text(std::string_view text);

/// A value inside a parsed document, with its path for error messages. Cheap to copy;
/// it refers to the document, which must outlive it.
class JsonReader {
 public:
  /// The root of a document of @p kind; @p kind must outlive the reader (use a literal).
  JsonReader(const Json& value, std::string_view kind) : value_(&value), kind_(kind) {}

  /// Member @p key of this object. @throws Error if it is absent or null.
  JsonReader required(std::string_view key) const;
  /// Member @p key of this object, or nothing if it is absent or null: Docker writes
  /// null where an empty or absent value is meant, so the two read the same.
  std::optional<JsonReader> optional(std::string_view key) const;
  /// Whether this object has member @p key (even a null one).
  bool contains(std::string_view key) const;

  /// Member @p key read with @p read, or nothing if absent or null.
  template <typename Read>
  auto optional(std::string_view key, Read&& read) const
      -> std::optional<std::invoke_result_t<Read&, const JsonReader&>> {
    if (const auto member = optional(key)) return std::invoke(read, *member);
    return std::nullopt;
  }
  /// Member @p key read with @p read, or a default (empty) value if absent or null.
  template <typename Read>
  auto value_or_default(std::string_view key, Read&& read) const -> std::invoke_result_t<Read&, const JsonReader&> {
    if (const auto member = optional(key)) return std::invoke(read, *member);
    return {};
  }
  /// Every element of this array read with @p read, each at its own path ("layers[2]").
  template <typename Read>
  auto array(Read&& read) const -> std::vector<std::invoke_result_t<Read&, const JsonReader&>> {
    const auto& elements = array_elements();
    std::vector<std::invoke_result_t<Read&, const JsonReader&>> out;
    out.reserve(elements.size());
    for (std::size_t i = 0; i < elements.size(); ++i) out.push_back(std::invoke(read, element(i)));
    return out;
  }

  /// This value as a string.
  std::string string() const;
  /// This value as a string that is not empty.
  std::string non_empty_string() const;
  /// This value as an integer that fits int64.
  std::int64_t integer() const;
  /// This value as an integer ≥ 0 that fits int64 (sizes: 1.0, -1 and "1" are refused).
  std::int64_t non_negative_integer() const;
  /// This value as a boolean.
  bool boolean() const;
  /// This value as a digest string; Digest::parse's error gets the path put before it.
  Digest digest() const;
  /// This value as an array of strings.
  std::vector<std::string> strings() const;
  /// This value as an object whose values are all strings.
  std::map<std::string, std::string> string_map() const;
  /// The keys of this object; its values are not looked at. This is how Go writes a set
  /// (`"ExposedPorts": {"80/tcp": {}}`).
  std::vector<std::string> keys() const;

  /// Throws Error(@p code, "<kind>: <path>: <problem>").
  [[noreturn]] void fail(std::string_view problem, ErrorCode code = ErrorCode::invalid_argument) const;

  /// The JSON path of this value ("layers[2].size"; empty at the root).
  const std::string& path() const noexcept { return path_; }

 private:
  JsonReader(const Json& value, std::string_view kind, std::string path)
      : value_(&value), kind_(kind), path_(std::move(path)) {}
  [[noreturn]] void fail_type(std::string_view expected) const;
  std::optional<std::int64_t> as_int64() const;
  const Json::object_t& object_members() const;
  const Json::array_t& array_elements() const;
  JsonReader member(const std::string& key, const Json& value) const;
  JsonReader element(std::size_t index) const;

  const Json* value_;
  std::string_view kind_;
  std::string path_;
};

/// Sets @p key of @p object to @p write(*value) if @p value is present.
template <typename T, typename Write = std::identity>
void set_optional(Json& object, std::string_view key, const std::optional<T>& value, Write&& write = {}) {
  if (value) object[key] = std::invoke(write, *value);
}

/// Sets @p key of @p object to @p write(value) if @p value is not empty; an empty value
/// reads back the same as an absent one, so leaving it out keeps documents small.
template <typename Container, typename Write = std::identity>
void set_non_empty(Json& object, std::string_view key, const Container& value, Write&& write = {}) {
  if (!value.empty()) object[key] = std::invoke(write, value);
}

/// A JSON array of @p write(item) for each of @p items.
template <typename T, typename Write>
Json json_array(const std::vector<T>& items, Write&& write) {
  Json out = Json::array();
  for (const auto& item : items) out.push_back(std::invoke(write, item));
  return out;
}

/// The Go form of a set: an object mapping each key to `{}` (the inverse of keys()).
Json json_key_set(const std::vector<std::string>& keys);

}  // namespace detail
}  // namespace v0
}  // namespace knast
