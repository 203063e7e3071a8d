"""Loading, checking, launching and compiling tlc kernels.

A kernel is ``NAME.ptx`` (one entry, ``NAME``) plus ``NAME.json`` (metadata,
schema ``tlc.kernel/1``, docs/runtime.md). :func:`load` parses the metadata
on the host (no GPU needed: :meth:`Kernel.check` validates arguments
anywhere); the PTX is loaded into a device's CUDA context at the first launch
on that device.
"""

import contextlib
import ctypes as C
import hashlib
import json
import numbers
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from . import _lib
from .errors import ArgumentError, CompileError, NotFoundError

__all__ = ["Kernel", "Module", "Param", "load", "compile", "compile_to_files",
           "CompileResult", "kernels_dir", "dtype_code"]

# ---------------------------------------------------------------------------
# torch, optional

_torch_module = None
_torch_checked = False


def get_torch():
    """torch if it can be imported, else None (imported on first use)."""
    global _torch_module, _torch_checked
    if not _torch_checked:
        try:
            import torch  # noqa: PLC0415
            _torch_module = torch
        except ImportError:
            _torch_module = None
        _torch_checked = True
    return _torch_module


# ---------------------------------------------------------------------------
# dtypes

_DTYPE_ALIASES = {
    "bfloat16": "bf16", "float16": "f16", "half": "f16", "float32": "f32",
    "float": "f32", "float64": "f64", "double": "f64", "int8": "i8",
    "int32": "i32", "int": "i32", "int64": "i64", "long": "i64",
    "bool": "bool",
}


def dtype_code(dtype):
    """The TLC_DTYPE_* code of a torch dtype (by name, ``str(dtype)``, e.g.
    'torch.bfloat16'), or of a tlc dtype name ('bf16'); None if unsupported."""
    name = str(dtype)
    if name.startswith("torch."):
        name = name[len("torch."):]
    name = _DTYPE_ALIASES.get(name, name)
    return _lib.DTYPE_CODES.get(name)


def dtype_name(dtype):
    """The tlc name ('bf16', ...) of a torch dtype, or None."""
    code = dtype_code(dtype)
    return None if code is None else _lib.DTYPE_NAMES[code]


# ---------------------------------------------------------------------------
# CUDA context and stream

_tls = threading.local()


def _init_device(index):
    """tlc_init(index) once per thread and device: makes the device's primary
    context (the one PyTorch uses) current on this thread."""
    done = getattr(_tls, "devices", None)
    if done is None:
        done = _tls.devices = set()
    if index not in done:
        _lib.check(_lib.lib().tlc_init(index))
        done.add(index)
        _tls.current = index


_NO_GUARD = contextlib.nullcontext


def _cuda_available(torch):
    try:
        return bool(torch.cuda.is_available())
    except Exception:  # a torch without CUDA support
        return False


def _current_device(torch):
    """torch's current CUDA device, or 0 without torch or CUDA."""
    if torch is None or not _cuda_available(torch):
        return 0
    return torch.cuda.current_device()


def device_guard(index):
    """A context manager that makes device ``index``'s primary context current
    for a launch. With torch, it follows torch's current device (and switches
    with torch.cuda.device when the tensors live elsewhere); without torch,
    it calls tlc_init when the device changes."""
    if index is None:
        index = 0
    torch = get_torch()
    if torch is None or not _cuda_available(torch):
        # Without torch's CUDA (no torch, or a build or machine without it)
        # tlc's own init reports the driver problem (a DriverError).
        if getattr(_tls, "current", None) != index:
            _lib.check(_lib.lib().tlc_init(index))
            _tls.current = index
        return _NO_GUARD()
    if torch.cuda.current_device() == index:
        _init_device(index)
        return _NO_GUARD()
    return _switched(torch, index)


@contextlib.contextmanager
def _switched(torch, index):
    with torch.cuda.device(index):
        _init_device(index)
        # tlc_init ran once per thread; later switches rely on torch's guard
        # (cudaSetDevice makes the primary context current).
        yield


