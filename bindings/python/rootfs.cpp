// Python bindings of Rootfs: knast.apply_layer, knast.chain_id, knast.write_layer_diff,
// knast.Rootfs and knast.pull_and_unpack. Everything that touches the disk runs without
// the GIL; progress callables are called with it held (callbacks.hpp).
#include "bindings.hpp"
#include "callbacks.hpp"

#include <knast/rootfs.hpp>

#include <pybind11/functional.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

namespace py = pybind11;

namespace knast::python {
namespace {

using release_gil = py::call_guard<py::gil_scoped_release>;

ApplyOptions make_apply_options(std::uint64_t max_bytes, std::uint64_t max_entries, bool allow_devices,
                                std::optional<bool> preserve_owners, bool xattrs,
                                std::optional<std::filesystem::path> elf_index) {
  ApplyOptions o;
  if (elf_index) o.elf_index = *elf_index;
  o.max_bytes = max_bytes;
  o.max_entries = max_entries;
  o.allow_devices = allow_devices;
  o.preserve_owners = preserve_owners;
  o.xattrs = xattrs;
  return o;
}

void bind_values(py::module_& m) {
  const ApplyOptions defaults;
  py::class_<ApplyOptions>(m, "ApplyOptions", "Limits and permissions for applying layers.")
      .def(py::init(&make_apply_options), py::arg("max_bytes") = defaults.max_bytes,
           py::arg("max_entries") = defaults.max_entries, py::arg("allow_devices") = false,
           py::arg("preserve_owners") = py::none(), py::arg("xattrs") = true, py::arg("elf_index") = py::none())
      .def_readwrite("max_bytes", &ApplyOptions::max_bytes)
      .def_readwrite("max_entries", &ApplyOptions::max_entries)
      .def_readwrite("allow_devices", &ApplyOptions::allow_devices)
      .def_readwrite("preserve_owners", &ApplyOptions::preserve_owners)
      .def_readwrite("xattrs", &ApplyOptions::xattrs)
      .def_readwrite("elf_index", &ApplyOptions::elf_index,
                     "A file listing every regular file the apply writes and whether it is ELF, for "
                     "brand_tree(elf_index=...); empty: none.");

  py::class_<ApplyReport>(m, "ApplyReport", "What applying layers did.")
      .def_readonly("entries", &ApplyReport::entries)
      .def_readonly("bytes", &ApplyReport::bytes)
      .def_readonly("whiteouts", &ApplyReport::whiteouts)
      .def_readonly("skipped_devices", &ApplyReport::skipped_devices)
      .def_readonly("skipped_xattrs", &ApplyReport::skipped_xattrs)
      .def_readonly("warnings", &ApplyReport::warnings);

  py::enum_<LayerCompression>(m, "LayerCompression")
      .value("none", LayerCompression::none)
      .value("gzip", LayerCompression::gzip)
      .value("zstd", LayerCompression::zstd);

  py::enum_<SnapshotDriver>(m, "SnapshotDriver")
      .value("directory", SnapshotDriver::directory)
      .value("overlay", SnapshotDriver::overlay)
      .value("zfs", SnapshotDriver::zfs);

  py::class_<LayerDiff>(m, "LayerDiff", "What a diff wrote.")
      .def_readonly("descriptor", &LayerDiff::descriptor)
      .def_readonly("diff_id", &LayerDiff::diff_id)
      .def_readonly("changes", &LayerDiff::changes);

  py::class_<ChainInfo>(m, "ChainInfo", "An unpacked layer chain in the cache.")
      .def_readonly("chain_id", &ChainInfo::chain_id)
      .def_readonly("diff_ids", &ChainInfo::diff_ids)
      .def_readonly("path", &ChainInfo::path)
      .def_readonly("size", &ChainInfo::size)
      .def_readonly("created", &ChainInfo::created)
      .def_readonly("elf_index", &ChainInfo::elf_index)
      .def_readonly("containers", &ChainInfo::containers)
      .def("__repr__", [](const ChainInfo& c) { return "knast.ChainInfo('" + c.chain_id.string() + "')"; });

  py::class_<UnpackResult>(m, "UnpackResult", "What unpack() did.")
      .def_readonly("chain", &UnpackResult::chain)
      .def_readonly("reused", &UnpackResult::reused)
      .def_readonly("layers_applied", &UnpackResult::layers_applied)
      .def_readonly("report", &UnpackResult::report);

  py::class_<PullUnpackResult>(m, "PullUnpackResult", "What pull_and_unpack() did.")
      .def_readonly("pull", &PullUnpackResult::pull)
      .def_readonly("unpack", &PullUnpackResult::unpack);

  py::class_<ContainerRootfs>(m, "ContainerRootfs", "A container's writable root.")
      .def_readonly("id", &ContainerRootfs::id)
      .def_readonly("chain_id", &ContainerRootfs::chain_id)
      .def_readonly("driver", &ContainerRootfs::driver)
      .def_readonly("path", &ContainerRootfs::path)
      .def_readonly("elf_index", &ContainerRootfs::elf_index,
                    "The ELF index that describes this root, for brand_tree(elf_index=...); empty: none.")
      .def("__repr__", [](const ContainerRootfs& c) { return "knast.ContainerRootfs('" + c.id + "')"; });

  py::class_<PruneReport>(m, "PruneReport", "What prune() removed.")
      .def_readonly("removed", &PruneReport::removed)
      .def_readonly("bytes_freed", &PruneReport::bytes_freed);
}

// An unpack progress callback that calls the bridge's callable (none for None).
UnpackProgress unpack_progress(CallbackBridge& bridge) {
  if (bridge.empty()) return {};
  return [&bridge](std::size_t index, std::size_t count, const Digest& diff_id, bool cached) {
    bridge.call_or_cancel(index, count, diff_id, cached);
  };
}

UnpackOptions unpack_options(std::optional<Platform> platform, CallbackBridge& bridge) {
  UnpackOptions options;
  options.platform = std::move(platform);
  options.progress = unpack_progress(bridge);
  return options;
}

Rootfs open_rootfs(const std::filesystem::path& state_root, const std::string& driver, std::string zfs_dataset,
                   std::optional<ApplyOptions> apply) {
  RootfsOptions options;
  options.driver = parse_snapshot_driver(driver);
  options.zfs_dataset = std::move(zfs_dataset);
  if (apply) options.apply = *apply;
  py::gil_scoped_release release;
  return Rootfs::open(StateLayout(state_root), options);
}

void bind_rootfs_class(py::module_& m) {
  py::class_<Rootfs>(m, "Rootfs", "The cache of unpacked layer chains and the container roots made from them.")
      .def(py::init(&open_rootfs), py::arg("state_root"), py::arg("driver") = "directory",
           py::arg("zfs_dataset") = "", py::arg("apply") = py::none())
      .def_property_readonly("driver", [](const Rootfs& r) { return r.options().driver; })
      .def("unpack", [](Rootfs& r, const ImageStore& store, const std::string& image,
                        std::optional<Platform> platform, py::object progress) {
             CallbackBridge bridge(std::move(progress));
             const auto options = unpack_options(std::move(platform), bridge);
             return bridge.run([&] { return r.unpack(store, image, options); });
           }, py::arg("store"), py::arg("image"), py::arg("platform") = py::none(), py::arg("progress") = py::none(),
           "Unpacks an image of the store into the cache; progress(index, count, diff_id, cached) may raise to stop.")
      .def("list", &Rootfs::list, release_gil())
      .def("find", &Rootfs::find, py::arg("chain_id"), release_gil())
      .def("prune", &Rootfs::prune, py::arg("dry_run") = false, release_gil())
      .def("create", [](Rootfs& r, const Digest& chain, const std::string& id,
                        std::optional<std::filesystem::path> path) {
             CreateOptions options;
             options.path = std::move(path);
             py::gil_scoped_release release;
             return r.create(chain, id, options);
           }, py::arg("chain_id"), py::arg("id"), py::arg("path") = py::none())
      .def("containers", &Rootfs::containers, release_gil())
      .def("remove", &Rootfs::remove, py::arg("id"), release_gil())
      .def("diff", &Rootfs::diff, py::arg("id"), py::arg("output"), py::arg("compression") = LayerCompression::gzip,
           release_gil());
}

void bind_functions(py::module_& m) {
  m.def("apply_layer", [](const std::filesystem::path& root, const std::filesystem::path& layer,
                          std::optional<ApplyOptions> options, const std::string& media_type) {
          py::gil_scoped_release release;
          return apply_layer(root, layer, options.value_or(ApplyOptions{}), media_type);
        }, py::arg("root"), py::arg("layer"), py::arg("options") = py::none(), py::arg("media_type") = "",
        "Applies a layer file (tar, gzip or zstd) onto a directory, never writing outside it.");
  m.def("chain_id", [](const std::vector<Digest>& diff_ids) { return chain_id(diff_ids); }, py::arg("diff_ids"),
        "The OCI chain ID of layers' diff_ids, bottom first.");
  m.def("write_layer_diff", &write_layer_diff, py::arg("base"), py::arg("changed"), py::arg("output"),
        py::arg("compression") = LayerCompression::gzip, release_gil(),
        "Writes the changes from tree base to tree changed as an OCI layer file.");
  m.def("pull_and_unpack", [](Registry& registry, const std::string& reference, ImageStore& store, Rootfs& rootfs,
                              std::optional<Platform> platform, unsigned jobs, py::object progress,
                              py::object unpack_progress_callable) {
          PullOptions pull;
          pull.platform = std::move(platform);
          pull.jobs = jobs;
          CallbackBridge pull_bridge(std::move(progress));
          pull.progress = progress_callback(pull_bridge);
          CallbackBridge unpack_bridge(std::move(unpack_progress_callable));
          const auto unpack = unpack_options(pull.platform, unpack_bridge);
          const Reference ref = Reference::parse(reference);
          try {
            py::gil_scoped_release release;
            return pull_and_unpack(registry, ref, store, rootfs, pull, unpack);
          } catch (const Error& e) {
            pull_bridge.reraise(e);
            unpack_bridge.reraise(e);
            throw;
          }
        }, py::arg("registry"), py::arg("reference"), py::arg("store"), py::arg("rootfs"),
        py::arg("platform") = py::none(), py::arg("jobs") = 0u, py::arg("progress") = py::none(),
        py::arg("unpack_progress") = py::none(),
        "Pulls an image and unpacks it as one pipeline, applying each layer as soon as it is stored.");
}

}  // namespace

void bind_rootfs(py::module_& m) {
  bind_values(m);
  bind_rootfs_class(m);
  bind_functions(m);
}

}  // namespace knast::python
