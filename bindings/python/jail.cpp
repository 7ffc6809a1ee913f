// Python bindings of containers: knast.Jail (create/open/list, start, wait, kill, stop,
// exec, remove, state, spec, logs) and knast.ContainerState. Everything that waits or
// forks (create, start, wait, stop, exec, remove, kill) runs without the GIL. A Jail is a
// context manager whose exit always removes the container, forcibly.
#include "bindings.hpp"

#include <knast/error.hpp>
#include <knast/jail.hpp>

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <memory>
#include <utility>

namespace py = pybind11;

namespace knast::python {
namespace {

using release_gil = py::call_guard<py::gil_scoped_release>;

std::chrono::milliseconds milliseconds_of(double seconds, const char* what) {
  if (!std::isfinite(seconds) || seconds < 0)
    throw Error(ErrorCode::invalid_argument, std::string(what) + " must be a non-negative number of seconds");
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(seconds * 1000.0)));
}

int fd_of(const py::handle& value) {
  if (value.is_none()) return -1;
  if (py::isinstance<py::int_>(value)) return value.cast<int>();
  if (py::hasattr(value, "fileno")) return value.attr("fileno")().cast<int>();
  throw Error(ErrorCode::invalid_argument, "a stdio entry must be a descriptor, an object with fileno() or None");
}

// stdio given as "inherit", "null", "log", or a sequence of three descriptors (ints,
// objects with fileno(), or None for /dev/null).
ContainerIo io_of(const py::object& stdio) {
  ContainerIo io;
  if (py::isinstance<py::str>(stdio)) {
    const auto mode = stdio.cast<std::string>();
    if (mode == "inherit") io.mode = StdioMode::inherit;
    else if (mode == "null") io.mode = StdioMode::null;
    else if (mode == "log") io.mode = StdioMode::log;
    else
      throw Error(ErrorCode::invalid_argument,
                  "unknown stdio \"" + mode + "\": use \"inherit\", \"null\", \"log\" or three descriptors");
    return io;
  }
  const auto fds = stdio.cast<py::sequence>();
  if (fds.size() != 3) throw Error(ErrorCode::invalid_argument, "stdio needs three descriptors: stdin, stdout, stderr");
  io.mode = StdioMode::fds;
  for (std::size_t i = 0; i < 3; ++i) io.fds[i] = fd_of(fds[i]);
  return io;
}

// Published ports given as `-p` texts ("8080:80/tcp") or PortMapping objects.
std::vector<PortMapping> port_mappings_of(const py::list& ports) {
  std::vector<PortMapping> out;
  for (const auto& port : ports) {
    if (py::isinstance<py::str>(port)) {
      for (auto& m : parse_port_mappings(port.cast<std::string>())) out.push_back(std::move(m));
    } else {
      out.push_back(port.cast<PortMapping>());
    }
  }
  return out;
}

// @p env entries "NAME=value" replace or add NAME in @p process's environment.
void overlay_env(RunProcess& process, const std::vector<std::string>& env) {
  for (const auto& entry : env) {
    const std::string name = entry.substr(0, entry.find('='));
    std::erase_if(process.env, [&](const std::string& e) { return e.substr(0, e.find('=')) == name; });
    process.env.push_back(entry);
  }
}

// The process of an exec: a RunProcess as given, or argv laid over the container's own
// process (its env, user and cwd), as `docker exec` does.
RunProcess exec_process(const Jail& jail, const py::object& command, const std::vector<std::string>& env,
                        const std::optional<std::string>& cwd, const std::optional<RunUser>& user, bool terminal) {
  RunProcess process;
  if (py::isinstance<RunProcess>(command)) {
    process = command.cast<RunProcess>();
  } else {
    process = jail.spec().process;
    process.args = command.cast<std::vector<std::string>>();
    process.terminal = terminal;
  }
  overlay_env(process, env);
  if (cwd) process.cwd = *cwd;
  if (user) process.user = *user;
  return process;
}

