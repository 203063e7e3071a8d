"""Exceptions raised by tlc.

Every failure of the C runtime carries a status code and a message (from
``tlc_last_error``); :func:`raise_for_status` turns them into one of these.
"""

__all__ = [
    "Error",
    "ArgumentError",
    "DriverError",
    "NotFoundError",
    "ParseError",
    "CompileError",
    "LibraryNotFoundError",
]


class Error(Exception):
    """Base class of every tlc error."""


class ArgumentError(Error, ValueError):
    """Invalid arguments (TLC_ERROR_INVALID_ARGUMENT): a wrong dtype, rank or
    size, a misaligned or CPU tensor, a wrong number of arguments, or metadata
    that does not match the PTX. The message names the parameter and shows
    what was expected and what was given."""


class DriverError(Error, RuntimeError):
    """No CUDA driver or device, or a failed driver call (TLC_ERROR_DRIVER)."""


class NotFoundError(Error, FileNotFoundError):
    """A file (PTX, metadata, kernel folder, compiler), or the kernel entry
    in a module (TLC_ERROR_NOT_FOUND)."""


class ParseError(Error, ValueError):
    """Malformed kernel metadata (TLC_ERROR_PARSE)."""


class CompileError(Error):
    """The tlc compiler rejected a kernel. ``diagnostics`` holds its output
    (``file:line:col: error: ...`` lines)."""

    def __init__(self, message, diagnostics=""):
        super().__init__(message)
        self.diagnostics = diagnostics


class LibraryNotFoundError(Error, ImportError):
    """libtlc_runtime.so could not be found or loaded."""


# tlc_status codes (runtime/include/tlc/runtime/tlc_runtime.h).
TLC_OK = 0
TLC_ERROR_INVALID_ARGUMENT = 1
TLC_ERROR_DRIVER = 2
TLC_ERROR_NOT_FOUND = 3
TLC_ERROR_PARSE = 4

_BY_STATUS = {
    TLC_ERROR_INVALID_ARGUMENT: ArgumentError,
    TLC_ERROR_DRIVER: DriverError,
    TLC_ERROR_NOT_FOUND: NotFoundError,
    TLC_ERROR_PARSE: ParseError,
}


def error_class(status):
    """The exception class for a non-zero tlc_status."""
    return _BY_STATUS.get(int(status), Error)
