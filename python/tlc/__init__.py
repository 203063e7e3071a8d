"""tlc: a tile-level GPU kernel compiler, from PyTorch.

    import tlc, tlc.ops
    o, ht = tlc.ops.chunk_gated_delta_rule(q, k, v, g, beta,
                                           output_final_state=True)
    gemm = tlc.compile("kernels/examples/gemm.tl", kernel="gemm", BM=64)
    gemm(a, b, c)

See docs/python.md. The C runtime (libtlc_runtime.so) is loaded on first use.
"""

from .errors import (ArgumentError, CompileError, DriverError, Error,
                     LibraryNotFoundError, NotFoundError, ParseError)
from .kernel import (CompileResult, Kernel, Module, Param, compile,
                     compile_to_files, dtype_code, kernels_dir, load)
from . import ops  # noqa: E402
from . import _lib

try:  # an installed package: written by its build (setup.py)
    from ._version import __version__
except ImportError:  # the source tree: the project's one version
    import re as _re
    try:
        __version__ = _re.search(
            r"project\(tlc VERSION (\S+)",
            (_lib.REPO_ROOT / "CMakeLists.txt").read_text()).group(1)
    except (OSError, AttributeError):
        __version__ = "0+unknown"

__all__ = [
    "Error", "ArgumentError", "DriverError", "NotFoundError", "ParseError",
    "CompileError", "LibraryNotFoundError",
    "Kernel", "Module", "Param", "load", "compile", "compile_to_files",
    "CompileResult", "kernels_dir", "dtype_code", "ops", "library_path",
]


def library_path():
    """The path of the loaded libtlc_runtime.so (loads it if needed)."""
    from . import _lib
    return str(_lib.lib_path())
