#include "oci/json_reader.hpp"

#include "core/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

// Longest stretch of document text quoted in an error message: values sit inside a JSON
// path, so less room than core/text.hpp gives by default.
constexpr std::size_t max_document_quote_chars = 80;

// nlohmann prefixes its messages with "[json.exception.parse_error.101] "; the position
// and reason after it are what a reader needs.
std::string_view without_exception_id(std::string_view message) {
  if (message.starts_with("[json.exception.")) {
    if (const auto end = message.find("] "); end != std::string_view::npos) return message.substr(end + 2);
  }
  return message;
}

// How an offending value is shown after "got": scalars as written, containers by kind.
std::string describe(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::string:
      return quote_text(value.get_ref<const std::string&>());
    default:
      return value.dump();
  }
}

bool is_identifier(std::string_view key) noexcept {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

Json parse_json_value(std::string_view text, std::string_view kind, std::size_t max_bytes) {
  if (text.size() > max_bytes)
    throw Error(ErrorCode::limit_exceeded,
                fmt::format("{}: document is {} bytes, over the limit of {} bytes", kind, text.size(), max_bytes));
  // nlohmann's parser is iterative, but the tree it builds is walked recursively later
  // (dump, comparison); refusing to open a 65th level stops hostile nesting at once.
  const auto depth_guard = [kind](int depth, Json::parse_event_t event, const Json&) {
    const bool opens = event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start;
    if (opens && depth >= max_json_depth)
      throw Error(ErrorCode::limit_exceeded,
                  fmt::format("{}: JSON nested deeper than {} levels", kind, max_json_depth));
    return true;
  };
  Json doc;
  try {
    doc = Json::parse(text.begin(), text.end(), depth_guard);
  } catch (const Json::exception& e) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: malformed JSON: {}", kind, without_exception_id(e.what())));
  }
  return doc;
}

Json parse_json_document(std::string_view text, std::string_view kind, std::size_t max_bytes) {
  Json doc = parse_json_value(text, kind, max_bytes);
  if (!doc.is_object())
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: must be a JSON object, got {}", kind, describe(doc)));
  return doc;
}

std::string dump_json_document(const Json& doc, std::string_view kind) {
  try {
    return doc.dump();
  } catch (const Json::exception& e) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: cannot serialise: {}", kind, without_exception_id(e.what())));
  }
}

std::string quote_text(std::string_view text) { return quote_untrusted(text, max_document_quote_chars); }

JsonReader JsonReader::required(std::string_view key) const {
  const auto& members = object_members();
  const auto it = members.find(key);
  const std::string name(key);
  if (it == members.end()) member(name, *value_).fail("required field is missing");
  if (it->second.is_null()) member(name, it->second).fail("required field is null");
  return member(name, it->second);
}

std::optional<JsonReader> JsonReader::optional(std::string_view key) const {
  const auto& members = object_members();
  const auto it = members.find(key);
  if (it == members.end() || it->second.is_null()) return std::nullopt;
  return member(it->first, it->second);
}

bool JsonReader::contains(std::string_view key) const { return object_members().contains(key); }

std::string JsonReader::string() const {
  if (!value_->is_string()) fail_type("a string");
  return value_->get<std::string>();
}

std::string JsonReader::non_empty_string() const {
  if (!value_->is_string() || value_->get_ref<const std::string&>().empty()) fail_type("a non-empty string");
  return value_->get<std::string>();
}

std::optional<std::int64_t> JsonReader::as_int64() const {
  // Non-negative numbers parse as unsigned, and one above int64's range does not fit;
  // fractions and exponents ("1.0", "1e3") parse as floating point and are refused.
  if (!value_->is_number_integer()) return std::nullopt;
  if (value_->is_number_unsigned() && value_->get<std::uint64_t>() > std::numeric_limits<std::int64_t>::max())
    return std::nullopt;
  return value_->get<std::int64_t>();
}

std::int64_t JsonReader::integer() const {
  const auto value = as_int64();
  if (!value) fail_type("an integer");
  return *value;
}

std::int64_t JsonReader::non_negative_integer() const {
  const auto value = as_int64();
  if (!value || *value < 0) fail_type("a non-negative integer");
  return *value;
}

bool JsonReader::boolean() const {
  if (!value_->is_boolean()) fail_type("a boolean");
  return value_->get<bool>();
}

Digest JsonReader::digest() const {
  const auto text = string();
  try {
    return Digest::parse(text);
  } catch (const Error& e) {
    throw e.with_context(path_.empty() ? std::string(kind_) : fmt::format("{}: {}", kind_, path_));
  }
}

std::vector<std::string> JsonReader::strings() const { return array(&JsonReader::string); }

std::map<std::string, std::string> JsonReader::string_map() const {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : object_members()) out.emplace(key, member(key, value).string());
  return out;
}

std::vector<std::string> JsonReader::keys() const {
  std::vector<std::string> out;
  for (const auto& entry : object_members()) out.push_back(entry.first);
  return out;
}

void JsonReader::fail(std::string_view problem, ErrorCode code) const {
  if (path_.empty()) throw Error(code, fmt::format("{}: {}", kind_, problem));
  throw Error(code, fmt::format("{}: {}: {}", kind_, path_, problem));
}

void JsonReader::fail_type(std::string_view expected) const {
  fail(fmt::format("must be {}, got {}", expected, describe(*value_)));
}

const Json::object_t& JsonReader::object_members() const {
  if (!value_->is_object()) fail_type("an object");
  return value_->get_ref<const Json::object_t&>();
}

const Json::array_t& JsonReader::array_elements() const {
  if (!value_->is_array()) fail_type("an array");
  return value_->get_ref<const Json::array_t&>();
}

JsonReader JsonReader::member(const std::string& key, const Json& value) const {
  // Keys such as "os.version" or annotation names are bracketed so the path stays unambiguous.
  std::string path =
      is_identifier(key) ? (path_.empty() ? key : path_ + "." + key) : path_ + "[" + quote_text(key) + "]";
  return JsonReader(value, kind_, std::move(path));
}

JsonReader JsonReader::element(std::size_t index) const {
  return JsonReader((*value_)[index], kind_, fmt::format("{}[{}]", path_, index));
}

Json json_key_set(const std::vector<std::string>& keys) {
  Json out = Json::object();
  for (const auto& key : keys) out[key] = Json::object();
  return out;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
