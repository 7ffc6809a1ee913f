// Python bindings of the registry client. Transfers run with the GIL released; a progress
// callable is called with the GIL held, and an exception it raises cancels the transfer
// and is re-raised unchanged once the transfer has unwound.
#include "bindings.hpp"
#include "callbacks.hpp"

#include <knast/error.hpp>
#include <knast/image_store.hpp>
#include <knast/registry.hpp>

#include <pybind11/chrono.h>
#include <pybind11/functional.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

namespace py = pybind11;

namespace knast::python {
namespace {

Registry make_registry(std::optional<std::filesystem::path> docker_config, bool use_docker_config,
                             std::map<std::string, Credentials> credentials, std::vector<std::string> insecure,
                             std::map<std::string, std::vector<std::string>> mirrors,
                             std::optional<std::filesystem::path> ca_file, std::optional<ClientCertificate> client,
                             unsigned jobs, unsigned retries, std::string user_agent) {
  RegistryOptions o;
  o.docker_config = std::move(docker_config);
  o.use_docker_config = use_docker_config;
  o.credentials = std::move(credentials);
  o.insecure_registries = std::move(insecure);
  o.mirrors = std::move(mirrors);
  o.ca_file = std::move(ca_file);
  o.client_certificate = std::move(client);
  o.jobs = jobs;
  o.retries = retries;
  o.user_agent = std::move(user_agent);
  return Registry(std::move(o));
}

void bind_values(py::module_& m) {
  py::class_<Credentials>(m, "Credentials", "Credentials for one registry.")
      .def(py::init([](std::string username, std::string password, std::string identity_token) {
             return Credentials{std::move(username), std::move(password), std::move(identity_token)};
           }), py::arg("username") = "", py::arg("password") = "", py::arg("identity_token") = "")
      .def_readwrite("username", &Credentials::username)
      .def_readwrite("identity_token", &Credentials::identity_token)
      .def("__repr__", [](const Credentials& c) { return "knast.Credentials(username='" + c.username + "')"; });

  py::class_<ClientCertificate>(m, "ClientCertificate", "A TLS client certificate and key (PEM files).")
      .def(py::init<std::filesystem::path, std::filesystem::path>(), py::arg("certificate"), py::arg("key"))
      .def_readwrite("certificate", &ClientCertificate::certificate)
      .def_readwrite("key", &ClientCertificate::key);

  py::enum_<TransferState>(m, "TransferState")
      .value("queued", TransferState::queued)
      .value("transferring", TransferState::transferring)
      .value("skipped", TransferState::skipped)
      .value("mounted", TransferState::mounted)
      .value("done", TransferState::done);

  py::class_<Progress>(m, "Progress", "One progress report: a blob, and the whole operation.")
      .def_readonly("digest", &Progress::digest)
      .def_readonly("media_type", &Progress::media_type)
      .def_readonly("state", &Progress::state)
      .def_readonly("bytes_done", &Progress::bytes_done)
      .def_readonly("bytes_total", &Progress::bytes_total)
      .def_readonly("total_bytes_done", &Progress::total_bytes_done)
      .def_readonly("total_bytes", &Progress::total_bytes)
      .def_readonly("blobs_done", &Progress::blobs_done)
      .def_readonly("blobs_total", &Progress::blobs_total);

  py::class_<ResolvedManifest>(m, "ResolvedManifest", "A manifest or index exactly as the registry served it.")
      .def_readonly("descriptor", &ResolvedManifest::descriptor)
      .def_property_readonly("bytes", [](const ResolvedManifest& r) { return py::bytes(r.bytes); });

  py::class_<PullResult>(m, "PullResult", "What pull() did.")
      .def_readonly("reference", &PullResult::reference)
      .def_readonly("target", &PullResult::target)
      .def_readonly("manifests", &PullResult::manifests)
      .def_readonly("bytes_downloaded", &PullResult::bytes_downloaded)
      .def_readonly("blobs_downloaded", &PullResult::blobs_downloaded)
      .def_readonly("blobs_skipped", &PullResult::blobs_skipped);

  py::class_<PushResult>(m, "PushResult", "What push() did.")
      .def_readonly("reference", &PushResult::reference)
      .def_readonly("target", &PushResult::target)
      .def_readonly("bytes_uploaded", &PushResult::bytes_uploaded)
      .def_readonly("blobs_uploaded", &PushResult::blobs_uploaded)
      .def_readonly("blobs_mounted", &PushResult::blobs_mounted)
      .def_readonly("blobs_skipped", &PushResult::blobs_skipped);
}

Reference reference_of(const py::object& value) {
  if (py::isinstance<Reference>(value)) return value.cast<Reference>();
  return Reference::parse(value.cast<std::string>());
}

void bind_registry_class(py::module_& m) {
  py::class_<Registry>(m, "Registry", "A client of OCI distribution registries.")
      .def(py::init(&make_registry), py::arg("docker_config") = py::none(), py::arg("use_docker_config") = true,
           py::arg("credentials") = std::map<std::string, Credentials>{},
           py::arg("insecure_registries") = std::vector<std::string>{},
           py::arg("mirrors") = std::map<std::string, std::vector<std::string>>{}, py::arg("ca_file") = py::none(),
           py::arg("client_certificate") = py::none(), py::arg("jobs") = 3u, py::arg("retries") = 3u,
           py::arg("user_agent") = "")
      .def("ping", &Registry::ping, py::arg("registry"), py::call_guard<py::gil_scoped_release>())
      .def("resolve", [](Registry& r, const py::object& ref) {
             Reference reference = reference_of(ref);
             py::gil_scoped_release release;
             return r.resolve(reference);
           }, py::arg("reference"))
      .def("pull", [](Registry& r, const py::object& ref, ImageStore& store, std::optional<Platform> platform,
                      bool all_platforms, unsigned jobs, py::object progress) {
             PullOptions options;
             options.platform = std::move(platform);
             options.all_platforms = all_platforms;
             options.jobs = jobs;
             CallbackBridge bridge(std::move(progress));
             options.progress = progress_callback(bridge);
             Reference reference = reference_of(ref);
             return bridge.run([&] { return r.pull(reference, store, options); });
           }, py::arg("reference"), py::arg("store"), py::arg("platform") = py::none(),
           py::arg("all_platforms") = false, py::arg("jobs") = 0u, py::arg("progress") = py::none(),
           "Pulls an image into a store; progress(knast.Progress) may return False to cancel.")
      .def("push", [](Registry& r, ImageStore& store, const py::object& source, const py::object& destination,
                      std::optional<Platform> platform, unsigned jobs, std::uint64_t chunk_size, bool mount,
                      py::object progress) {
             PushOptions options;
             options.platform = std::move(platform);
             options.jobs = jobs;
             options.chunk_size = chunk_size;
             options.mount = mount;
             CallbackBridge bridge(std::move(progress));
             options.progress = progress_callback(bridge);
             Reference from = reference_of(source);
             Reference to = destination.is_none() ? from : reference_of(destination);
             return bridge.run([&] { return r.push(store, from, to, options); });
           }, py::arg("store"), py::arg("source"), py::arg("destination") = py::none(), py::arg("platform") = py::none(),
           py::arg("jobs") = 0u, py::arg("chunk_size") = 0u, py::arg("mount") = true, py::arg("progress") = py::none())
      .def("tags", [](Registry& r, const py::object& repository, std::size_t page_size) {
             Reference reference = reference_of(repository);
             py::gil_scoped_release release;
             return r.tags(reference, page_size);
           }, py::arg("repository"), py::arg("page_size") = 0u)
      .def("catalog", &Registry::catalog, py::arg("registry"), py::arg("page_size") = 0u,
           py::call_guard<py::gil_scoped_release>())
      .def("login", &Registry::login, py::arg("registry"), py::arg("credentials"),
           py::call_guard<py::gil_scoped_release>())
      .def("logout", &Registry::logout, py::arg("registry"), py::call_guard<py::gil_scoped_release>());
}

}  // namespace

void bind_registry(py::module_& m) {
  bind_values(m);
  bind_registry_class(m);
}

}  // namespace knast::python