def stream_handle(stream, device_index):
    """A CUstream (as an int) for `stream`: None means torch's current stream
    on the device (0, the legacy default stream, without torch); an int is a
    CUstream; an object with ``cuda_stream`` (torch.cuda.Stream) gives its
    handle."""
    if stream is None:
        torch = get_torch()
        if torch is None:
            return 0
        return torch.cuda.current_stream(device_index).cuda_stream
    if isinstance(stream, int):
        return stream
    handle = getattr(stream, "cuda_stream", None)
    if handle is None:
        raise ArgumentError(
            f"tlc: stream must be None, an int (CUstream) or an object with "
            f"'cuda_stream' (torch.cuda.Stream), got {type(stream).__name__}")
    return int(handle)


# ---------------------------------------------------------------------------
# Arguments

def _is_tensor(x):
    return hasattr(x, "data_ptr") and hasattr(x, "shape")


def device_index(t):
    """The CUDA device index of a tensor (None if unknown)."""
    device = getattr(t, "device", None)
    return getattr(device, "index", None) if device is not None else None


def fill_tensor_arg(arg, t, where):
    """Fills a tlc_arg from a tensor-like `t`; `where` starts error messages
    ("tlc: kernel 'k': argument 'x' (param 0)")."""
    code = dtype_code(t.dtype)
    if code is None:
        raise ArgumentError(
            f"{where}: unsupported dtype {t.dtype} (tlc supports "
            f"{', '.join(_lib.DTYPE_NAMES)})")
    if getattr(t, "is_cuda", True) is False:
        device = getattr(t, "device", "cpu")
        raise ArgumentError(
            f"{where}: is on the CPU (device {device}); tlc kernels need "
            f"CUDA tensors (move it with .cuda())")
    shape = tuple(int(s) for s in t.shape)
    if len(shape) > _lib.MAX_RANK:
        raise ArgumentError(
            f"{where}: rank {len(shape)} is above the limit {_lib.MAX_RANK}")
    strides = tuple(int(s) for s in t.stride())
    arg.kind = _lib.ARG_TENSOR
    arg.dtype = code
    arg.rank = len(shape)
    arg.data = int(t.data_ptr()) or None
    for d, (size, stride) in enumerate(zip(shape, strides)):
        arg.shape[d] = size
        arg.strides[d] = stride
    return arg


def _fill_scalar_arg(arg, value, dtype, where):
    """A Python number as a scalar of the parameter's dtype."""
    if isinstance(value, numbers.Integral):
        value = int(value)
        if dtype == "f32":
            arg.kind, arg.dtype = _lib.ARG_SCALAR, _lib.DTYPE_F32
            arg.scalar.f32 = float(value)
            return
        if dtype not in ("i32", "i64"):
            # A tensor parameter: let the runtime report the kind mismatch.
            dtype = "i64"
        bits = 32 if dtype == "i32" else 64
        if not -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
            raise ArgumentError(
                f"{where}: {value} does not fit in a scalar {dtype}")
        arg.kind = _lib.ARG_SCALAR
        if dtype == "i32":
            arg.dtype = _lib.DTYPE_I32
            arg.scalar.i32 = value
        else:
            arg.dtype = _lib.DTYPE_I64
            arg.scalar.i64 = value
        return
    if isinstance(value, numbers.Real):
        if dtype in ("i32", "i64"):
            raise ArgumentError(
                f"{where}: expected an integer for a scalar {dtype}, got "
                f"{type(value).__name__} {value!r}")
        arg.kind, arg.dtype = _lib.ARG_SCALAR, _lib.DTYPE_F32
        arg.scalar.f32 = float(value)
        return
    raise ArgumentError(
        f"{where}: expected a tensor or a number, got {type(value).__name__}")


class Param:
    """One kernel parameter, from the metadata."""

    __slots__ = ("name", "kind", "dtype", "rank", "dims", "alignment")

    def __init__(self, entry):
        self.name = entry.get("name")
        self.kind = entry.get("kind")
        self.dtype = entry.get("dtype")
        self.rank = entry.get("rank")
        self.dims = tuple(entry.get("dims", ()))
        self.alignment = entry.get("alignment")

    def signature(self):
        """``A: Tensor[(M, K), bf16]`` or ``n: i32``."""
        if self.kind == "tensor":
            return (f"{self.name}: Tensor[({', '.join(self.dims)}), "
                    f"{self.dtype}]")
        return f"{self.name}: {self.dtype}"

    def __repr__(self):
        return f"Param({self.signature()})"


