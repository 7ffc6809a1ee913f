// The `knast._knast` extension module. Each component binds itself in its own file.
#include "bindings.hpp"

PYBIND11_MODULE(_knast, m) {
  m.doc() = "knast: run Docker/OCI images in FreeBSD jails (native extension)";
  knast::python::bind_errors(m);
  knast::python::bind_core(m);
  knast::python::bind_image_store(m);
  knast::python::bind_registry(m);
  knast::python::bind_rootfs(m);
  knast::python::bind_linuxulator(m);
  knast::python::bind_run_spec(m);
  knast::python::bind_networks(m);
  knast::python::bind_jail_plan(m);
  knast::python::bind_jail(m);
}
