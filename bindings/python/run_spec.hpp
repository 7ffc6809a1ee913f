// What the jail bindings share with the RunSpec bindings.
#pragma once

#include <knast/run_spec.hpp>

#include <pybind11/pybind11.h>

namespace knast::python {

/// A runtime config given from Python as a knast.RunSpec, a dict or JSON text.
RunSpec run_spec_of(const pybind11::object& value);

}  // namespace knast::python