class Module:
    """A loaded module (tlc_module) and its kernel, in one CUDA context.
    Modules stay loaded for the life of the process."""

    __slots__ = ("handle", "kernel", "device")

    def __init__(self, ptx_path, json_path, device):
        lib = _lib.lib()
        module = C.c_void_p()
        _lib.check(lib.tlc_module_load_files(
            os.fsencode(ptx_path), os.fsencode(json_path), C.byref(module)))
        kernel = C.c_void_p()
        status = lib.tlc_module_kernel(module, C.byref(kernel))
        if status:
            message = _lib.last_error()
            lib.tlc_module_free(module)
            raise _lib.error_class(status)(message)
        self.handle = module
        self.kernel = kernel
        self.device = device


class Kernel:
    """A compiled kernel: metadata parsed on the host, modules per device.

    ``kernel(*args, stream=None)`` launches it: arguments in parameter order;
    tensors are objects with ``data_ptr()``, ``shape``, ``stride()`` and
    ``dtype`` (torch.Tensor); Python numbers become scalars of the parameter's
    dtype. Launches are asynchronous (no host synchronisation) and can be
    captured in CUDA graphs.
    """

    def __init__(self, ptx_path, json_path, metadata_text=None):
        self.ptx_path = str(ptx_path)
        self.json_path = str(json_path)
        if metadata_text is None:
            metadata_text = Path(json_path).read_text()
        lib = _lib.lib()
        info = C.c_void_p()
        _lib.check(lib.tlc_kernel_info_parse(
            metadata_text.encode("utf-8"), C.byref(info)))
        self._info = info
        self._free = lib.tlc_kernel_info_free
        self.metadata = json.loads(metadata_text)
        self.name = self.metadata["name"]
        self.params = tuple(Param(p) for p in self.metadata["params"])
        self.constants = dict(self.metadata.get("constants", {}))
        self._modules = {}
        self._lock = threading.Lock()

    def __del__(self):
        info, free = getattr(self, "_info", None), getattr(self, "_free", None)
        if info and free is not None:
            try:
                free(info)
            except Exception:  # interpreter shutdown
                pass
            self._info = None

    def __repr__(self):
        params = ", ".join(p.signature() for p in self.params)
        return f"<tlc.Kernel {self.name}({params}) from {self.ptx_path}>"

    @property
    def threads(self):
        return self.metadata.get("threads")

    def _where(self, i):
        if i < len(self.params):
            return (f"tlc: kernel '{self.name}': argument "
                    f"'{self.params[i].name}' (param {i})")
        return f"tlc: kernel '{self.name}': argument {i}"

    def _pack(self, args):
        """The tlc_arg array for `args`, and the tensors' device index."""
        n = len(args)
        array = (_lib.Arg * max(n, 1))()
        if n != len(self.params):
            # The runtime checks the count first and names the parameters.
            return array, n, None
        device, first = None, None
        for i, (value, param) in enumerate(zip(args, self.params)):
            where = self._where(i)
            if _is_tensor(value):
                fill_tensor_arg(array[i], value, where)
                index = device_index(value)
                if index is not None:
                    if device is None:
                        device, first = index, i
                    elif index != device:
                        raise ArgumentError(
                            f"{where}: is on cuda:{index}, but argument "
                            f"'{self.params[first].name}' (param {first}) is "
                            f"on cuda:{device}")
            else:
                _fill_scalar_arg(array[i], value,
                                 param.dtype if param.kind == "scalar" else None,
                                 where)
        return array, n, device

    def check(self, *args):
        """Validates `args` exactly as a launch does, without a GPU, and
        returns the launch grid (x, y, z)."""
        array, n, _ = self._pack(args)
        grid = (C.c_uint32 * 3)()
        _lib.check(_lib.lib().tlc_check_args(self._info, array, n, grid))
        return tuple(grid)

    def module(self, device=None):
        """The Module of this kernel in `device`'s context (loaded once)."""
        if device is None:
            torch = get_torch()
            device = _current_device(torch)
        module = self._modules.get(device)
        if module is None:
            with self._lock:
                module = self._modules.get(device)
                if module is None:
                    with device_guard(device):
                        module = Module(self.ptx_path, self.json_path, device)
                    self._modules[device] = module
        return module

    def __call__(self, *args, stream=None):
        array, n, device = self._pack(args)
        if device is None:
            torch = get_torch()
            device = _current_device(torch)
        module = self.module(device)
        with device_guard(device):
            handle = stream_handle(stream, device)
            _lib.check(_lib.lib().tlc_kernel_launch(
                module.kernel, C.c_void_p(handle), array, n))


