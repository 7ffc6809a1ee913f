// The FreeBSD jail plan as JSON (golden files, programs), as a jail.conf(5) stanza and as
// the text `--dry-run` prints. All three are deterministic: everything in plan order.
#include "jail/jail_plan.hpp"

#include <knast/jail.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

namespace knast {
inline namespace v0 {
namespace {

using Json = nlohmann::ordered_json;

Json mount_json(const MountStep& m) {
  Json options = Json::array();
  for (const auto& [key, value] : m.options) options.push_back(Json::array({key, value}));
  Json flags = Json::array();
  std::istringstream names(to_string(m.flags));
  for (std::string name; std::getline(names, name, ',');) flags.push_back(name);
  return {{"fstype", m.fstype}, {"source", m.source}, {"target", m.target}, {"options", options}, {"flags", flags}};
}

Json process_json(const RunProcess& p) {
  return {{"args", p.args},
          {"env", p.env},
          {"cwd", p.cwd},
          {"user", {{"uid", p.user.uid}, {"gid", p.user.gid}, {"additional_gids", p.user.additional_gids}}},
          {"terminal", p.terminal}};
}

// A value in jail.conf(5) syntax: strings quoted (JSON escaping is a subset of jail.conf's),
// jailsys numbers as their words.
std::string conf_value(const std::string& name, const JailParamValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) {
    if (detail::is_address_param(name)) {  // a jail.conf list: a, b
      std::string list = *s;
      for (std::size_t at = list.find(','); at != std::string::npos; at = list.find(',', at + 2)) list.insert(at + 1, " ");
      return list;
    }
    return Json(*s).dump();
  }
  if (const auto* n = std::get_if<std::int64_t>(&value)) {
    if (detail::is_jailsys_param(name))
      if (const auto word = detail::jailsys_word(*n); !word.empty()) return std::string(word);
    return std::to_string(*n);
  }
  return std::get<bool>(value) ? "true" : "false";
}

// "name = value;", or a boolean by name alone in its plain or "no" form (jail(8)).
std::string conf_param(const std::string& name, const JailParamValue& value) {
  if (const auto* b = std::get_if<bool>(&value)) {
    if (*b) return name + ";";
    const auto dot = name.rfind('.');
    return (dot == std::string::npos ? "no" + name : name.substr(0, dot + 1) + "no" + name.substr(dot + 1)) + ";";
  }
  return fmt::format("{} = {};", name, conf_value(name, value));
}

std::string fstab_options(const MountStep& m) {
  std::string options = has_flag(m.flags, MountFlags::read_only) ? "ro" : "rw";
  if (has_flag(m.flags, MountFlags::nosuid)) options += ",nosuid";
  if (has_flag(m.flags, MountFlags::noexec)) options += ",noexec";
  for (const auto& [key, value] : m.options) options += "," + (value.empty() ? key : key + "=" + value);
  return options;
}

std::string host_target(const JailPlan& plan, const MountStep& m) {
  return m.target == "/" ? plan.path : plan.path + m.target;
}

std::string quoted(const std::string& text) { return Json(text).dump(); }

std::string shell_quote(const std::string& word) {
  const bool plain = !word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                             "0123456789_-./=:,+@%") == std::string::npos;
  if (plain) return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string to_json(const JailPlan& plan) {
  Json params = Json::object();
  for (const auto& [name, value] : plan.params) params[name] = std::visit([](const auto& v) { return Json(v); }, value);
  Json modules = Json::array();
  for (const auto& m : plan.kernel_modules) modules.push_back({{"file", m.file}, {"module", m.module}, {"reason", m.reason}});
  Json ruleset = nullptr;
  if (plan.devfs_ruleset) {
    Json rules = Json::array();
    for (const auto& r : plan.devfs_ruleset->rules) rules.push_back({{"pattern", r.pattern}, {"action", r.action}});
    ruleset = {{"number", plan.devfs_ruleset->number}, {"include", plan.devfs_ruleset->include}, {"rules", rules}};
  }
  Json mounts = Json::array();
  for (const auto& m : plan.mounts) mounts.push_back(mount_json(m));
  Json files = Json::array();
  for (const auto& f : plan.files)
    files.push_back({{"path", f.path}, {"mode", fmt::format("{:04o}", f.mode)}, {"content", f.content}});
  Json steps = Json::array();
  for (const auto& s : plan.steps) steps.push_back({{"action", s.action}, {"detail", s.detail}});
  const Json doc = {
      {"name", plan.name},       {"path", plan.path},           {"params", params},
      {"kernel_modules", modules}, {"devfs_ruleset", ruleset}, {"mounts", mounts},
      {"files", files},          {"rctl_rules", plan.rctl_rules}, {"process", process_json(plan.process)},
      {"steps", steps},
  };
  return doc.dump(2) + "\n";
}

std::string to_jail_conf(const JailPlan& plan) {
  std::string out = fmt::format("{} {{\n", plan.name);
  for (const auto& [name, value] : plan.params)
    if (name != "name") out += "  " + conf_param(name, value) + "\n";
  if (plan.devfs_ruleset) {
    const DevfsRuleset& rs = *plan.devfs_ruleset;
    if (rs.include != 0)
      out += fmt::format("  exec.prestart += {};\n", quoted(fmt::format("devfs rule -s {} add include {}", rs.number, rs.include)));
    for (const auto& r : rs.rules)
      out += fmt::format("  exec.prestart += {};\n",
                         quoted(fmt::format("devfs rule -s {} add path {} {}", rs.number, shell_quote(r.pattern), r.action)));
  }
  for (const auto& m : plan.mounts)
    out += fmt::format("  mount += {};\n", quoted(fmt::format("{} {} {} {} 0 0", m.source, host_target(plan, m), m.fstype,
                                                              fstab_options(m))));
  for (const auto& r : plan.rctl_rules) out += fmt::format("  exec.prestart += {};\n", quoted("rctl -a " + r));
  if (!plan.rctl_rules.empty()) out += fmt::format("  exec.poststop += {};\n", quoted("rctl -r jail:" + plan.name + ":"));
  const bool vnet = std::any_of(plan.params.begin(), plan.params.end(), [](const auto& p) {
    return p.first == "vnet" && p.second == JailParamValue{detail::jail_sys_new};
  });
  if (vnet) out += "  # knast brings lo0 up inside the jail: ifconfig lo0 inet 127.0.0.1/8 up\n";
  std::vector<std::string> words;
  for (const auto& a : plan.process.args) words.push_back(shell_quote(a));
  const RunUser& user = plan.process.user;
  out += fmt::format("  # as uid {} gid {} groups {} in {}, environment:\n", user.uid, user.gid,
                     fmt::join(user.additional_gids, ","), plan.process.cwd);
  for (const auto& e : plan.process.env) out += "  #   " + e + "\n";
  out += fmt::format("  exec.start = {};\n", quoted(fmt::format("{}", fmt::join(words, " "))));
  out += "}\n";
  return out;
}

std::string to_text(const JailPlan& plan) {
  std::string out = fmt::format("# {} on a FreeBSD host, root {}\n", plan.name, plan.path);
  out += "\n# Steps, in order (setup, then teardown):\n";
  for (std::size_t i = 0; i < plan.steps.size(); ++i)
    out += fmt::format("{:>3}. {:<20} {}\n", i + 1, plan.steps[i].action, plan.steps[i].detail);
  out += "\n# jail_set(2) parameters (JAIL_CREATE):\n";
  for (const auto& [name, value] : plan.params) out += "  " + conf_param(name, value) + "\n";
  out += "\n# Mounts (in order; unmounted in reverse):\n";
  for (const auto& m : plan.mounts)
    out += fmt::format("  {} on {} ({})\n", m.fstype, host_target(plan, m), fstab_options(m) + ", from " + m.source);
  out += "\n# rctl rules:\n";
  if (plan.rctl_rules.empty()) out += "  (none)\n";
  for (const auto& r : plan.rctl_rules) out += "  " + r + "\n";
  out += "\n# jail.conf(5):\n";
  out += to_jail_conf(plan);
  return out;
}

}  // namespace v0
}  // namespace knast
