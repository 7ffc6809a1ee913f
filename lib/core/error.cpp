#include <knast/error.hpp>

#include <cerrno>

namespace knast {
inline namespace v0 {
namespace {

class KnastCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "knast"; }
  std::string message(int value) const override {
    return std::string(to_string(static_cast<ErrorCode>(value)));
  }
};

}  // namespace

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::ok: return "ok";
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::already_exists: return "already_exists";
    case ErrorCode::permission_denied: return "permission_denied";
    case ErrorCode::unsupported: return "unsupported";
    case ErrorCode::network: return "network";
    case ErrorCode::auth: return "auth";
    case ErrorCode::integrity: return "integrity";
    case ErrorCode::cancelled: return "cancelled";
    case ErrorCode::busy: return "busy";
    case ErrorCode::limit_exceeded: return "limit_exceeded";
    case ErrorCode::io: return "io";
    case ErrorCode::internal: return "internal";
  }
  return "unknown";
}

const std::error_category& error_category() noexcept {
  static const KnastCategory category;
  return category;
}

std::error_code make_error_code(ErrorCode code) noexcept {
  return {static_cast<int>(code), error_category()};
}

ErrorCode error_code_from_errno(int sys_errno) noexcept {
  switch (sys_errno) {
    case 0: return ErrorCode::ok;
    case ENOENT:
    case ESRCH: return ErrorCode::not_found;
    case EEXIST:
    case ENOTEMPTY: return ErrorCode::already_exists;
    case EACCES:
    case EPERM:
    case EROFS: return ErrorCode::permission_denied;
    case EINVAL:
    case ENAMETOOLONG:
    case ENOTDIR:
    case EISDIR:
    case ELOOP:
    case EXDEV: return ErrorCode::invalid_argument;
    case ENOSYS:
    case EOPNOTSUPP:
    case EAFNOSUPPORT:
    case EPROTONOSUPPORT: return ErrorCode::unsupported;
    case EBUSY:
    case EAGAIN:
    case ETXTBSY: return ErrorCode::busy;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
    case EMFILE:
    case ENFILE:
    case ENOMEM: return ErrorCode::limit_exceeded;
    case ECONNREFUSED:
    case ECONNRESET:
    case ETIMEDOUT:
    case EHOSTUNREACH:
    case ENETUNREACH: return ErrorCode::network;
    case ECANCELED:
    case EINTR: return ErrorCode::cancelled;
    default: return ErrorCode::io;
  }
}

Error::Error(ErrorCode code, std::string message)
    : std::system_error(make_error_code(code)), message_(std::move(message)) {}

Error::Error(int sys_errno, std::string message)
    : std::system_error(sys_errno, std::system_category()), message_(std::move(message)) {}

Error::Error(std::error_code ec, std::string message)
    : std::system_error(ec), message_(std::move(message)) {}

const char* Error::what() const noexcept { return message_.c_str(); }

ErrorCode Error::kind() const noexcept {
  if (code().category() == error_category()) return static_cast<ErrorCode>(code().value());
  if (code().category() == std::system_category() || code().category() == std::generic_category())
    return error_code_from_errno(code().value());
  return ErrorCode::internal;
}

int Error::sys_errno() const noexcept {
  const auto& cat = code().category();
  return (cat == std::system_category() || cat == std::generic_category()) ? code().value() : 0;
}

Error Error::with_context(std::string_view context) const {
  std::string message(context);
  message += ": ";
  message += message_;
  return Error(code(), std::move(message));
}

}  // namespace v0
}  // namespace knast