# ---------------------------------------------------------------------------
# Loading

_cache = {}
_cache_lock = threading.Lock()


def load(ptx_path, json_path=None):
    """The Kernel of ``NAME.ptx`` and its metadata (default: the sibling
    ``NAME.json``). Kernels are cached by path (and file times), so loading
    the same files again returns the same object."""
    ptx = Path(ptx_path)
    meta = Path(json_path) if json_path is not None else ptx.with_suffix(".json")
    for path, what in ((ptx, "PTX"), (meta, "metadata")):
        if not path.is_file():
            raise NotFoundError(f"tlc: cannot find the kernel's {what} file "
                                f"'{path}'")
    ptx, meta = ptx.resolve(), meta.resolve()
    key = (str(ptx), str(meta), ptx.stat().st_mtime_ns, meta.stat().st_mtime_ns)
    kernel = _cache.get(key)
    if kernel is None:
        with _cache_lock:
            kernel = _cache.get(key)
            if kernel is None:
                kernel = Kernel(ptx, meta)
                _cache[key] = kernel
    return kernel


def kernels_dir():
    """The folder of the prebuilt kernels (``<variant>/NAME.ptx``, ``gdn/``):
    ``$TLC_KERNELS``, the package's ``_native/kernels``, or
    ``build/gpu-kernels`` of the source tree."""
    env = os.environ.get("TLC_KERNELS")
    if env:
        return Path(env)
    for path in (_lib.NATIVE_DIR / "kernels",
                 _lib.REPO_ROOT / "build" / "gpu-kernels"):
        if path.is_dir():
            return path
    raise NotFoundError(
        "tlc: cannot find the prebuilt kernels (build the project with "
        "tools/dev/setup.sh, install the package, or set TLC_KERNELS)")


# ---------------------------------------------------------------------------
# Compiling through the tlc CLI and its on-disk JIT cache

class CompileResult:
    """What :func:`compile_to_files` produced."""

    __slots__ = ("ptx_path", "json_path", "cache_hit", "log", "remarks")

    def __init__(self, ptx_path, json_path, cache_hit, log, remarks=""):
        self.ptx_path = ptx_path
        self.json_path = json_path
        self.cache_hit = cache_hit
        self.log = log
        # With remarks=True: where code generation did not use a faster
        # form, and why (one "file.tl:L:C: remark: ..." diagnostic each).
        self.remarks = remarks

    def __repr__(self):
        return (f"CompileResult({self.ptx_path}, cache "
                f"{'hit' if self.cache_hit else 'miss'})")


def find_compiler():
    """The tlc CLI: ``$TLC_COMPILER``, ``tlc`` on PATH, or build/bin/tlc."""
    env = os.environ.get("TLC_COMPILER")
    if env:
        if not Path(env).is_file():
            raise NotFoundError(f"tlc: TLC_COMPILER names '{env}', which does "
                                "not exist")
        return env
    on_path = shutil.which("tlc")
    if on_path:
        return on_path
    built = _lib.REPO_ROOT / "build" / "bin" / "tlc"
    if built.is_file():
        return str(built)
    raise NotFoundError(
        "tlc: cannot find the tlc compiler (build the project with "
        "tools/dev/setup.sh, put tlc on PATH, or set TLC_COMPILER)")


def default_cache_dir():
    env = os.environ.get("TLC_CACHE_DIR")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "tlc"


