// RunSpec <-> config.json, and OCI bundles on disk.
#include "core/text.hpp"
#include "image_store/posix_io.hpp"
#include "jail/run_spec_checks.hpp"
#include "oci/json_reader.hpp"

#include <knast/error.hpp>
#include <knast/run_spec.hpp>

#include <fmt/format.h>

#include <fcntl.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <limits>
#include <set>

namespace knast {
inline namespace v0 {
namespace {

using detail::Json;
using detail::JsonReader;
namespace fs = std::filesystem;

constexpr std::string_view kind = "runtime config";

// Collects the properties knast does not model. The runtime spec asks runtimes to
// ignore unknown properties; listing them lets a caller say which ones had no effect.
class IgnoredFields {
 public:
  explicit IgnoredFields(std::vector<std::string>* out) : out_(out) {}
  void check(const JsonReader& node, std::initializer_list<std::string_view> known) const {
    if (out_ == nullptr) return;
    for (const auto& key : node.keys())
      if (std::find(known.begin(), known.end(), key) == known.end())
        out_->push_back(node.path().empty() ? key : node.path() + "." + key);
  }

 private:
  std::vector<std::string>* out_;
};

// ---- reading -------------------------------------------------------------------------

std::uint32_t read_u32(const JsonReader& node) {
  const auto value = node.non_negative_integer();
  if (value > std::numeric_limits<std::uint32_t>::max()) node.fail(fmt::format("must fit 32 bits, got {}", value));
  return static_cast<std::uint32_t>(value);
}

// JsonReader reads integers as int64; rlimits and cgroup values are uint64 in the spec
// (RLIM_INFINITY is 2^64-1), so values above int64 are taken from the raw JSON.
std::uint64_t read_u64(const JsonReader& node, const Json& raw) {
  if (raw.is_number_unsigned()) return raw.get<std::uint64_t>();
  return static_cast<std::uint64_t>(node.non_negative_integer());
}

std::string read_absolute_path(const JsonReader& node) {
  auto path = node.non_empty_string();
  if (path.front() != '/') node.fail(fmt::format("must be an absolute path, got {}", detail::quote_text(path)));
  return path;
}

// Strings handed to execve(2) end at the first NUL: one inside would silently cut them.
std::vector<std::string> read_exec_strings(const JsonReader& node) {
  auto values = node.strings();
  for (std::size_t i = 0; i < values.size(); ++i)
    if (values[i].find('\0') != std::string::npos) node.fail(fmt::format("entry {} contains a NUL byte", i));
  return values;
}

void check_oci_version(const JsonReader& node) {
  const auto version = node.non_empty_string();
  const bool major_one =
      version.size() > 2 && version.starts_with("1.") && std::isdigit(static_cast<unsigned char>(version[2]));
  if (!major_one)
    node.fail(fmt::format("version {} is not supported: knast reads runtime-spec 1.x", detail::quote_text(version)),
              ErrorCode::unsupported);
}

RunUser read_user(const JsonReader& node, const IgnoredFields& ignored) {
  ignored.check(node, {"uid", "gid", "umask", "additionalGids", "username"});
  RunUser user;
  user.uid = read_u32(node.required("uid"));
  user.gid = read_u32(node.required("gid"));
  user.umask = node.optional("umask", read_u32);
  user.additional_gids = node.value_or_default("additionalGids", [](const JsonReader& n) { return n.array(read_u32); });
  user.username = node.optional("username", &JsonReader::string);
  return user;
}

Capabilities read_capabilities(const JsonReader& node, const IgnoredFields& ignored) {
  ignored.check(node, {"bounding", "effective", "inheritable", "permitted", "ambient"});
  return Capabilities{
      node.value_or_default("bounding", &JsonReader::strings), node.value_or_default("effective", &JsonReader::strings),
      node.value_or_default("inheritable", &JsonReader::strings),
      node.value_or_default("permitted", &JsonReader::strings), node.value_or_default("ambient", &JsonReader::strings)};
}

PosixRlimit read_rlimit(const JsonReader& node, const Json& raw, const IgnoredFields& ignored) {
  ignored.check(node, {"type", "hard", "soft"});
  PosixRlimit limit;
  const auto type = node.required("type");
  limit.type = type.non_empty_string();
  if (!limit.type.starts_with("RLIMIT_"))
    type.fail(fmt::format("must name an RLIMIT_* resource, got {}", detail::quote_text(limit.type)));
  const auto hard = node.required("hard");  // checked before the raw value is looked up
  limit.hard = read_u64(hard, raw.at("hard"));
  const auto soft = node.required("soft");
  limit.soft = read_u64(soft, raw.at("soft"));
  if (limit.soft > limit.hard)
    node.fail(fmt::format("soft limit {} is above the hard limit {}", limit.soft, limit.hard));
  return limit;
}

RunProcess read_process(const JsonReader& node, const Json& raw, const IgnoredFields& ignored) {
  ignored.check(node, {"terminal", "user", "args", "env", "cwd", "capabilities", "rlimits", "noNewPrivileges"});
  RunProcess p;
  p.terminal = node.optional("terminal", &JsonReader::boolean).value_or(false);
  p.user = read_user(node.required("user"), ignored);
  const auto args = node.required("args");
  p.args = read_exec_strings(args);
  if (p.args.empty()) args.fail("must hold at least the program to run");
  p.env = node.value_or_default("env", read_exec_strings);
  p.cwd = read_absolute_path(node.required("cwd"));
  p.capabilities = node.optional("capabilities", [&](const JsonReader& n) { return read_capabilities(n, ignored); });
  if (const auto rlimits = node.optional("rlimits")) {
    std::size_t i = 0;
    const auto& raw_list = raw.at("rlimits");
    p.rlimits = rlimits->array([&](const JsonReader& n) { return read_rlimit(n, raw_list.at(i++), ignored); });
  }
  p.no_new_privileges = node.optional("noNewPrivileges", &JsonReader::boolean).value_or(false);
  return p;
}

RunRoot read_root(const JsonReader& node, const IgnoredFields& ignored) {
  ignored.check(node, {"path", "readonly"});
  return RunRoot{node.required("path").non_empty_string(),
                 node.optional("readonly", &JsonReader::boolean).value_or(false)};
}

RunMount read_mount(const JsonReader& node, const IgnoredFields& ignored) {
  ignored.check(node, {"destination", "type", "source", "options"});
  return RunMount{read_absolute_path(node.required("destination")), node.value_or_default("type", &JsonReader::string),
                  node.value_or_default("source", &JsonReader::string),
                  node.value_or_default("options", &JsonReader::strings)};
}

LinuxNamespace read_namespace(const JsonReader& node, const IgnoredFields& ignored) {
  ignored.check(node, {"type", "path"});
  static const std::set<std::string, std::less<>> types{"pid", "network", "mount",  "ipc",
                                                        "uts", "user",    "cgroup", "time"};
  const auto type = node.required("type");
  auto name = type.string();
  if (!types.contains(name))
    type.fail(fmt::format("must be one of pid, network, mount, ipc, uts, user, cgroup, time; got {}",
                          detail::quote_text(name)));
  return LinuxNamespace{std::move(name), node.optional("path", read_absolute_path)};
}

LinuxResources read_resources(const JsonReader& node, const Json& raw, const IgnoredFields& ignored) {
  ignored.check(node, {"memory", "pids", "cpu"});
  LinuxResources r;
  if (const auto memory = node.optional("memory")) {
    ignored.check(*memory, {"limit"});
    r.memory_limit = memory->optional("limit", &JsonReader::integer);
  }
  if (const auto pids = node.optional("pids")) {
    ignored.check(*pids, {"limit"});
    r.pids_limit = pids->required("limit").integer();
  }
  if (const auto cpu = node.optional("cpu")) {
    ignored.check(*cpu, {"shares", "quota", "period"});
    const auto& raw_cpu = raw.at("cpu");
    if (const auto shares = cpu->optional("shares")) r.cpu_shares = read_u64(*shares, raw_cpu.at("shares"));
    r.cpu_quota = cpu->optional("quota", &JsonReader::integer);
    if (const auto period = cpu->optional("period")) r.cpu_period = read_u64(*period, raw_cpu.at("period"));
  }
  return r;
}

LinuxConfig read_linux(const JsonReader& node, const Json& raw, const IgnoredFields& ignored) {
  ignored.check(node, {"namespaces", "resources", "maskedPaths", "readonlyPaths"});
  LinuxConfig c;
  c.namespaces = node.value_or_default("namespaces", [&](const JsonReader& n) {
    return n.array([&](const JsonReader& e) { return read_namespace(e, ignored); });
  });
  for (std::size_t i = 0; i < c.namespaces.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (c.namespaces[i].type == c.namespaces[j].type)
        node.required("namespaces").fail(fmt::format("namespace {} is listed twice", c.namespaces[i].type));
  if (const auto resources = node.optional("resources"))
    c.resources = read_resources(*resources, raw.at("resources"), ignored);
  c.masked_paths = node.value_or_default("maskedPaths", &JsonReader::strings);
  c.readonly_paths = node.value_or_default("readonlyPaths", &JsonReader::strings);
  return c;
}

SharingMode read_sharing(const JsonReader& node, bool may_disable) {
  const auto text = node.string();
  if (text == "new") return SharingMode::new_;
  if (text == "inherit") return SharingMode::inherit;
  if (text == "disable" && may_disable) return SharingMode::disable;
  node.fail(fmt::format("must be {}, got {}",
                        may_disable ? "\"new\", \"inherit\" or \"disable\"" : "\"new\" or \"inherit\"",
                        detail::quote_text(text)));
}

JailAllow read_allow(const JsonReader& node, const IgnoredFields& ignored) {
  ignored.check(node,
                {"setHostname", "rawSockets", "chflags", "mount", "quotas", "socketAf", "reservedPorts", "suser"});
  JailAllow a;
  a.set_hostname = node.optional("setHostname", &JsonReader::boolean);
  a.raw_sockets = node.optional("rawSockets", &JsonReader::boolean);
  a.chflags = node.optional("chflags", &JsonReader::boolean);
  a.mount = node.value_or_default("mount", &JsonReader::strings);
  a.quotas = node.optional("quotas", &JsonReader::boolean);
  a.socket_af = node.optional("socketAf", &JsonReader::boolean);
  a.reserved_ports = node.optional("reservedPorts", &JsonReader::boolean);
  a.suser = node.optional("suser", &JsonReader::boolean);
  return a;
}

FreeBsdJail read_jail(const JsonReader& node, const IgnoredFields& ignored) {
  ignored.check(node,
                {"parent", "host", "ip4", "ip6", "vnet", "sysvmsg", "sysvsem", "sysvshm", "enforceStatfs", "allow"});
  const auto mode = [](const JsonReader& n) { return read_sharing(n, true); };
  const auto mode_no_disable = [](const JsonReader& n) { return read_sharing(n, false); };
  FreeBsdJail j;
  j.parent = node.optional("parent", &JsonReader::non_empty_string);
  j.host = node.optional("host", mode_no_disable);
  j.ip4 = node.optional("ip4", mode);
  j.ip6 = node.optional("ip6", mode);
  j.vnet = node.optional("vnet", mode_no_disable);
  j.sysvmsg = node.optional("sysvmsg", mode);
  j.sysvsem = node.optional("sysvsem", mode);
  j.sysvshm = node.optional("sysvshm", mode);
  if (const auto statfs = node.optional("enforceStatfs")) {
    const auto value = statfs->non_negative_integer();
    if (value > 2) statfs->fail(fmt::format("must be 0, 1 or 2, got {}", value));
    j.enforce_statfs = static_cast<int>(value);
  }
  j.allow = node.optional("allow", [&](const JsonReader& n) { return read_allow(n, ignored); });
  return j;
}

FreeBsdDevice read_device(const JsonReader& node, const IgnoredFields& ignored) {
  ignored.check(node, {"path", "mode"});
  FreeBsdDevice d{node.required("path").non_empty_string(), node.optional("mode", read_u32)};
  if (d.mode && *d.mode > 07777)
    node.required("mode").fail(fmt::format("must be a file mode up to 07777 (4095), got {}", *d.mode));
  return d;
}

FreeBsdConfig read_freebsd(const JsonReader& node, const IgnoredFields& ignored) {
  ignored.check(node, {"devices", "jail"});
  FreeBsdConfig c;
  c.devices = node.value_or_default("devices", [&](const JsonReader& n) {
    return n.array([&](const JsonReader& e) { return read_device(e, ignored); });
  });
  c.jail = node.optional("jail", [&](const JsonReader& n) { return read_jail(n, ignored); });
  return c;
}

RunSpec parse_spec(std::string_view json, std::vector<std::string>* ignored_out) {
  const auto root = detail::parse_json_document(json, kind, max_run_spec_bytes);
  const JsonReader doc(root, kind);
  const IgnoredFields ignored(ignored_out);
  ignored.check(doc, {"ociVersion", "process", "root", "hostname", "mounts", "linux", "freebsd", "annotations"});
  RunSpec spec;
  const auto version = doc.required("ociVersion");
  check_oci_version(version);
  spec.oci_version = version.string();
  const auto process = doc.required("process");  // checked before the raw value is looked up
  spec.process = read_process(process, root.at("process"), ignored);
  spec.root = read_root(doc.required("root"), ignored);
  spec.hostname = doc.optional("hostname", &JsonReader::string);
  spec.mounts = doc.value_or_default("mounts", [&](const JsonReader& n) {
    return n.array([&](const JsonReader& e) { return read_mount(e, ignored); });
  });
  spec.linux_config =
      doc.optional("linux", [&](const JsonReader& n) { return read_linux(n, root.at("linux"), ignored); });
  spec.freebsd_config = doc.optional("freebsd", [&](const JsonReader& n) { return read_freebsd(n, ignored); });
  spec.annotations = doc.value_or_default("annotations", &JsonReader::string_map);
  try {
    detail::check_knast_annotations(spec.annotations);
  } catch (const Error& e) {
    throw e.with_context(fmt::format("{}: annotations", kind));
  }
  return spec;
}

// ---- writing -------------------------------------------------------------------------

Json write_user(const RunUser& u) {
  Json out{{"uid", u.uid}, {"gid", u.gid}};
  detail::set_optional(out, "umask", u.umask);
  detail::set_non_empty(out, "additionalGids", u.additional_gids);
  detail::set_optional(out, "username", u.username);
  return out;
}

Json write_capabilities(const Capabilities& c) {
  return Json{{"bounding", c.bounding},
              {"effective", c.effective},
              {"inheritable", c.inheritable},
              {"permitted", c.permitted},
              {"ambient", c.ambient}};
}

Json write_process(const RunProcess& p) {
  Json out{{"terminal", p.terminal}, {"user", write_user(p.user)}, {"args", p.args}, {"cwd", p.cwd}};
  detail::set_non_empty(out, "env", p.env);
  detail::set_optional(out, "capabilities", p.capabilities, write_capabilities);
  detail::set_non_empty(out, "rlimits", p.rlimits, [](const std::vector<PosixRlimit>& list) {
    return detail::json_array(list, [](const PosixRlimit& r) {
      return Json{{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}};
    });
  });
  if (p.no_new_privileges) out["noNewPrivileges"] = true;
  return out;
}

Json write_mount(const RunMount& m) {
  Json out{{"destination", m.destination}};
  detail::set_non_empty(out, "type", m.type);
  detail::set_non_empty(out, "source", m.source);
  detail::set_non_empty(out, "options", m.options);
  return out;
}

Json write_linux(const LinuxConfig& c) {
  Json out = Json::object();
  detail::set_non_empty(out, "namespaces", c.namespaces, [](const std::vector<LinuxNamespace>& list) {
    return detail::json_array(list, [](const LinuxNamespace& n) {
      Json ns{{"type", n.type}};
      detail::set_optional(ns, "path", n.path);
      return ns;
    });
  });
  Json resources = Json::object();
  const auto& r = c.resources;
  if (r.memory_limit) resources["memory"] = Json{{"limit", *r.memory_limit}};
  if (r.pids_limit) resources["pids"] = Json{{"limit", *r.pids_limit}};
  Json cpu = Json::object();
  detail::set_optional(cpu, "shares", r.cpu_shares);
  detail::set_optional(cpu, "quota", r.cpu_quota);
  detail::set_optional(cpu, "period", r.cpu_period);
  if (!cpu.empty()) resources["cpu"] = std::move(cpu);
  if (!resources.empty()) out["resources"] = std::move(resources);
  detail::set_non_empty(out, "maskedPaths", c.masked_paths);
  detail::set_non_empty(out, "readonlyPaths", c.readonly_paths);
  return out;
}

Json write_allow(const JailAllow& a) {
  Json out = Json::object();
  detail::set_optional(out, "setHostname", a.set_hostname);
  detail::set_optional(out, "rawSockets", a.raw_sockets);
  detail::set_optional(out, "chflags", a.chflags);
  detail::set_non_empty(out, "mount", a.mount);
  detail::set_optional(out, "quotas", a.quotas);
  detail::set_optional(out, "socketAf", a.socket_af);
  detail::set_optional(out, "reservedPorts", a.reserved_ports);
  detail::set_optional(out, "suser", a.suser);
  return out;
}

Json write_jail(const FreeBsdJail& j) {
  const auto mode = [](SharingMode m) { return std::string(to_string(m)); };
  Json out = Json::object();
  detail::set_optional(out, "parent", j.parent);
  detail::set_optional(out, "host", j.host, mode);
  detail::set_optional(out, "ip4", j.ip4, mode);
  detail::set_optional(out, "ip6", j.ip6, mode);
  detail::set_optional(out, "vnet", j.vnet, mode);
  detail::set_optional(out, "sysvmsg", j.sysvmsg, mode);
  detail::set_optional(out, "sysvsem", j.sysvsem, mode);
  detail::set_optional(out, "sysvshm", j.sysvshm, mode);
  detail::set_optional(out, "enforceStatfs", j.enforce_statfs);
  detail::set_optional(out, "allow", j.allow, write_allow);
  return out;
}

Json write_freebsd(const FreeBsdConfig& c) {
  Json out = Json::object();
  detail::set_non_empty(out, "devices", c.devices, [](const std::vector<FreeBsdDevice>& list) {
    return detail::json_array(list, [](const FreeBsdDevice& d) {
      Json device{{"path", d.path}};
      detail::set_optional(device, "mode", d.mode);
      return device;
    });
  });
  detail::set_optional(out, "jail", c.jail, write_jail);
  return out;
}

fs::path config_path(const fs::path& dir) { return dir / "config.json"; }

}  // namespace

std::string_view to_string(SharingMode mode) noexcept {
  switch (mode) {
    case SharingMode::disable:
      return "disable";
    case SharingMode::new_:
      return "new";
    case SharingMode::inherit:
      return "inherit";
  }
  return "?";
}

RunSpec RunSpec::parse(std::string_view json) { return parse_spec(json, nullptr); }

RunSpec RunSpec::parse(std::string_view json, std::vector<std::string>& ignored_fields) {
  return parse_spec(json, &ignored_fields);
}

std::string to_json(const RunSpec& spec) {
  Json doc{{"ociVersion", spec.oci_version},
           {"process", write_process(spec.process)},
           {"root", Json{{"path", spec.root.path}, {"readonly", spec.root.readonly}}}};
  detail::set_optional(doc, "hostname", spec.hostname);
  detail::set_non_empty(doc, "mounts", spec.mounts,
                        [](const std::vector<RunMount>& list) { return detail::json_array(list, write_mount); });
  detail::set_optional(doc, "linux", spec.linux_config, write_linux);
  detail::set_optional(doc, "freebsd", spec.freebsd_config, write_freebsd);
  detail::set_non_empty(doc, "annotations", spec.annotations);
  try {
    return doc.dump(2) + "\n";
  } catch (const Json::exception&) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: cannot serialise: a string is not valid UTF-8", kind));
  }
}

void write_bundle(const fs::path& dir, const RunSpec& spec) {
  const auto text = to_json(spec);
  detail::make_directory(dir);
  detail::replace_file(config_path(dir), dir / fmt::format(".config.json.{}.tmp", detail::unique_name()), text);
}

RunSpec read_bundle(const fs::path& dir) {
  const auto path = config_path(dir);
  const auto fd = detail::open_if_exists(path, O_RDONLY);
  if (!fd)
    throw Error(ErrorCode::not_found,
                fmt::format("read bundle {}: it has no config.json", detail::quote_untrusted(dir.string())));
  try {
    return RunSpec::parse(detail::read_all(fd, max_run_spec_bytes, path));
  } catch (const Error& e) {
    throw e.with_context(fmt::format("read bundle {}", detail::quote_untrusted(dir.string())));
  }
}

}  // namespace v0
}  // namespace knast
