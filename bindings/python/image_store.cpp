// Python bindings of the image store: knast.ImageStore, whose list() gives plain objects.
// Every call that touches the disk releases the GIL.
#include "bindings.hpp"

#include <knast/error.hpp>
#include <knast/image_store.hpp>

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

namespace py = pybind11;

namespace knast::python {
namespace {

using release_gil = py::call_guard<py::gil_scoped_release>;

void bind_values(py::module_& m) {
  py::class_<ImageSummary>(m, "ImageSummary", "One named image of a store, as list() reports it.")
      .def_readonly("name", &ImageSummary::name)
      .def_readonly("target", &ImageSummary::target)
      .def_readonly("platforms", &ImageSummary::platforms)
      .def_readonly("size", &ImageSummary::size)
      .def_readonly("created", &ImageSummary::created)
      .def_property_readonly("digest", [](const ImageSummary& s) { return s.target.digest; })
      .def("__repr__", [](const ImageSummary& s) { return "knast.ImageSummary('" + s.name + "')"; });

  py::class_<ResolvedImage>(m, "ResolvedImage", "A name or digest resolved to one manifest and its config.")
      .def_readonly("name", &ResolvedImage::name)
      .def_readonly("index", &ResolvedImage::index)
      .def_readonly("manifest_descriptor", &ResolvedImage::manifest_descriptor)
      .def_readonly("manifest", &ResolvedImage::manifest)
      .def_readonly("config", &ResolvedImage::config)
      .def_property_readonly("digest", [](const ResolvedImage& r) { return r.manifest_descriptor.digest; })
      .def("to_json", [](const ResolvedImage& r) { return to_json(r); });

  py::class_<GcReport>(m, "GcReport", "What garbage collection removed.")
      .def_readonly("removed", &GcReport::removed)
      .def_readonly("bytes_freed", &GcReport::bytes_freed)
      .def_readonly("stale_ingests", &GcReport::stale_ingests);

  py::class_<VerifyProblem> problem(m, "VerifyProblem", "One problem verify() found.");
  py::enum_<VerifyProblem::Kind>(problem, "Kind")
      .value("corrupt", VerifyProblem::Kind::corrupt)
      .value("missing", VerifyProblem::Kind::missing)
      .value("unexpected_file", VerifyProblem::Kind::unexpected_file);
  problem.def_readonly("kind", &VerifyProblem::kind)
      .def_readonly("path", &VerifyProblem::path)
      .def_readonly("digest", &VerifyProblem::digest)
      .def_readonly("detail", &VerifyProblem::detail);

  py::class_<VerifyReport>(m, "VerifyReport", "What verify() checked and found.")
      .def_readonly("blobs_checked", &VerifyReport::blobs_checked)
      .def_readonly("bytes_checked", &VerifyReport::bytes_checked)
      .def_readonly("problems", &VerifyReport::problems)
      .def_property_readonly("ok", &VerifyReport::ok);
}

ArchiveFormat archive_format_named(const std::string& name) {
  if (name == "docker") return ArchiveFormat::docker;
  if (name == "oci") return ArchiveFormat::oci;
  throw Error(ErrorCode::invalid_argument, "unknown archive format \"" + name + "\": use docker or oci");
}

std::vector<Reference> references_of(const std::vector<std::string>& names) {
  std::vector<Reference> out;
  out.reserve(names.size());
  for (const auto& name : names) out.push_back(Reference::parse(name));
  return out;
}

void bind_store(py::module_& m) {
  py::class_<ImageStore>(m, "ImageStore", "An OCI image layout on disk that skopeo and umoci can read too.")
      .def(py::init([](const std::filesystem::path& root, bool create) {
             return ImageStore::open(root, create ? ImageStore::OpenMode::create : ImageStore::OpenMode::must_exist);
           }), py::arg("root"), py::arg("create") = true, release_gil())
      .def_property_readonly("root", &ImageStore::root)
      .def("list", &ImageStore::list, release_gil(), "Every named image, sorted by name.")
      .def("__iter__", [](const ImageStore& s) { return py::iter(py::cast(s.list())); })
      .def("find", &ImageStore::find, py::arg("name"), release_gil())
      .def("resolve", [](const ImageStore& s, const std::string& name, std::optional<Platform> platform) {
             py::gil_scoped_release release;
             return s.resolve(name, platform);
           }, py::arg("name_or_digest"), py::arg("platform") = py::none())
      .def("tag", &ImageStore::tag, py::arg("name"), py::arg("target"), release_gil())
      .def("untag", &ImageStore::untag, py::arg("name"), release_gil())
      .def("remove", &ImageStore::remove, py::arg("name"), release_gil())
      .def("has_blob", &ImageStore::has_blob, py::arg("digest"))
      .def("read_blob", [](const ImageStore& s, const Digest& d, std::size_t max_bytes) {
             std::string data;
             {
               py::gil_scoped_release release;
               data = s.read_blob(d, max_bytes);
             }
             return py::bytes(data);
           }, py::arg("digest"), py::arg("max_bytes") = std::size_t{64} << 20)
      .def("put_blob", [](ImageStore& s, const py::bytes& data, std::string media_type) {
             std::string bytes = data;
             py::gil_scoped_release release;
             return s.put_blob(bytes, std::move(media_type));
           }, py::arg("data"), py::arg("media_type"))
      .def("collect_garbage", &ImageStore::collect_garbage, py::arg("dry_run") = false, release_gil())
      .def("verify", &ImageStore::verify, release_gil())
      .def("load", &ImageStore::load, py::arg("archive"), release_gil())
      .def("save", [](const ImageStore& s, const std::vector<std::string>& names, const std::filesystem::path& archive,
                      const std::string& format) {
             auto references = references_of(names);
             auto archive_kind = archive_format_named(format);
             py::gil_scoped_release release;
             s.save(references, archive, archive_kind);
           }, py::arg("names"), py::arg("archive"), py::arg("format") = "docker")
      .def("import_rootfs", [](ImageStore& s, const std::filesystem::path& tarball, const Reference& name,
                               std::vector<std::string> changes, std::optional<Platform> platform,
                               std::optional<std::string> comment) {
             ImportOptions options;
             options.changes = std::move(changes);
             if (platform) options.platform = *platform;
             options.comment = std::move(comment);
             py::gil_scoped_release release;
             return s.import_rootfs(tarball, name, options);
           }, py::arg("tarball"), py::arg("name"), py::arg("changes") = std::vector<std::string>{},
           py::arg("platform") = py::none(), py::arg("comment") = py::none());
}

}  // namespace

void bind_image_store(py::module_& m) {
  bind_values(m);
  bind_store(m);
}

}  // namespace knast::python