def _constant_text(value):
    if isinstance(value, bool):
        return "True" if value else "False"
    name = dtype_name(value) if str(value).startswith("torch.") else None
    return name if name is not None else str(value)


_KERNEL_DECL = re.compile(r"^\s*kernel\s+([A-Za-z_][A-Za-z0-9_]*)", re.M)
_CACHE_LINE = re.compile(r"^cache (hit|miss): (.+)$", re.M)


def _source_file(source_or_path, cache_dir):
    """(path of the .tl file, its text)."""
    if isinstance(source_or_path, os.PathLike):
        path = Path(source_or_path)
        if not path.is_file():
            raise NotFoundError(f"tlc: cannot find the source file '{path}'")
        return path, path.read_text()
    text = str(source_or_path)
    if "\n" not in text and (text.endswith(".tl") or Path(text).is_file()):
        path = Path(text)
        if not path.is_file():
            raise NotFoundError(f"tlc: cannot find the source file '{path}'")
        return path, path.read_text()
    # Source text: write it where the compiler can read it (content-named,
    # so diagnostics point at a stable file).
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    folder = Path(cache_dir) / "sources"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"source-{digest}.tl"
    if not path.is_file():
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tl.tmp")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    return path, text


def compile_to_files(source_or_path, kernel=None, *, cache_dir=None,
                     arch=None, remarks=False, **constants):
    """Compiles one kernel with ``tlc --jit-cache`` and returns the cached
    PTX/metadata paths and whether the cache was hit. `source_or_path` is a
    .tl file (path) or source text; `constants` become ``-D NAME=VALUE``.
    With `remarks`, the result's ``remarks`` holds the code generator's
    remarks (also on a cache hit)."""
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    path, text = _source_file(source_or_path, cache_dir)
    if kernel is None:
        names = _KERNEL_DECL.findall(text)
        if len(names) != 1:
            found = f"kernels {', '.join(names)}" if names else "no kernel"
            raise ArgumentError(
                f"tlc: compile: {path} declares {found}; pass kernel=NAME")
        kernel = names[0]
    command = [find_compiler(), str(path), "--kernel", str(kernel)]
    for name, value in constants.items():
        command += ["-D", f"{name}={_constant_text(value)}"]
    if arch is not None:
        command.append(f"--arch={arch}")
    if remarks:
        command.append("--remarks")
    out_dir = tempfile.mkdtemp(prefix="out-", dir=cache_dir)
    try:
        command += ["--jit-cache", str(cache_dir), "-o", out_dir]
        done = subprocess.run(command, capture_output=True, text=True)
        log = (done.stdout + done.stderr).strip()
        if done.returncode != 0:
            diagnostics = done.stderr.strip() or done.stdout.strip()
            raise CompileError(
                f"tlc: compiling kernel '{kernel}' from {path} failed:\n"
                f"{diagnostics}", diagnostics)
        match = _CACHE_LINE.search(done.stdout)
        if match:
            ptx = Path(match.group(2).strip())
            meta = ptx.with_suffix(".json")
            if ptx.is_file() and meta.is_file():
                return CompileResult(
                    str(ptx), str(meta), match.group(1) == "hit", log,
                    done.stderr.strip() if remarks else "")
        raise CompileError(
            f"tlc: the compiler did not report the cached kernel for "
            f"'{kernel}' (output: {log!r})", log)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


def compile(source_or_path, kernel=None, *, cache_dir=None, arch=None,  # noqa: A001
            remarks=False, **constants):
    """Compiles a kernel of a .tl file or source text through the tlc CLI and
    its on-disk JIT cache ($TLC_CACHE_DIR or ~/.cache/tlc), and loads it.
    ``constants`` override compile-time parameters (``BM=64``, ``DT="f16"``,
    ``USE_H0=True``). ``remarks=True`` prints to stderr every place where
    code generation did not use a faster form, and why. Raises
    tlc.CompileError with the diagnostics."""
    result = compile_to_files(source_or_path, kernel, cache_dir=cache_dir,
                              arch=arch, remarks=remarks, **constants)
    if result.remarks:
        print(result.remarks, file=sys.stderr)
    return load(result.ptx_path, result.json_path)
