// The Linux-emulation plan as JSON (for golden files and programs) and as text (for
// people and FreeBSD administrators). Both are deterministic: vectors in plan order, jail
// parameters in name order.
#include <knast/linuxulator.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace knast {
inline namespace v0 {
namespace {

using Json = nlohmann::ordered_json;

Json flags_json(MountFlags flags) {
  Json out = Json::array();
  std::istringstream names(to_string(flags));
  for (std::string name; std::getline(names, name, ',');) out.push_back(name);
  return out;
}

Json param_json(const JailParamValue& value) {
  return std::visit([](const auto& v) { return Json(v); }, value);
}

std::string param_text(const JailParamValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return Json(*s).dump();  // quoted, escaped
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  return std::to_string(std::get<std::int64_t>(value));
}

std::string mount_options_text(const MountStep& m) {
  std::string out = to_string(m.flags);
  for (const auto& [key, value] : m.options) out += (out.empty() ? "" : ",") + (value.empty() ? key : key + "=" + value);
  return out;
}

}  // namespace

std::string to_json(const LinuxEmulationPlan& plan) {
  Json modules = Json::array();
  for (const auto& m : plan.kernel_modules) modules.push_back({{"file", m.file}, {"module", m.module}, {"reason", m.reason}});
  Json rules = Json::array();
  for (const auto& r : plan.devfs_ruleset.rules) rules.push_back({{"pattern", r.pattern}, {"action", r.action}});
  Json mounts = Json::array();
  for (const auto& m : plan.mounts) {
    Json options = Json::array();
    for (const auto& [key, value] : m.options) options.push_back(Json::array({key, value}));
    mounts.push_back({{"fstype", m.fstype}, {"source", m.source}, {"target", m.target}, {"options", options},
                      {"flags", flags_json(m.flags)}});
  }
  Json params = Json::object();
  for (const auto& [name, value] : plan.jail_params) params[name] = param_json(value);
  Json files = Json::array();
  for (const auto& f : plan.files)
    files.push_back({{"path", f.path}, {"mode", fmt::format("{:04o}", f.mode)}, {"content", f.content}});
  const Json doc = {
      {"image", plan.image.string()},
      {"kernel_modules", modules},
      {"devfs_ruleset", {{"number", plan.devfs_ruleset.number}, {"include", plan.devfs_ruleset.include}, {"rules", rules}}},
      {"mounts", mounts},
      {"jail_params", params},
      {"files", files},
  };
  return doc.dump(2) + "\n";
}

std::string to_text(const LinuxEmulationPlan& plan) {
  std::string out = fmt::format("# Linux emulation for a {} image on a FreeBSD host\n", plan.image.string());
  out += "\n# Kernel modules, loaded on the host (a jail cannot load them):\n";
  for (const auto& m : plan.kernel_modules) out += fmt::format("kldload -n {:<10} # {}\n", m.file, m.reason);

  const DevfsRuleset& rs = plan.devfs_ruleset;
  out += "\n# devfs.rules(5):\n";
  out += fmt::format("[devfsrules_knast_linux={}]\n", rs.number);
  if (rs.include != 0) out += fmt::format("add include {}\n", rs.include == 4 ? "$devfsrules_jail" : std::to_string(rs.include));
  for (const auto& r : rs.rules) out += fmt::format("add path '{}' {}\n", r.pattern, r.action);

  out += "\n# Mounts in this order ($root is the container's root; unmount in reverse):\n";
  for (const auto& m : plan.mounts) {
    const std::string options = mount_options_text(m);
    out += fmt::format("mount -t {}{} {} $root{}\n", m.fstype, options.empty() ? "" : " -o " + options, m.source,
                       m.target);
  }

  out += "\n# jail.conf(5) parameters:\n";
  for (const auto& [name, value] : plan.jail_params) out += fmt::format("{} = {};\n", name, param_text(value));

  out += "\n# Files written into the root:\n";
  for (const auto& f : plan.files) {
    out += fmt::format("{} (mode {:04o}):\n", f.path, f.mode);
    std::istringstream lines(f.content);
    for (std::string line; std::getline(lines, line);) out += "    " + line + "\n";
  }
  return out;
}

}  // namespace v0
}  // namespace knast
