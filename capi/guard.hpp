// The one catch site of the C ABI: every entry point runs its body through guard(), which
// turns any exception into a knast_status and records the thread's last error.
#pragma once

#include <knast/error.hpp>
#include <knast/knast.h>

#include <cstring>
#include <new>
#include <string>
#include <string_view>

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

/// The options a caller passed, or @p defaults for NULL, with the version checked. (Every
/// options struct is at version 1 so far; the first one to append fields must copy only the
/// prefix the caller's version has and take the rest from @p defaults.)
template <typename Options>
Options options_or_default(const Options* opts, const Options& defaults) {
  if (opts == nullptr) return defaults;
  if (opts->version == 0 || opts->version > defaults.version)
    throw Error(ErrorCode::invalid_argument, "unknown options version " + std::to_string(opts->version));
  return *opts;
}

/// A heap copy of @p text for a `char **out` parameter, released by knast_string_free().
char* owned_string(std::string_view text);

}  // namespace knast::capi
