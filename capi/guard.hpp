// The one catch site of the C ABI: every entry point runs its body through guard(), which
// turns any exception into a knast_status and records the thread's last error.
#pragma once

#include <knast/error.hpp>
#include <knast/knast.h>

#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <new>
#include <string>
#include <string_view>
#include <vector>

namespace knast::capi {

/// Maps a C++ error kind to its C status code.
knast_status status_for(ErrorCode code) noexcept;

/// Records a failure for knast_last_error() and returns its status.
knast_status set_last_error(knast_status status, int sys_errno, std::string_view message) noexcept;

/// Resets the thread's last error to "no error".
void clear_last_error() noexcept;

/// Runs @p body; returns KNAST_OK, or the status of whatever it threw.
template <typename Body>
knast_status guard(Body&& body) noexcept {
  try {
    body();
    return KNAST_OK;
  } catch (const Error& e) {
    return set_last_error(status_for(e.kind()), e.sys_errno(), e.what());
  } catch (const std::bad_alloc&) {
    return set_last_error(KNAST_ENOMEM, ENOMEM, "out of memory");
  } catch (const std::exception& e) {
    return set_last_error(KNAST_ERROR, 0, e.what());
  } catch (...) {
    return set_last_error(KNAST_ERROR, 0, "unknown exception");
  }
}

/// Fails with KNAST_EINVALID when a required pointer argument is NULL.
void require(const void* pointer, const char* what);

/// Fills a versioned options struct with @p defaults after checking @p version is one this
/// library knows (fields are only ever appended, so every version up to the current one is).
template <typename Options>
void init_options(Options* opts, unsigned int version, const Options& defaults) {
  require(opts, "opts");
  if (version == 0 || version > defaults.version)
    throw Error(ErrorCode::invalid_argument, "unknown options version " + std::to_string(version));
  *opts = defaults;
  opts->version = version;
}

/// The options a caller passed, or @p defaults for NULL, with the version checked. An
/// options struct that grew passes @p sizes: sizes[v - 1] is how many bytes a caller of
/// version v passed (offsetof its first newer field); the rest come from @p defaults.
template <typename Options>
Options options_or_default(const Options* opts, const Options& defaults,
                           std::initializer_list<std::size_t> sizes = {}) {
  if (opts == nullptr) return defaults;
  if (opts->version == 0 || opts->version > defaults.version)
    throw Error(ErrorCode::invalid_argument, "unknown options version " + std::to_string(opts->version));
  if (opts->version == defaults.version || sizes.size() < opts->version) return *opts;
  Options out = defaults;
  std::memcpy(&out, opts, *(sizes.begin() + (opts->version - 1)));
  return out;
}

/// A C array of @p count strings (NULL allowed only when empty) as a vector; @p what
/// names the parameter in the error for a NULL.
std::vector<std::string> strings_of(const char* const* items, size_t count, const char* what);

/// A heap copy of @p text for a `char **out` parameter, released by knast_string_free().
char* owned_string(std::string_view text);

}  // namespace knast::capi
