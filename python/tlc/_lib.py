"""ctypes declarations of libtlc_runtime.so's C ABI
(runtime/include/tlc/runtime/tlc_runtime.h; docs/runtime.md section 4).

The library is found, in this order, at ``$TLC_RUNTIME_LIB``, in the
package's ``_native/`` folder (``pip install``), or in ``build/lib`` of the
source tree this package sits in. It opens the CUDA driver lazily, so it
loads (and parses metadata, checks arguments) on machines without a GPU.
"""

import ctypes as C
import os
import threading
from pathlib import Path

from .errors import LibraryNotFoundError, error_class

_PACKAGE_DIR = Path(__file__).resolve().parent
NATIVE_DIR = _PACKAGE_DIR / "_native"
# python/tlc/_lib.py -> the repository root (when used from a source tree).
REPO_ROOT = _PACKAGE_DIR.parent.parent
LIB_NAME = "libtlc_runtime.so"

# tlc_dtype
DTYPE_BF16 = 0
DTYPE_F16 = 1
DTYPE_F32 = 2
DTYPE_F64 = 3
DTYPE_I8 = 4
DTYPE_I32 = 5
DTYPE_I64 = 6
DTYPE_BOOL = 7
# The metadata's names of the codes above.
DTYPE_NAMES = ("bf16", "f16", "f32", "f64", "i8", "i32", "i64", "bool")
DTYPE_CODES = {name: code for code, name in enumerate(DTYPE_NAMES)}
DTYPE_SIZES = (2, 2, 4, 8, 1, 4, 8, 1)

# tlc_arg_kind
ARG_TENSOR = 0
ARG_SCALAR = 1

MAX_RANK = 8


class Scalar(C.Union):
    _fields_ = [("i32", C.c_int32), ("i64", C.c_int64), ("f32", C.c_float)]


class Arg(C.Structure):
    """tlc_arg: 160 bytes."""

    _fields_ = [
        ("kind", C.c_int32),
        ("dtype", C.c_int32),
        ("rank", C.c_int32),
        ("reserved", C.c_int32),
        ("data", C.c_void_p),
        ("shape", C.c_int64 * MAX_RANK),
        ("strides", C.c_int64 * MAX_RANK),
        ("scalar", Scalar),
    ]


assert C.sizeof(Arg) == 160 and Arg.data.offset == 16
assert Arg.shape.offset == 24 and Arg.strides.offset == 88
assert Arg.scalar.offset == 152


# The leading fields of both GDN argument structs (tlc_runtime.h).
_GDN_INPUTS = [(name, Arg) for name in (
    "q", "k", "v", "g", "beta", "initial_state", "cu_seqlens",
    "chunk_indices", "chunk_offsets")]


class GdnForwardArgs(C.Structure):
    """tlc_gdn_forward_args."""

    _fields_ = _GDN_INPUTS + [
        ("o", Arg),
        ("final_state", Arg),
        ("workspace", C.c_void_p),
        ("workspace_bytes", C.c_size_t),
        ("scale", C.c_float),
        ("segment_offsets", Arg),
        ("sequence_segments", Arg),
    ]


class GdnBackwardArgs(C.Structure):
    """tlc_gdn_backward_args."""

    _fields_ = _GDN_INPUTS + [
        ("d_o", Arg),
        ("d_final_state", Arg),
        ("dq", Arg),
        ("dk", Arg),
        ("dv", Arg),
        ("dg", Arg),
        ("dbeta", Arg),
        ("dh0", Arg),
        ("workspace", C.c_void_p),
        ("workspace_bytes", C.c_size_t),
        ("scale", C.c_float),
    ]


_lock = threading.Lock()
_lib = None
_lib_path = None


def _candidates():
    env = os.environ.get("TLC_RUNTIME_LIB")
    if env:
        # An explicit choice is the only candidate: never fall back silently.
        return [Path(env)]
    return [NATIVE_DIR / LIB_NAME, REPO_ROOT / "build" / "lib" / LIB_NAME]


def _declare(lib):
    P = C.POINTER
    status = C.c_int
    handle = C.c_void_p
    decls = {
        "tlc_init": (status, [C.c_int]),
        "tlc_module_load_files": (status, [C.c_char_p, C.c_char_p, P(handle)]),
        "tlc_module_load_data": (
            status, [C.c_void_p, C.c_size_t, C.c_char_p, P(handle)]),
        "tlc_module_free": (None, [handle]),
        "tlc_module_kernel": (status, [handle, P(handle)]),
        "tlc_kernel_launch": (status, [handle, C.c_void_p, P(Arg), C.c_int]),
        "tlc_kernel_get_info": (handle, [handle]),
        "tlc_kernel_info_parse": (status, [C.c_char_p, P(handle)]),
        "tlc_check_args": (
            status, [handle, P(Arg), C.c_int, P(C.c_uint32)]),
        "tlc_kernel_info_free": (None, [handle]),
        "tlc_last_error": (C.c_char_p, []),
        "tlc_gdn_workspace_bytes": (
            status, [P(GdnForwardArgs), P(C.c_size_t)]),
        "tlc_gdn_forward": (
            status, [C.c_char_p, C.c_void_p, P(GdnForwardArgs)]),
        "tlc_gdn_backward_workspace_bytes": (
            status, [P(GdnBackwardArgs), P(C.c_size_t)]),
        "tlc_gdn_backward": (
            status, [C.c_char_p, C.c_void_p, P(GdnBackwardArgs)]),
        "tlc_gdn_forward_check_kernels": (
            status, [C.c_char_p, P(GdnForwardArgs)]),
        "tlc_gdn_backward_check_kernels": (
            status, [C.c_char_p, P(GdnBackwardArgs)]),
        "tlc_gdn_plan_chunks": (
            status, [P(C.c_int32), C.c_int64, C.c_int64, P(C.c_int32),
                     C.c_int64, P(C.c_int32), P(C.c_int64)]),
        "tlc_gdn_plan_segments": (
            status, [P(C.c_int32), C.c_int64, C.c_int64, C.c_int64, C.c_int,
                     C.c_int, C.c_int64, P(C.c_int32), C.c_int64,
                     P(C.c_int32), P(C.c_int64)]),
    }
    for name, (restype, argtypes) in decls.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def lib():
    """The loaded library (loaded on first use)."""
    global _lib, _lib_path
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        tried = []
        for path in _candidates():
            if not path.is_file():
                tried.append(f"{path} (missing)")
                continue
            try:
                handle = C.CDLL(str(path))
                _declare(handle)
            except (OSError, AttributeError) as e:
                tried.append(f"{path} ({e})")
                continue
            _lib_path = path
            _lib = handle
            return _lib
        raise LibraryNotFoundError(
            "tlc: cannot find libtlc_runtime.so (build the project with "
            "tools/dev/setup.sh, or set TLC_RUNTIME_LIB); tried: "
            + "; ".join(tried))


def lib_path():
    """Where the loaded library came from."""
    lib()
    return _lib_path


def last_error():
    message = lib().tlc_last_error()
    return message.decode("utf-8", "replace") if message else ""


def check(status):
    """Raises the tlc error for a non-zero tlc_status."""
    if status:
        raise error_class(status)(last_error() or f"tlc: error {status}")
