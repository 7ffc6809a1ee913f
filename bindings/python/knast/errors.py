"""The exceptions knast raises: one class per knast::ErrorCode, all under knast.Error."""

class Error(RuntimeError):
    """Base class of every knast failure.

    Attributes:
        code: the knast error code name ("invalid_argument", "not_found", ...).
        errno: the operating-system errno for OS failures, else 0.
    """

    code = "internal"

    def __init__(self, message, errno=0):
        super().__init__(message)
        self.errno = errno


class InvalidArgumentError(Error, ValueError):
    """Malformed input: a bad reference, digest or document."""
    code = "invalid_argument"


class NotFoundError(Error, LookupError):
    """The named thing does not exist."""
    code = "not_found"


class AlreadyExistsError(Error):
    """The thing to be created exists already."""
    code = "already_exists"


class PermissionDeniedError(Error):
    """The OS or a registry refused the operation."""
    code = "permission_denied"


class UnsupportedError(Error):
    """Valid input that this build, host or version cannot handle."""
    code = "unsupported"


class NetworkError(Error):
    """A transport failure talking to a remote."""
    code = "network"


class AuthError(Error):
    """Authentication with a registry failed."""
    code = "auth"


class IntegrityError(Error):
    """Content did not match its digest or declared size."""
    code = "integrity"


class CancelledError(Error):
    """The caller cancelled the operation."""
    code = "cancelled"


class BusyError(Error):
    """A lock or resource is held by someone else."""
    code = "busy"


class LimitExceededError(Error):
    """A size or count limit was reached."""
    code = "limit_exceeded"


class IOFailure(Error):
    """An operating-system call failed."""
    code = "io"


class InternalError(Error):
    """A bug in knast: please report it."""
    code = "internal"


_BY_CODE = {cls.code: cls for cls in (
    InvalidArgumentError, NotFoundError, AlreadyExistsError, PermissionDeniedError,
    UnsupportedError, NetworkError, AuthError, IntegrityError, CancelledError, BusyError,
    LimitExceededError, IOFailure, InternalError)}


def _make(code, message, errno=0):
    """Builds the exception for a knast::Error (called by the extension module)."""
    cls = _BY_CODE.get(code, InternalError)
    return cls(message, errno)


__all__ = ["Error"] + sorted(cls.__name__ for cls in _BY_CODE.values())
