// Python callables called from GIL-free C++ work (transfers, unpacking). The callable runs
// with the GIL held; an exception it raises stops the work (a progress callback answers
// "cancel", a void callback throws ErrorCode::cancelled) and is re-raised unchanged once
// the work has unwound, so Python code sees its own exception, not a knast one.
#pragma once

#include <knast/error.hpp>
#include <knast/registry.hpp>

#include <pybind11/pybind11.h>

#include <memory>
#include <utility>

namespace knast::python {

/// Carries one Python callable (or None) across GIL-free work.
class CallbackBridge {
 public:
  explicit CallbackBridge(pybind11::object callable) : callable_(std::move(callable)) {}

  /// Whether there is a callable at all (None means no callback).
  bool empty() const { return callable_.is_none(); }

  /// Calls the callable with @p args; returns its answer as "go on" (None counts as yes),
  /// or false after recording the exception it raised.
  template <typename... Args>
  bool call(Args&&... args) {
    pybind11::gil_scoped_acquire acquire;
    try {
      pybind11::object answer = callable_(std::forward<Args>(args)...);
      return answer.is_none() || answer.cast<bool>();
    } catch (pybind11::error_already_set& e) {
      error_ = std::make_unique<pybind11::error_already_set>(std::move(e));
      return false;
    }
  }

  /// Calls the callable and throws ErrorCode::cancelled when it raised or answered False.
  template <typename... Args>
  void call_or_cancel(Args&&... args) {
    if (!call(std::forward<Args>(args)...)) throw Error(ErrorCode::cancelled, "cancelled by the Python callback");
  }

  /// Runs @p work without the GIL; re-raises the callable's own exception, if any.
  template <typename Work>
  auto run(Work&& work) {
    try {
      pybind11::gil_scoped_release release;
      return work();
    } catch (const Error& e) {
      reraise(e);
      throw;
    }
  }

  /// Throws the callable's own exception when @p e is the cancellation it caused.
  void reraise(const Error& e) {
    if (error_ && e.kind() == ErrorCode::cancelled) {
      auto error = std::move(*error_);
      error_.reset();
      throw error;
    }
  }

 private:
  pybind11::object callable_;
  std::unique_ptr<pybind11::error_already_set> error_;
};

/// A transfer progress callback that calls the bridge's callable (none for None). The
/// bridge must outlive the transfer.
inline ProgressCallback progress_callback(CallbackBridge& bridge) {
  if (bridge.empty()) return {};
  return [&bridge](const Progress& p) { return bridge.call(p); };
}

}  // namespace knast::python
