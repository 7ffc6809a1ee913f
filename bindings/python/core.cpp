// Python bindings of the core value types: Reference, Digest, Hasher, Platform and the
// OCI documents. Documents accept str or bytes; hashing releases the GIL.
#include "bindings.hpp"

#include <knast/digest.hpp>
#include <knast/document.hpp>
#include <knast/error.hpp>
#include <knast/layout.hpp>
#include <knast/oci.hpp>
#include <knast/platform.hpp>
#include <knast/reference.hpp>
#include <knast/version.hpp>

#include <pybind11/operators.h>
#include <pybind11/stl.h>

namespace py = pybind11;

namespace knast::python {
namespace {

DigestAlgorithm algorithm_named(const std::string& name) {
  if (name == "sha256") return DigestAlgorithm::sha256;
  if (name == "sha512") return DigestAlgorithm::sha512;
  throw Error(ErrorCode::invalid_argument, "unknown digest algorithm \"" + name + "\": use sha256 or sha512");
}

// Python bytes, bytearray and memoryview all expose the buffer protocol.
std::string_view bytes_of(const py::buffer_info& info) {
  return {static_cast<const char*>(info.ptr), static_cast<std::size_t>(info.size * info.itemsize)};
}

template <typename Document>
void bind_document_io(py::class_<Document>& cls) {
  cls.def_static("parse", [](const std::string& json) { return Document::parse(json); }, py::arg("json"),
                 "Parses and strictly validates a JSON document (str or bytes).")
      .def("to_json", &Document::to_json, "Serialises to compact JSON.")
      .def(py::self == py::self);
}

void bind_reference(py::module_& m) {
  py::class_<Reference>(m, "Reference", "A normalised image reference (docker.io/library/alpine:latest).")
      .def_static("parse", &Reference::parse, py::arg("text"), "Parses and normalises a reference.")
      .def_static("try_parse", &Reference::try_parse, py::arg("text"), "Like parse, but returns None when invalid.")
      .def_property_readonly("domain", &Reference::domain)
      .def_property_readonly("path", &Reference::path)
      .def_property_readonly("name", &Reference::name, "Domain and path: docker.io/library/alpine.")
      .def_property_readonly("tag", &Reference::tag)
      .def_property_readonly("digest", &Reference::digest)
      .def_property_readonly("familiar", &Reference::familiar, "The short form docker shows: alpine:latest.")
      .def_property_readonly("familiar_name", &Reference::familiar_name)
      .def("with_tag", &Reference::with_tag, py::arg("tag"))
      .def("with_digest", &Reference::with_digest, py::arg("digest"))
      .def("without_tag", &Reference::without_tag)
      .def("__str__", &Reference::string)
      .def("__repr__", [](const Reference& r) { return "knast.Reference('" + r.string() + "')"; })
      .def("__hash__", [](const Reference& r) { return py::hash(py::str(r.string())); })
      .def(py::self == py::self);
}

void bind_digest(py::module_& m) {
  py::class_<Digest>(m, "Digest", "A validated content digest (sha256:… or sha512:…).")
      .def_static("parse", &Digest::parse, py::arg("text"))
      .def_static("try_parse", &Digest::try_parse, py::arg("text"))
      .def_static("of", [](const py::buffer& data, const std::string& algorithm) {
            py::buffer_info info = data.request();
            DigestAlgorithm alg = algorithm_named(algorithm);
            py::gil_scoped_release release;
            return Digest::of(bytes_of(info), alg);
          }, py::arg("data"), py::arg("algorithm") = "sha256", "The digest of a bytes-like object.")
      .def_property_readonly("algorithm", [](const Digest& d) { return std::string(to_string(d.algorithm())); })
      .def_property_readonly("hex", &Digest::hex)
      .def("__str__", &Digest::string)
      .def("__repr__", [](const Digest& d) { return "knast.Digest('" + d.string() + "')"; })
      .def("__hash__", [](const Digest& d) { return py::hash(py::str(d.string())); })
      .def(py::self == py::self)
      .def(py::self < py::self);

  py::class_<Hasher>(m, "Hasher", "Streaming digest computation over OpenSSL.")
      .def(py::init([](const std::string& algorithm) { return Hasher(algorithm_named(algorithm)); }),
           py::arg("algorithm") = "sha256")
      .def("update", [](Hasher& h, const py::buffer& data) {
            py::buffer_info info = data.request();
            py::gil_scoped_release release;
            h.update(bytes_of(info));
          }, py::arg("data"))
      .def("finish", &Hasher::finish, "Ends hashing and returns the Digest.")
      .def_property_readonly("bytes", &Hasher::bytes);

  py::class_<DigestVerifier>(m, "DigestVerifier", "Hashes a stream and checks digest and size on close().")
      .def(py::init<Digest, std::optional<std::uint64_t>>(), py::arg("expected"), py::arg("size") = py::none())
      .def("update", [](DigestVerifier& v, const py::buffer& data) {
            py::buffer_info info = data.request();
            py::gil_scoped_release release;
            v.update(bytes_of(info));
          }, py::arg("data"))
      .def("close", &DigestVerifier::close)
      .def_property_readonly("bytes", &DigestVerifier::bytes);
}

void bind_platform(py::module_& m) {
  py::class_<Platform>(m, "Platform", "An OCI platform: os/architecture/variant.")
      .def(py::init([](std::string os, std::string architecture, std::string variant, std::string os_version,
                       std::vector<std::string> os_features) {
             return Platform{std::move(os), std::move(architecture), std::move(variant), std::move(os_version),
                             std::move(os_features)};
           }), py::arg("os"), py::arg("architecture"), py::arg("variant") = "", py::arg("os_version") = "",
           py::arg("os_features") = std::vector<std::string>{})
      .def_static("parse", &Platform::parse, py::arg("text"))
      .def_static("host", &Platform::host, "The platform of the running host.")
      .def_readwrite("os", &Platform::os)
      .def_readwrite("architecture", &Platform::architecture)
      .def_readwrite("variant", &Platform::variant)
      .def_readwrite("os_version", &Platform::os_version)
      .def_readwrite("os_features", &Platform::os_features)
      .def("normalized", &Platform::normalized)
      .def("__str__", &Platform::string)
      .def("__repr__", [](const Platform& p) { return "knast.Platform('" + p.string() + "')"; })
      .def(py::self == py::self);

  py::class_<PlatformMatcher>(m, "PlatformMatcher", "containerd's rules for which platforms can run where.")
      .def(py::init<const Platform&>(), py::arg("wanted"))
      .def("matches", &PlatformMatcher::matches, py::arg("candidate"))
      .def("best", &PlatformMatcher::best, py::arg("candidates"),
           "Index of the best matching candidate, or None.")
      .def_property_readonly("wanted", &PlatformMatcher::wanted);
}

void bind_documents(py::module_& m) {
  py::class_<Descriptor>(m, "Descriptor", "A content descriptor: media type, digest and size.")
      .def(py::init<>())
      .def_readwrite("media_type", &Descriptor::media_type)
      .def_readwrite("digest", &Descriptor::digest)
      .def_readwrite("size", &Descriptor::size)
      .def_readwrite("urls", &Descriptor::urls)
      .def_readwrite("annotations", &Descriptor::annotations)
      .def_readwrite("platform", &Descriptor::platform)
      .def_readwrite("artifact_type", &Descriptor::artifact_type)
      .def_readwrite("data", &Descriptor::data)
      .def(py::self == py::self);

  py::class_<Manifest> manifest(m, "Manifest", "An OCI image manifest or Docker schema 2 manifest.");
  manifest.def(py::init<>())
      .def_readwrite("schema_version", &Manifest::schema_version)
      .def_readwrite("media_type", &Manifest::media_type)
      .def_readwrite("artifact_type", &Manifest::artifact_type)
      .def_readwrite("config", &Manifest::config)
      .def_readwrite("layers", &Manifest::layers)
      .def_readwrite("subject", &Manifest::subject)
      .def_readwrite("annotations", &Manifest::annotations)
      .def_property_readonly("total_size", &Manifest::total_size);
  bind_document_io(manifest);

  py::class_<Index> index(m, "Index", "An OCI image index or Docker manifest list.");
  index.def(py::init<>())
      .def_readwrite("schema_version", &Index::schema_version)
      .def_readwrite("media_type", &Index::media_type)
      .def_readwrite("artifact_type", &Index::artifact_type)
      .def_readwrite("manifests", &Index::manifests)
      .def_readwrite("subject", &Index::subject)
      .def_readwrite("annotations", &Index::annotations);
  bind_document_io(index);

  py::class_<HistoryEntry>(m, "HistoryEntry", "One step of an image's history.")
      .def(py::init<>())
      .def_readwrite("created", &HistoryEntry::created)
      .def_readwrite("created_by", &HistoryEntry::created_by)
      .def_readwrite("author", &HistoryEntry::author)
      .def_readwrite("comment", &HistoryEntry::comment)
      .def_readwrite("empty_layer", &HistoryEntry::empty_layer)
      .def(py::self == py::self);

  py::class_<ContainerConfig>(m, "ContainerConfig", "How an image wants to be run.")
      .def(py::init<>())
      .def_readwrite("user", &ContainerConfig::user)
      .def_readwrite("exposed_ports", &ContainerConfig::exposed_ports)
      .def_readwrite("env", &ContainerConfig::env)
      .def_readwrite("entrypoint", &ContainerConfig::entrypoint)
      .def_readwrite("cmd", &ContainerConfig::cmd)
      .def_readwrite("volumes", &ContainerConfig::volumes)
      .def_readwrite("working_dir", &ContainerConfig::working_dir)
      .def_readwrite("labels", &ContainerConfig::labels)
      .def_readwrite("stop_signal", &ContainerConfig::stop_signal)
      .def(py::self == py::self);

  py::class_<ImageConfig> config(m, "ImageConfig", "An image configuration.");
  config.def(py::init<>())
      .def_readwrite("created", &ImageConfig::created)
      .def_readwrite("author", &ImageConfig::author)
      .def_readwrite("architecture", &ImageConfig::architecture)
      .def_readwrite("os", &ImageConfig::os)
      .def_readwrite("os_version", &ImageConfig::os_version)
      .def_readwrite("os_features", &ImageConfig::os_features)
      .def_readwrite("variant", &ImageConfig::variant)
      .def_readwrite("config", &ImageConfig::config)
      .def_readwrite("diff_ids", &ImageConfig::diff_ids)
      .def_readwrite("history", &ImageConfig::history)
      .def_property_readonly("platform", &ImageConfig::platform);
  bind_document_io(config);

  m.def("validate_document", [](const std::string& kind, const std::string& data) {
        return validate_document(parse_document_kind(kind), data);
      }, py::arg("kind"), py::arg("data"),
      "Validates a 'manifest', 'index' or 'config' document and returns a one-line summary.");
}

}  // namespace

void bind_core(py::module_& m) {
  m.def("version", &knast::version, "The version of the loaded libknast.");
  m.def("default_state_root", [] { return StateLayout::system_default().root().string(); },
        "Where knast keeps its state by default on this OS.");
  bind_reference(m);
  bind_digest(m);
  bind_platform(m);
  bind_documents(m);
}

}  // namespace knast::python
