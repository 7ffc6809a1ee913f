// The ErrorCode a call throws, for tests that check refusals by kind.
#pragma once

#include <knast/error.hpp>

#include <functional>

namespace knast::test {

/// The kind of the knast::Error @p f throws, or ErrorCode::ok when it throws none.
inline ErrorCode kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  return ErrorCode::ok;
}

}  // namespace knast::test
