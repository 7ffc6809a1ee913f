// Python bindings of RunSpec: knast.RunSpec (parse / to_json / to_dict and the common
// fields), knast.RunProcess and knast.RunUser (what exec runs), knast.RunOverrides
// (`docker run`'s options), knast.make_run_spec, knast.write_bundle and knast.read_bundle.
#include "bindings.hpp"
#include "run_spec.hpp"

#include <knast/error.hpp>
#include <knast/run_spec.hpp>

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

namespace py = pybind11;

namespace knast::python {

RunSpec run_spec_of(const py::object& value) {
  if (py::isinstance<RunSpec>(value)) return value.cast<RunSpec>();
  if (py::isinstance<py::dict>(value))
    return RunSpec::parse(py::module_::import("json").attr("dumps")(value).cast<std::string>());
  if (py::isinstance<py::str>(value) || py::isinstance<py::bytes>(value)) return RunSpec::parse(value.cast<std::string>());
  throw Error(ErrorCode::invalid_argument, "a runtime config must be a knast.RunSpec, a dict or JSON text, not " +
                                               py::str(py::type::of(value)).cast<std::string>());
}

namespace {

using release_gil = py::call_guard<py::gil_scoped_release>;

py::object dict_of(const RunSpec& spec) { return py::module_::import("json").attr("loads")(to_json(spec)); }

ImageConfig image_config_of(const py::object& value) {
  if (py::isinstance<ImageConfig>(value)) return value.cast<ImageConfig>();
  if (py::isinstance<py::str>(value) || py::isinstance<py::bytes>(value)) return ImageConfig::parse(value.cast<std::string>());
  throw Error(ErrorCode::invalid_argument, "an image config must be a knast.ImageConfig or JSON text, not " +
                                               py::str(py::type::of(value)).cast<std::string>());
}

// Sets the RunOverrides attributes named by @p kwargs on @p overrides, refusing unknown names.
void apply_keywords(py::object& overrides, const py::kwargs& kwargs) {
  for (const auto& [key, value] : kwargs) {
    const auto name = key.cast<std::string>();
    if (name.starts_with("_") || !py::hasattr(overrides, name.c_str()))
      throw Error(ErrorCode::invalid_argument, "make_run_spec: unknown override \"" + name +
                                                   "\" (the knast.RunOverrides attributes are accepted)");
    py::setattr(overrides, name.c_str(), value);
  }
}

void bind_process(py::module_& m) {
  py::class_<RunUser>(m, "RunUser", "Who a process runs as (`process.user`).")
      .def(py::init([](std::uint32_t uid, std::uint32_t gid, std::vector<std::uint32_t> additional_gids) {
             RunUser u;
             u.uid = uid;
             u.gid = gid;
             u.additional_gids = std::move(additional_gids);
             return u;
           }),
           py::arg("uid") = 0u, py::arg("gid") = 0u, py::arg("additional_gids") = std::vector<std::uint32_t>{})
      .def_readwrite("uid", &RunUser::uid)
      .def_readwrite("gid", &RunUser::gid)
      .def_readwrite("additional_gids", &RunUser::additional_gids)
      .def_readwrite("umask", &RunUser::umask)
      .def_readwrite("username", &RunUser::username)
      .def("__eq__", [](const RunUser& a, const RunUser& b) { return a == b; })
      .def("__repr__", [](const RunUser& u) {
        return "knast.RunUser(uid=" + std::to_string(u.uid) + ", gid=" + std::to_string(u.gid) + ")";
      });

  py::class_<RunProcess>(m, "RunProcess", "A container's process (`process`): argv, env, cwd, user, terminal.")
      .def(py::init([](std::vector<std::string> args, std::vector<std::string> env, std::string cwd, RunUser user,
                       bool terminal) {
             RunProcess p;
             p.args = std::move(args);
             p.env = std::move(env);
             p.cwd = std::move(cwd);
             p.user = std::move(user);
             p.terminal = terminal;
             return p;
           }),
           py::arg("args") = std::vector<std::string>{}, py::arg("env") = std::vector<std::string>{},
           py::arg("cwd") = "/", py::arg("user") = RunUser{}, py::arg("terminal") = false)
      .def_readwrite("args", &RunProcess::args)
      .def_readwrite("env", &RunProcess::env)
      .def_readwrite("cwd", &RunProcess::cwd)
      .def_readwrite("user", &RunProcess::user)
      .def_readwrite("terminal", &RunProcess::terminal)
      .def_readwrite("no_new_privileges", &RunProcess::no_new_privileges)
      .def("__eq__", [](const RunProcess& a, const RunProcess& b) { return a == b; })
      .def("__repr__", [](const RunProcess& p) {
        return "knast.RunProcess(" + py::repr(py::cast(p.args)).cast<std::string>() + ")";
      });
}

void bind_spec(py::module_& m) {
  py::class_<RunSpec>(m, "RunSpec",
                      "The OCI runtime config (`config.json`) of one container. Build one with "
                      "make_run_spec() or RunSpec.parse(); to_dict() gives every field.")
      .def_static("parse", &run_spec_of, py::arg("config"),
                  "Parses and validates a config (JSON text, bytes or a dict); raises InvalidArgumentError "
                  "naming the bad field.")
      .def_static("parse_reporting",
                  [](const std::string& json) {
                    std::vector<std::string> ignored;
                    RunSpec spec = RunSpec::parse(json, ignored);
                    return py::make_tuple(std::move(spec), std::move(ignored));
                  },
                  py::arg("json"),
                  "As parse(), returning (spec, ignored): the JSON paths of the properties knast does not model.")
      .def("to_json", [](const RunSpec& s) { return to_json(s); }, "config.json text: indented, keys sorted.")
      .def("to_dict", &dict_of, "The config as plain Python data (json.loads of to_json()).")
      .def_readwrite("oci_version", &RunSpec::oci_version)
      .def_readwrite("process", &RunSpec::process)
      .def_readwrite("hostname", &RunSpec::hostname)
      .def_readwrite("annotations", &RunSpec::annotations)
      .def_property(
          "root_path", [](const RunSpec& s) { return s.root.path; },
          [](RunSpec& s, std::string path) { s.root.path = std::move(path); }, "`root.path`.")
      .def_property(
          "root_readonly", [](const RunSpec& s) { return s.root.readonly; },
          [](RunSpec& s, bool readonly) { s.root.readonly = readonly; }, "`root.readonly`.")
      .def_property_readonly("args", [](const RunSpec& s) { return s.process.args; }, "`process.args`.")
      .def_property_readonly("env", [](const RunSpec& s) { return s.process.env; }, "`process.env`.")
      .def_property_readonly("cwd", [](const RunSpec& s) { return s.process.cwd; }, "`process.cwd`.")
      .def("__eq__", [](const RunSpec& a, const RunSpec& b) { return a == b; })
      .def("__repr__", [](const RunSpec& s) {
        return "knast.RunSpec(" + py::repr(py::cast(s.process.args)).cast<std::string>() + ")";
      });
}

void bind_overrides(py::module_& m) {
  py::class_<RunOverrides>(m, "RunOverrides",
                           "What `docker run` adds to, or changes in, an image's config. Every field is optional; "
                           "make_run_spec() also takes them as keyword arguments.")
      .def(py::init([](const py::kwargs& kwargs) {
        py::object o = py::cast(RunOverrides{});
        apply_keywords(o, kwargs);
        return o.cast<RunOverrides>();
      }))
      .def_readwrite("container_id", &RunOverrides::container_id)
      .def_readwrite("image_ref", &RunOverrides::image_ref)
      .def_readwrite("host_os", &RunOverrides::host_os)
      .def_readwrite("args", &RunOverrides::args)
      .def_readwrite("entrypoint", &RunOverrides::entrypoint)
      .def_readwrite("env", &RunOverrides::env)
      .def_readwrite("workdir", &RunOverrides::workdir)
      .def_readwrite("user", &RunOverrides::user)
      .def_readwrite("hostname", &RunOverrides::hostname)
      .def_readwrite("terminal", &RunOverrides::terminal)
      .def_readwrite("read_only", &RunOverrides::read_only)
      .def_readwrite("no_new_privileges", &RunOverrides::no_new_privileges)
      .def_readwrite("host_network", &RunOverrides::host_network)
      .def_readwrite("volumes", &RunOverrides::volumes)
      .def_readwrite("tmpfs", &RunOverrides::tmpfs)
      .def_readwrite("memory", &RunOverrides::memory)
      .def_readwrite("pids_limit", &RunOverrides::pids_limit)
      .def_readwrite("cpus", &RunOverrides::cpus)
      .def_readwrite("cpu_shares", &RunOverrides::cpu_shares)
      .def_property(
          "rlimits",
          [](const RunOverrides& o) {
            std::vector<std::tuple<std::string, std::uint64_t, std::uint64_t>> out;
            for (const auto& r : o.rlimits) out.emplace_back(r.type, r.hard, r.soft);
            return out;
          },
          [](RunOverrides& o, const std::vector<std::tuple<std::string, std::uint64_t, std::uint64_t>>& limits) {
            o.rlimits.clear();
            for (const auto& [type, hard, soft] : limits) o.rlimits.push_back({type, hard, soft});
          },
          "`--ulimit`: a list of (type, hard, soft), e.g. [(\"RLIMIT_NOFILE\", 1024, 1024)].")
      .def_readwrite("linux_osrelease", &RunOverrides::linux_osrelease)
      .def_readwrite("annotations", &RunOverrides::annotations);
}

void bind_functions(py::module_& m) {
  m.def("make_run_spec",
        [](const py::object& image, const std::filesystem::path& rootfs, std::optional<RunOverrides> overrides,
           const py::kwargs& kwargs) {
          py::object o = py::cast(overrides ? *overrides : RunOverrides{});
          apply_keywords(o, kwargs);
          const RunOverrides chosen = o.cast<RunOverrides>();
          const ImageConfig config = image_config_of(image);
          py::gil_scoped_release release;
          return make_run_spec(config, rootfs, chosen);
        },
        py::arg("image"), py::arg("rootfs"), py::arg("overrides") = py::none(),
        "The RunSpec of a container of `image` (a knast.ImageConfig or its JSON) whose root is `rootfs`, "
        "by docker's rules; `overrides` (a knast.RunOverrides) and keyword arguments (its attributes, e.g. "
        "args=[\"sh\"], env=[\"A=b\"], memory=\"64m\") change it.");
  m.def("write_bundle",
        [](const std::filesystem::path& dir, const py::object& spec) {
          const RunSpec value = run_spec_of(spec);
          py::gil_scoped_release release;
          write_bundle(dir, value);
        },
        py::arg("dir"), py::arg("spec"),
        "Writes `spec` (a RunSpec, dict or JSON text) as config.json of the bundle `dir`, atomically.");
  m.def("read_bundle", &read_bundle, py::arg("dir"), release_gil(),
        "The RunSpec of the bundle `dir` (its config.json); NotFoundError without one.");
}

}  // namespace

void bind_run_spec(py::module_& m) {
  bind_process(m);
  bind_spec(m);
  bind_overrides(m);
  bind_functions(m);
}

}  // namespace knast::python