// Calls a Python callable per log chunk (GIL held only for the call); an exception it
// raises stops the reading and is re-raised as itself.
void read_logs_into(const Jail& jail, const py::function& callback, bool follow) {
  std::unique_ptr<py::error_already_set> raised;
  try {
    py::gil_scoped_release release;
    jail.read_logs(
        [&](int stream, std::string_view bytes) {
          py::gil_scoped_acquire acquire;
          try {
            callback(stream, py::bytes(bytes.data(), bytes.size()));
          } catch (py::error_already_set& e) {
            raised = std::make_unique<py::error_already_set>(std::move(e));
            throw Error(ErrorCode::cancelled, "log reading stopped by the Python callback");
          }
        },
        follow);
  } catch (const Error& e) {
    if (raised && e.kind() == ErrorCode::cancelled) throw std::move(*raised);
    throw;
  }
}

void bind_state(py::module_& m) {
  py::class_<ContainerState>(m, "ContainerState", "What state.json records about a container.")
      .def_readonly("id", &ContainerState::id)
      .def_readonly("name", &ContainerState::name)
      .def_readonly("image", &ContainerState::image)
      .def_property_readonly(
          "status", [](const ContainerState& s) { return std::string(to_string(s.status)); },
          "\"creating\", \"created\", \"running\" or \"stopped\".")
      .def_readonly("pid", &ContainerState::pid)
      .def_readonly("supervisor_pid", &ContainerState::supervisor_pid)
      .def_readonly("exit_code", &ContainerState::exit_code)
      .def_readonly("signal", &ContainerState::signal)
      .def_readonly("bundle", &ContainerState::bundle)
      .def_readonly("created_at", &ContainerState::created_at)
      .def_readonly("started_at", &ContainerState::started_at)
      .def_readonly("finished_at", &ContainerState::finished_at)
      .def_readonly("error", &ContainerState::error)
      .def("to_json", [](const ContainerState& s) { return to_json(s); })
      .def("__eq__", [](const ContainerState& a, const ContainerState& b) { return a == b; })
      .def("__repr__", [](const ContainerState& s) {
        return "knast.ContainerState('" + s.id + "', '" + std::string(to_string(s.status)) + "')";
      });
}

