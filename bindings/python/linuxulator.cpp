// Python bindings of the Linuxulator: run decisions, ELF branding (the GIL is released
// while a tree is walked), the Linux-emulation plan, prepare_linux_root and preflight.
#include "bindings.hpp"

#include <knast/error.hpp>
#include <knast/linuxulator.hpp>

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <sstream>

namespace py = pybind11;

namespace knast::python {
namespace {

using release_gil = py::call_guard<py::gil_scoped_release>;

Platform platform_of(const py::object& value) {
  if (py::isinstance<py::str>(value)) return Platform::parse(value.cast<std::string>());
  return value.cast<Platform>();
}

std::vector<std::string> flag_names(MountFlags flags) {
  std::vector<std::string> out;
  std::istringstream names(to_string(flags));
  for (std::string name; std::getline(names, name, ',');) out.push_back(name);
  return out;
}

void bind_run(py::module_& m) {
  py::class_<KernelFacts>(m, "KernelFacts", "kern.elf64/elf32.fallback_brand of a FreeBSD kernel (None: unknown).")
      .def(py::init([](std::optional<int> elf64, std::optional<int> elf32) { return KernelFacts{elf64, elf32}; }),
           py::arg("elf64_fallback_brand") = py::none(), py::arg("elf32_fallback_brand") = py::none())
      .def_static("current", &KernelFacts::current, "The running kernel's facts (both None off FreeBSD).")
      .def_readwrite("elf64_fallback_brand", &KernelFacts::elf64_fallback_brand)
      .def_readwrite("elf32_fallback_brand", &KernelFacts::elf32_fallback_brand)
      .def("linux_fallback", &KernelFacts::linux_fallback, py::arg("also_32bit") = false)
      .def("__eq__", [](const KernelFacts& a, const KernelFacts& b) { return a == b; });

  py::class_<HostFacts>(m, "HostFacts", "A host: its platform and kernel facts.")
      .def(py::init([](const py::object& platform, const KernelFacts& kernel) {
             return HostFacts{platform_of(platform), kernel};
           }),
           py::arg("platform"), py::arg("kernel") = KernelFacts{})
      .def_static("current", &HostFacts::current, "This host.")
      .def_static("freebsd", &HostFacts::freebsd, py::arg("architecture") = "amd64",
                  "A FreeBSD host with the kernel's default fallback brands (-1).")
      .def_readwrite("platform", &HostFacts::platform)
      .def_readwrite("kernel", &HostFacts::kernel);

  py::enum_<RunMethod>(m, "RunMethod", "How an image runs on a host.")
      .value("freebsd_jail", RunMethod::freebsd_jail)
      .value("linuxulator_jail", RunMethod::linuxulator_jail)
      .value("linux_namespaces", RunMethod::linux_namespaces);

  py::class_<RunDecision>(m, "RunDecision", "What decide_run() found.")
      .def_readonly("method", &RunDecision::method)
      .def_readonly("image", &RunDecision::image)
      .def_readonly("host", &RunDecision::host)
      .def_readonly("abi_module", &RunDecision::abi_module)
      .def_readonly("branding_needed", &RunDecision::branding_needed)
      .def_readonly("explanation", &RunDecision::explanation)
      .def("__repr__", [](const RunDecision& d) { return "knast.RunDecision('" + d.explanation + "')"; });

  m.def("decide_run",
        [](const py::object& image, std::optional<HostFacts> host) {
          return decide_run(platform_of(image), host ? *host : HostFacts::current());
        },
        py::arg("image"), py::arg("host") = py::none(),
        "How an image of platform `image` (a Platform or \"os/arch\") runs on `host` (default: this host). "
        "Raises UnsupportedError naming both platforms when it cannot.");
  m.def("choose_image_platform", &choose_image_platform, py::arg("available"), py::arg("host"),
        "The platform of a multi-platform image that `host` should run, or None.");
}

void bind_branding(py::module_& m) {
  py::class_<BrandSkip>(m, "BrandSkip", "A file branding left alone, and why.")
      .def_readonly("path", &BrandSkip::path)
      .def_readonly("reason", &BrandSkip::reason)
      .def("__repr__", [](const BrandSkip& s) { return "knast.BrandSkip('" + s.path + "', '" + s.reason + "')"; });

  py::class_<BrandReport>(m, "BrandReport", "What brand_tree() found and did.")
      .def_readonly("scanned", &BrandReport::scanned)
      .def_readonly("elf", &BrandReport::elf)
      .def_readonly("elf32", &BrandReport::elf32)
      .def_readonly("needs_brand", &BrandReport::needs_brand)
      .def_readonly("branded", &BrandReport::branded)
      .def_readonly("already_branded", &BrandReport::already_branded)
      .def_readonly("restored", &BrandReport::restored)
      .def_readonly("skipped", &BrandReport::skipped)
      .def_readonly("known_not_elf", &BrandReport::known_not_elf)
      .def_readonly("skips", &BrandReport::skips)
      .def_readonly("kernel_fallback", &BrandReport::kernel_fallback)
      .def_readonly("record", &BrandReport::record)
      .def("to_json", [](const BrandReport& r) { return to_json(r); });

  m.def("brand_tree",
        [](const std::filesystem::path& root, const std::string& mode, bool scan, bool undo,
           std::optional<std::filesystem::path> record, unsigned threads, std::optional<KernelFacts> kernel,
           std::optional<std::filesystem::path> elf_index) {
          if (scan && undo) throw Error(ErrorCode::invalid_argument, "brand_tree: scan and undo exclude each other");
          BrandOptions o;
          o.mode = parse_brand_mode(mode);
          o.operation = undo ? BrandOperation::undo : scan ? BrandOperation::scan : BrandOperation::brand;
          if (record) o.record = *record;
          o.threads = threads;
          o.kernel = kernel;
          if (elf_index) o.elf_index = *elf_index;
          py::gil_scoped_release release;
          return brand_tree(root, o);
        },
        py::arg("root"), py::arg("mode") = "auto", py::kw_only(), py::arg("scan") = false, py::arg("undo") = false,
        py::arg("record") = py::none(), py::arg("threads") = 0u, py::arg("kernel") = py::none(),
        py::arg("elf_index") = py::none(),
        "Brands the ELF files of the tree `root` in place (mode \"auto\", \"all\" or \"none\"); scan=True only "
        "counts, undo=True restores the recorded bytes. Symlinks are never followed. elf_index: the index written "
        "when the tree was unpacked (ApplyOptions.elf_index, ChainInfo.elf_index); files it shows unchanged and not "
        "ELF are not opened.");
  m.def("default_brand_record", &default_brand_record, py::arg("root"),
        "Where brand_tree() records original bytes by default: <root>.knast-brand.json beside the tree.");
}

void bind_plan(py::module_& m) {
  py::class_<MountStep>(m, "MountStep", "One mount into a container root.")
      .def_readonly("fstype", &MountStep::fstype)
      .def_readonly("source", &MountStep::source)
      .def_readonly("target", &MountStep::target)
      .def_readonly("options", &MountStep::options)
      .def_property_readonly("flags", [](const MountStep& s) { return flag_names(s.flags); })
      .def("__repr__", [](const MountStep& s) { return "knast.MountStep('" + s.fstype + "', '" + s.target + "')"; });
  py::class_<KernelModule>(m, "KernelModule", "A kernel module the FreeBSD host must have.")
      .def_readonly("file", &KernelModule::file)
      .def_readonly("module", &KernelModule::module)
      .def_readonly("reason", &KernelModule::reason);
  py::class_<DevfsRule>(m, "DevfsRule", "A devfs rule: pattern and action.")
      .def_readonly("pattern", &DevfsRule::pattern)
      .def_readonly("action", &DevfsRule::action);
  py::class_<DevfsRuleset>(m, "DevfsRuleset", "The devfs ruleset of /dev.")
      .def_readonly("number", &DevfsRuleset::number)
      .def_readonly("include", &DevfsRuleset::include)
      .def_readonly("rules", &DevfsRuleset::rules);
  py::class_<RootFile>(m, "RootFile", "A file written into the root.")
      .def_readonly("path", &RootFile::path)
      .def_readonly("content", &RootFile::content)
      .def_readonly("mode", &RootFile::mode);

  py::class_<LinuxEmulationOptions>(m, "LinuxEmulationOptions", "What a Linux root on FreeBSD is set up with.")
      .def(py::init<>())
      .def_readwrite("osrelease", &LinuxEmulationOptions::osrelease)
      .def_readwrite("osname", &LinuxEmulationOptions::osname)
      .def_readwrite("hostname", &LinuxEmulationOptions::hostname)
      .def_readwrite("resolv_conf", &LinuxEmulationOptions::resolv_conf)
      .def_readwrite("devfs_ruleset", &LinuxEmulationOptions::devfs_ruleset)
      .def_readwrite("include_32bit", &LinuxEmulationOptions::include_32bit);

  py::class_<LinuxEmulationPlan>(m, "LinuxEmulationPlan", "What a Linux image needs in a FreeBSD jail.")
      .def_readonly("image", &LinuxEmulationPlan::image)
      .def_readonly("kernel_modules", &LinuxEmulationPlan::kernel_modules)
      .def_readonly("devfs_ruleset", &LinuxEmulationPlan::devfs_ruleset)
      .def_readonly("mounts", &LinuxEmulationPlan::mounts)
      .def_readonly("jail_params", &LinuxEmulationPlan::jail_params)
      .def_readonly("files", &LinuxEmulationPlan::files)
      .def("to_json", [](const LinuxEmulationPlan& p) { return to_json(p); })
      .def("to_text", [](const LinuxEmulationPlan& p) { return to_text(p); })
      .def("__eq__", [](const LinuxEmulationPlan& a, const LinuxEmulationPlan& b) { return a == b; });

  m.def("make_linux_emulation_plan",
        [](const py::object& image, const LinuxEmulationOptions& options) {
          return make_linux_emulation_plan(platform_of(image), options);
        },
        py::arg("image"), py::arg("options") = LinuxEmulationOptions{},
        "The Linux-emulation plan for a Linux image (a Platform or \"linux/amd64\").");

  py::class_<PreflightReport>(m, "PreflightReport", "What prepare_linux_root() and preflight() did.")
      .def_readonly("modules_present", &PreflightReport::modules_present)
      .def_readonly("modules_loaded", &PreflightReport::modules_loaded)
      .def_readonly("created", &PreflightReport::created)
      .def_readonly("files_written", &PreflightReport::files_written);
  m.def("prepare_linux_root", &prepare_linux_root, py::arg("plan"), py::arg("root"), release_gil(),
        "Creates the plan's mount points in `root` and writes its files, never through a symlink.");
  m.def("preflight",
        [](const LinuxEmulationPlan& plan, const std::filesystem::path& root, bool load_modules, bool prepare_root) {
          PreflightOptions o;
          o.load_modules = load_modules;
          o.prepare_root = prepare_root;
          py::gil_scoped_release release;
          return preflight(plan, root, o);
        },
        py::arg("plan"), py::arg("root"), py::kw_only(), py::arg("load_modules") = false, py::arg("prepare_root") = true,
        "On FreeBSD: checks (or loads) the plan's kernel modules, then prepares the root.");
}

}  // namespace

void bind_linuxulator(py::module_& m) {
  bind_run(m);
  bind_branding(m);
  bind_plan(m);
}

}  // namespace knast::python
