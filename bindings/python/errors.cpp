// Turns knast::Error into the matching knast.Error subclass (defined in knast/errors.py),
// with .code (the ErrorCode name) and .errno (an OS errno or 0).
#include "bindings.hpp"

#include <knast/error.hpp>

namespace py = pybind11;

namespace knast::python {

void bind_errors(py::module_& m) {
  py::register_exception_translator([](std::exception_ptr thrown) {
    try {
      if (thrown) std::rethrow_exception(thrown);
    } catch (const knast::Error& e) {
      py::object errors = py::module_::import("knast.errors");
      py::object exception = errors.attr("_make")(std::string(to_string(e.kind())), e.what(), e.sys_errno());
      PyErr_SetObject(exception.get_type().ptr(), exception.ptr());
    }
  });
  m.def("_raise_for_test", [](const std::string& code, const std::string& message) {
    for (int c = static_cast<int>(ErrorCode::invalid_argument); c <= static_cast<int>(ErrorCode::internal); ++c)
      if (to_string(static_cast<ErrorCode>(c)) == code) throw Error(static_cast<ErrorCode>(c), message);
    throw Error(ErrorCode::invalid_argument, "unknown error code " + code);
  }, "Raises the knast.Error subclass for `code` (used by the tests of the translation).");
}

}  // namespace knast::python
