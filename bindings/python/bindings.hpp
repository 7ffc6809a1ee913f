#pragma once

#include <pybind11/pybind11.h>

namespace knast::python {

void bind_errors(pybind11::module_& m);
void bind_core(pybind11::module_& m);
void bind_image_store(pybind11::module_& m);
void bind_registry(pybind11::module_& m);
void bind_rootfs(pybind11::module_& m);
void bind_linuxulator(pybind11::module_& m);
void bind_run_spec(pybind11::module_& m);
void bind_jail_plan(pybind11::module_& m);
void bind_jail(pybind11::module_& m);
void bind_networks(pybind11::module_& m);

}  // namespace knast::python
