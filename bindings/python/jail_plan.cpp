// Python bindings of the FreeBSD jail plan: knast.plan_freebsd_jail() → knast.JailPlan with
// to_text() (what --dry-run prints), to_json() and to_jail_conf(); knast.jail_name().
// The plan's parts reuse the Linuxulator's classes (MountStep, KernelModule, ...).
#include "bindings.hpp"
#include "run_spec.hpp"

#include <knast/jail.hpp>

#include <pybind11/stl.h>

namespace py = pybind11;

namespace knast::python {

void bind_jail_plan(py::module_& m) {
  py::class_<PlanStep>(m, "PlanStep", "One step of a plan (jail or network), with the call it makes.")
      .def_readonly("action", &PlanStep::action)
      .def_readonly("detail", &PlanStep::detail)
      .def("__eq__", [](const PlanStep& a, const PlanStep& b) { return a == b; })
      .def("__repr__", [](const PlanStep& s) { return "knast.PlanStep('" + s.action + "', '" + s.detail + "')"; });
  m.attr("JailPlanStep") = m.attr("PlanStep");  // the jail plan's name for it

  py::class_<JailPlan>(m, "JailPlan", "Everything running one RunSpec on a FreeBSD host does, as plain data.")
      .def_readonly("name", &JailPlan::name)
      .def_readonly("path", &JailPlan::path)
      .def_readonly("params", &JailPlan::params, "jail_set(2) parameters in order: a list of (name, value).")
      .def_readonly("kernel_modules", &JailPlan::kernel_modules)
      .def_readonly("devfs_ruleset", &JailPlan::devfs_ruleset)
      .def_readonly("mounts", &JailPlan::mounts)
      .def_readonly("files", &JailPlan::files)
      .def_readonly("rctl_rules", &JailPlan::rctl_rules)
      .def_readonly("process", &JailPlan::process)
      .def_readonly("steps", &JailPlan::steps)
      .def("to_json", [](const JailPlan& p) { return to_json(p); }, "The plan as JSON (fixed key order).")
      .def("to_text", [](const JailPlan& p) { return to_text(p); }, "What `--dry-run` prints.")
      .def("to_jail_conf", [](const JailPlan& p) { return to_jail_conf(p); }, "An equivalent jail.conf(5) stanza.")
      .def("__eq__", [](const JailPlan& a, const JailPlan& b) { return a == b; })
      .def("__repr__", [](const JailPlan& p) { return "knast.JailPlan('" + p.name + "')"; });

  m.def("plan_freebsd_jail",
        [](const py::object& spec, const std::string& container_id, const std::string& root_path,
           const py::object& image, bool include_32bit) {
          JailPlanOptions o;
          o.container_id = container_id;
          o.root_path = root_path;
          if (py::isinstance<py::str>(image)) o.image = Platform::parse(image.cast<std::string>());
          else if (!image.is_none()) o.image = image.cast<Platform>();
          o.include_32bit = include_32bit;
          return plan_freebsd_jail(run_spec_of(spec), o);
        },
        py::arg("spec"), py::arg("container_id"), py::kw_only(), py::arg("root_path") = "",
        py::arg("image") = py::none(), py::arg("include_32bit") = false,
        "The plan for running `spec` (a RunSpec, dict or JSON text) on a FreeBSD host, as container "
        "`container_id`; `image` is the image's platform (\"linux/amd64\" for the Linuxulator; None: the "
        "spec's org.knast.image.platform annotation). Pure: works on any host.");
  m.def("jail_name", &jail_name, py::arg("container_id"),
        "The jail name of a container: \"knast-\" and the first 12 characters of its id.");
}

}  // namespace knast::python
