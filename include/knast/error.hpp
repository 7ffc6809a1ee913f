/// @file error.hpp
/// @brief knast::Error, the one exception hierarchy of the C++ API, and its ErrorCode.
#pragma once

#include <knast/export.hpp>

#include <string>
#include <string_view>
#include <system_error>

namespace knast {
inline namespace v0 {

/// What kind of failure an Error is. The C ABI maps each to a `knast_status` and the
/// Python module to a `knast.Error` subclass, so the set only ever grows at the end.
enum class ErrorCode : int {
  ok = 0,             ///< Not an error; never carried by a thrown Error.
  invalid_argument,   ///< Malformed input: a bad reference, digest or document.
  not_found,          ///< The named thing does not exist.
  already_exists,     ///< The thing to be created exists already.
  permission_denied,  ///< The OS or a registry refused the operation.
  unsupported,        ///< Valid input that this build, host or version cannot handle.
  network,            ///< A transport failure talking to a remote.
  auth,               ///< Authentication with a registry failed.
  integrity,          ///< Content did not match its digest or declared size.
  cancelled,          ///< The caller cancelled the operation (e.g. from a callback).
  busy,               ///< A lock or resource is held by someone else.
  limit_exceeded,     ///< A size or count limit was reached (documents, archives, disks).
  io,                 ///< An operating-system call failed.
  internal,           ///< A bug in knast: please report it.
};

/// Short stable name of a code ("invalid_argument", "not_found", ...).
KNAST_API std::string_view to_string(ErrorCode code) noexcept;

/// The std::error_category of ErrorCode values.
KNAST_API const std::error_category& error_category() noexcept;

/// Makes ErrorCode usable as a std::error_code.
KNAST_API std::error_code make_error_code(ErrorCode code) noexcept;

/// The exception every fallible knast call throws.
///
/// An Error carries either an ErrorCode (in knast's own category) or an operating-system
/// errno (in std::system_category()), and a message that says what was being done, on
/// what, and what the caller can do about it. what() returns exactly that message.
class KNAST_API Error : public std::system_error {
 public:
  /// A knast failure of kind @p code.
  Error(ErrorCode code, std::string message);
  /// An operating-system failure: @p sys_errno is kept as the error_code.
  Error(int sys_errno, std::string message);
  /// Any error_code with a message.
  Error(std::error_code ec, std::string message);

  /// The message, without any category text appended.
  const char* what() const noexcept override;
  /// The failure kind; OS errors are mapped (ENOENT → not_found, EACCES → permission_denied, ...).
  ErrorCode kind() const noexcept;
  /// The errno of an OS failure, or 0.
  int sys_errno() const noexcept;
  /// The same error with "@p context: " put before its message, as errors climb layers.
  Error with_context(std::string_view context) const;

 private:
  std::string message_;
};

/// Maps an errno value to the ErrorCode it stands for.
KNAST_API ErrorCode error_code_from_errno(int sys_errno) noexcept;

}  // namespace v0
}  // namespace knast

/// @cond INTERNAL
template <>
struct std::is_error_code_enum<knast::ErrorCode> : std::true_type {};
/// @endcond
