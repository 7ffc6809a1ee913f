#include "oci/oci_json.hpp"

#include <fmt/format.h>

namespace knast {
inline namespace v0 {
namespace {

using detail::Json;
using detail::JsonReader;

constexpr std::string_view kind = "image config";

// Docker writes null for most unset fields ("Entrypoint": null, "Labels": null); the
// reader takes null as absent, so they need no special case here. Fields knast does not
// model (Healthcheck, OnBuild, Shell, ...) are ignored, as the spec asks.
ContainerConfig read_container_config(const JsonReader& node) {
  ContainerConfig c;
  c.user = node.optional("User", &JsonReader::string);
  c.exposed_ports = node.value_or_default("ExposedPorts", &JsonReader::keys);
  c.env = node.value_or_default("Env", &JsonReader::strings);
  c.entrypoint = node.optional("Entrypoint", &JsonReader::strings);
  c.cmd = node.optional("Cmd", &JsonReader::strings);
  c.volumes = node.value_or_default("Volumes", &JsonReader::keys);
  c.working_dir = node.optional("WorkingDir", &JsonReader::string);
  c.labels = node.value_or_default("Labels", &JsonReader::string_map);
  c.stop_signal = node.optional("StopSignal", &JsonReader::string);
  return c;
}

Json write_container_config(const ContainerConfig& c) {
  Json out = Json::object();
  detail::set_optional(out, "User", c.user);
  detail::set_non_empty(out, "ExposedPorts", c.exposed_ports, detail::json_key_set);
  detail::set_non_empty(out, "Env", c.env);
  detail::set_optional(out, "Entrypoint", c.entrypoint);
  detail::set_optional(out, "Cmd", c.cmd);
  detail::set_non_empty(out, "Volumes", c.volumes, detail::json_key_set);
  detail::set_optional(out, "WorkingDir", c.working_dir);
  detail::set_non_empty(out, "Labels", c.labels);
  detail::set_optional(out, "StopSignal", c.stop_signal);
  return out;
}

HistoryEntry read_history_entry(const JsonReader& node) {
  HistoryEntry h;
  h.created = node.optional("created", &JsonReader::string);
  h.created_by = node.optional("created_by", &JsonReader::string);
  h.author = node.optional("author", &JsonReader::string);
  h.comment = node.optional("comment", &JsonReader::string);
  h.empty_layer = node.optional("empty_layer", &JsonReader::boolean).value_or(false);
  return h;
}

Json write_history_entry(const HistoryEntry& h) {
  Json out = Json::object();
  detail::set_optional(out, "created", h.created);
  detail::set_optional(out, "created_by", h.created_by);
  detail::set_optional(out, "author", h.author);
  detail::set_optional(out, "comment", h.comment);
  if (h.empty_layer) out["empty_layer"] = true;
  return out;
}

// rootfs.diff_ids may be absent: Docker omits it (omitempty) for an image without layers.
std::vector<Digest> read_diff_ids(const JsonReader& rootfs) {
  const auto type = rootfs.required("type");
  if (const auto value = type.string(); value != "layers")
    type.fail(fmt::format("must be \"layers\", got {}", detail::quote_text(value)));
  return rootfs.value_or_default("diff_ids", [](const JsonReader& n) { return n.array(&JsonReader::digest); });
}

std::optional<std::string> non_empty(std::string value) {
  if (value.empty()) return std::nullopt;
  return value;
}

}  // namespace

ImageConfig ImageConfig::parse(std::string_view json) {
  const auto root = detail::parse_json_document(json, kind, max_config_bytes);
  const JsonReader doc(root, kind);
  ImageConfig c;
  c.created = doc.optional("created", &JsonReader::string);
  c.author = doc.optional("author", &JsonReader::string);
  // The config spells its platform as a platform object does, so one reader serves both;
  // an empty variant or os.version reads as absent.
  auto platform = detail::read_platform(doc);
  c.architecture = std::move(platform.architecture);
  c.os = std::move(platform.os);
  c.os_version = non_empty(std::move(platform.os_version));
  c.os_features = std::move(platform.os_features);
  c.variant = non_empty(std::move(platform.variant));
  c.config = doc.value_or_default("config", read_container_config);
  c.diff_ids = read_diff_ids(doc.required("rootfs"));
  c.history = doc.value_or_default("history", [](const JsonReader& n) { return n.array(read_history_entry); });
  return c;
}

std::string ImageConfig::to_json() const {
  Json doc = Json::object();
  detail::set_optional(doc, "created", created);
  detail::set_optional(doc, "author", author);
  detail::write_platform_fields(doc, platform());
  if (config != ContainerConfig{}) doc["config"] = write_container_config(config);
  doc["rootfs"] = Json{{"type", "layers"}, {"diff_ids", detail::json_array(diff_ids, &Digest::string)}};
  detail::set_non_empty(doc, "history", history,
                        [](const std::vector<HistoryEntry>& h) { return detail::json_array(h, write_history_entry); });
  return detail::dump_json_document(doc, kind);
}

Platform ImageConfig::platform() const {
  return Platform{os, architecture, variant.value_or(""), os_version.value_or(""), os_features};
}

}  // namespace v0
}  // namespace knast