void bind_container(py::module_& m) {
  py::class_<Jail>(m, "Jail",
                   "One container of a state root. Handles are cheap; the container belongs to its supervisor. "
                   "`with knast.Jail.create(...) as j:` removes it (forcibly) on leaving the block.")
      .def_static(
          "create",
          [](const std::filesystem::path& state_root, const std::filesystem::path& bundle, const std::string& id,
             const std::string& name, const std::string& image, const py::object& stdio, bool remove_on_exit,
             std::optional<std::filesystem::path> supervisor, const std::string& network, const py::list& ports,
             const std::vector<std::string>& dns) {
            JailOptions o;
            o.state_root = state_root;
            o.bundle = bundle;
            o.id = id;
            o.name = name;
            o.image = image;
            o.io = io_of(stdio);
            o.remove_on_exit = remove_on_exit;
            if (supervisor) o.supervisor = *supervisor;
            o.network.network = network;
            o.network.ports = port_mappings_of(ports);
            o.network.dns = dns;
            py::gil_scoped_release release;
            return Jail::create(o);
          },
          py::arg("state_root"), py::arg("bundle"), py::kw_only(), py::arg("id") = "", py::arg("name") = "",
          py::arg("image") = "", py::arg("stdio") = "inherit", py::arg("remove_on_exit") = false,
          py::arg("supervisor") = py::none(), py::arg("network") = "", py::arg("ports") = py::list(),
          py::arg("dns") = std::vector<std::string>{},
          "Makes the container of the bundle `bundle` (a directory with config.json) under `state_root`; it is "
          "`created`, its program not yet running. stdio: \"inherit\", \"null\", \"log\" or three descriptors "
          "(ints, files, None for /dev/null). network: the name of a network to join (\"\": as the bundle says); "
          "ports: published ports as `-p` texts or PortMapping objects; dns: name servers for /etc/resolv.conf.")
      .def_static("open", &Jail::open, py::arg("state_root"), py::arg("id_or_name"), release_gil(),
                  "The container `id_or_name` (an id, a unique id prefix or a name); NotFoundError otherwise.")
      .def_static("list", &Jail::list, py::arg("state_root"), release_gil(),
                  "Every container of `state_root` (ContainerState objects), oldest first.")
      .def_property_readonly("id", &Jail::id)
      .def_property_readonly("directory", &Jail::directory)
      .def("state", &Jail::state, release_gil(), "The current ContainerState.")
      .def("spec", &Jail::spec, release_gil(), "The RunSpec it runs.")
      .def("start", &Jail::start, release_gil(), "Lets the program of a created container run.")
      .def(
          "wait",
          [](const Jail& j, std::optional<double> timeout) {
            std::optional<std::chrono::milliseconds> limit;
            if (timeout) limit = milliseconds_of(*timeout, "timeout");
            py::gil_scoped_release release;
            return j.wait(limit);
          },
          py::arg("timeout") = py::none(),
          "Waits for the first process to exit and returns its exit code (128 + N for signal N); None when "
          "`timeout` seconds pass first.")
      .def("kill", &Jail::kill, py::arg("signal") = SIGTERM, py::arg("all") = false, release_gil(),
           "Sends `signal` to the first process, or with all=True to every process of the container.")
      .def(
          "stop",
          [](Jail& j, double grace) {
            const auto limit = milliseconds_of(grace, "grace");
            py::gil_scoped_release release;
            return j.stop(limit);
          },
          py::arg("grace") = 10.0,
          "SIGTERM, then SIGKILL to every process after `grace` seconds; returns the exit code.")
      .def(
          "exec",
          [](Jail& j, const py::object& command, const std::vector<std::string>& env, std::optional<std::string> cwd,
             std::optional<RunUser> user, bool terminal, const py::object& stdio) {
            ExecOptions options;
            options.io = io_of(stdio);
            const RunProcess process = exec_process(j, command, env, cwd, user, terminal);
            py::gil_scoped_release release;
            return j.exec(process, options);
          },
          py::arg("command"), py::kw_only(), py::arg("env") = std::vector<std::string>{}, py::arg("cwd") = py::none(),
          py::arg("user") = py::none(), py::arg("terminal") = false, py::arg("stdio") = "inherit",
          "Runs a further process in the running container and returns its exit code. `command` is argv (the "
          "container's env, user and cwd are kept, as docker exec does) or a knast.RunProcess; env entries "
          "\"NAME=value\" are added or replace NAME.")
      .def("remove", &Jail::remove, py::arg("force") = false, release_gil(),
           "Deletes the container (force=True kills a running one first).")
      .def("read_logs", &read_logs_into, py::arg("callback"), py::arg("follow") = false,
           "Calls callback(stream, data) per chunk of the log of a stdio=\"log\" container (stream 1: stdout, "
           "2: stderr, data: bytes); follow=True reads until the container has stopped.")
      .def(
          "logs",
          [](const Jail& j, bool follow) {
            std::vector<std::pair<int, std::string>> chunks;
            {
              py::gil_scoped_release release;
              j.read_logs([&](int stream, std::string_view bytes) { chunks.emplace_back(stream, bytes); }, follow);
            }
            py::list out;
            for (const auto& [stream, bytes] : chunks) out.append(py::make_tuple(stream, py::bytes(bytes)));
            return out;
          },
          py::arg("follow") = false, "The log as a list of (stream, bytes) chunks.")
      .def("__enter__", [](Jail& j) -> Jail& { return j; }, py::return_value_policy::reference_internal)
      .def(
          "__exit__",
          [](Jail& j, const py::object& type, const py::object&, const py::object&) {
            // Always removes; a failure to remove is raised only when no exception is already on its way,
            // and a container already gone (remove_on_exit, removed in the block) counts as removed.
            try {
              py::gil_scoped_release release;
              j.remove(true);
            } catch (const Error& e) {
              if (e.kind() != ErrorCode::not_found && type.is_none()) throw;
            }
            return false;
          },
          py::arg("type"), py::arg("value"), py::arg("traceback"))
      .def("__repr__", [](const Jail& j) { return "knast.Jail('" + j.id() + "')"; });

  m.def("new_container_id", &new_container_id, "A new random container id: 64 hex digits, as docker makes them.");
  m.def("find_supervisor", &find_supervisor,
        "The supervisor program Jail.create() runs: $KNAST_SHIM, else knast-shim beside the library, else in libexec.");
}

}  // namespace

void bind_jail(py::module_& m) {
  bind_state(m);
  bind_container(m);
}

}  // namespace knast::python
