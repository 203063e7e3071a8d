"""CPU tests of the tlc Python package: no GPU and no torch needed.

Tensors are duck-typed fakes (data_ptr(), shape, stride(), dtype, is_cuda):
the runtime only validates them (tlc_check_args), it never dereferences the
pointers. Run: bash tools/dev/python-tests.sh
"""

import contextlib
import ctypes
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import tlc
import tlc.ops
from tlc import _lib

# The source tree (kernels to compile): this file's, or TLC_TEST_REPO when the
# tests run from a copy against an installed wheel (tests/install/wheel.sh).
REPO = Path(os.environ.get("TLC_TEST_REPO") or Path(__file__).resolve().parents[2])
PYTHON_DIR = REPO / "python"


# ---------------------------------------------------------------------------
# Fakes

class FakeDType:
    def __init__(self, name):
        self.name = name

    def __str__(self):
        return self.name

    def __eq__(self, other):
        return str(other) == self.name

    def __hash__(self):
        return hash(self.name)


class FakeDevice:
    def __init__(self, kind="cuda", index=0):
        self.type = kind
        self.index = index if kind == "cuda" else None

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        return str(self) == str(other)

    def __hash__(self):
        return hash(str(self))


def _row_major(shape):
    strides, acc = [], 1
    for size in reversed(shape):
        strides.append(acc)
        acc *= size
    return tuple(reversed(strides))


class FakeTensor:
    """Just enough of torch.Tensor for tlc's argument packing (and, with
    FakeTorch, for the GDN operator's host side)."""

    def __init__(self, shape, dtype="torch.bfloat16", ptr=0x7F0000000000,
                 strides=None, device="cuda", index=0, requires_grad=False,
                 values=None):
        self.shape = tuple(shape)
        self.dtype = dtype if isinstance(dtype, FakeDType) else FakeDType(dtype)
        self._ptr = ptr
        self._strides = tuple(strides) if strides is not None else \
            _row_major(self.shape)
        self.device = FakeDevice(device, index)
        self.is_cuda = device == "cuda"
        self.requires_grad = requires_grad
        self.values = values
        self._version = 0

    def data_ptr(self):
        return self._ptr

    def stride(self, dim=None):
        return self._strides if dim is None else self._strides[dim]

    def dim(self):
        return len(self.shape)

    def is_contiguous(self):
        return self._strides == _row_major(self.shape)

    def contiguous(self):
        if self.is_contiguous():
            return self
        return FakeTensor(self.shape, self.dtype, FakeTorch.allocate(self),
                          device=self.device.type, index=self.device.index)

    def float(self):
        return FakeTensor(self.shape, "torch.float32", FakeTorch.allocate(self),
                          device=self.device.type, index=self.device.index)

    def tolist(self):
        return list(self.values)

    def view(self, *shape):
        if shape == (-1, 2):
            shape = (len(self.values) // 2, 2)
        t = FakeTensor(shape, self.dtype, self._ptr, device=self.device.type,
                       index=self.device.index, values=self.values)
        return t


class _FakeStream:
    cuda_stream = 0


class _FakeCuda:
    def __init__(self):
        self.capturing = False

    def is_available(self):
        return True

    def current_device(self):
        return 0

    def current_stream(self, device=None):
        return _FakeStream()

    def is_current_stream_capturing(self):
        return self.capturing

    def device(self, index):
        return contextlib.nullcontext()

    def get_device_properties(self, index):
        return types.SimpleNamespace(multi_processor_count=132)


class FakeTorch:
    """A stand-in for the torch module, for the GDN operator's host side:
    allocations are distinct, aligned fake device addresses (never
    dereferenced: the tests stop before the launch)."""

    bfloat16 = FakeDType("torch.bfloat16")
    float16 = FakeDType("torch.float16")
    float32 = FakeDType("torch.float32")
    int32 = FakeDType("torch.int32")
    int64 = FakeDType("torch.int64")
    uint8 = FakeDType("torch.uint8")
    _next = 0x7E0000000000

    def __init__(self):
        self.cuda = _FakeCuda()
        self.empty_calls = []
        self.uploads = []

    @classmethod
    def allocate(cls, _what=None):
        ptr = cls._next
        cls._next += 1 << 32
        return ptr

    def is_grad_enabled(self):
        return True

    def tensor(self, values, dtype, device):
        values = list(values)
        self.uploads.append(values)
        return FakeTensor((len(values),), dtype, self.allocate(),
                          device=device.type, index=device.index,
                          values=values)

    def empty(self, shape, dtype, device):
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        self.empty_calls.append((shape, str(dtype)))
        return FakeTensor(shape, dtype, self.allocate(), device=device.type,
                          index=device.index)


def bf16(*shape, **kw):
    return FakeTensor(shape, "torch.bfloat16", **kw)


def f32(*shape, **kw):
    return FakeTensor(shape, "torch.float32", **kw)


def kernel_file(variant, name):
    """build/gpu-kernels/<variant>/<name>.ptx, or skip with the reason."""
    try:
        folder = tlc.kernels_dir()
    except tlc.NotFoundError as e:
        pytest.skip(f"no prebuilt kernels: {e}")
    ptx = folder / variant / f"{name}.ptx"
    if not ptx.is_file() or not ptx.with_suffix(".json").is_file():
        pytest.skip(f"{ptx} (and its .json) not built: run tools/dev/setup.sh")
    return ptx


@pytest.fixture
def axpy():
    return tlc.load(kernel_file("elementwise", "axpy"))


SCALE_META = {
    "schema": "tlc.kernel/1", "name": "scale", "arch": "sm_90a",
    "threads": 128, "dynamic_shared_bytes": 0,
    "params": [
        {"name": "x", "kind": "tensor", "dtype": "f32", "rank": 2,
         "dims": ["N", "4"], "alignment": 16},
        {"name": "n", "kind": "scalar", "dtype": "i32"},
        {"name": "m", "kind": "scalar", "dtype": "i64"},
        {"name": "a", "kind": "scalar", "dtype": "f32"},
    ],
    "grid": [{"op": "ceildiv", "args": [{"scalar": "n"}, {"const": 128}]},
             {"dim": "N"}, {"const": 1}],
    "constants": {"BLOCK": 128},
}


@pytest.fixture
def scale_kernel(tmp_path):
    """A synthetic kernel (metadata only; the PTX is never loaded)."""
    (tmp_path / "scale.ptx").write_text("// never loaded by these tests\n")
    (tmp_path / "scale.json").write_text(json.dumps(SCALE_META))
    return tlc.load(tmp_path / "scale.ptx")


def raises_argument_error(kernel, *args, match):
    with pytest.raises(tlc.ArgumentError) as info:
        kernel.check(*args)
    message = str(info.value)
    assert re.search(match, message), message
    return message


# ---------------------------------------------------------------------------
# The library

def test_library_loads():
    lib = _lib.lib()
    assert isinstance(lib, ctypes.CDLL)
    assert Path(tlc.library_path()).is_file()
    assert isinstance(_lib.last_error(), str)
    assert ctypes.sizeof(_lib.Arg) == 160


def test_missing_library_message(tmp_path):
    missing = tmp_path / "nowhere" / "libtlc_runtime.so"
    code = ("import tlc\n"
            "try:\n"
            "    tlc.library_path()\n"
            "except ImportError as e:\n"
            "    assert isinstance(e, tlc.Error)\n"
            "    print(e)\n")
    env = dict(os.environ, TLC_RUNTIME_LIB=str(missing),
               PYTHONPATH=str(PYTHON_DIR))
    done = subprocess.run([sys.executable, "-c", code], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        "tlc: cannot find libtlc_runtime.so (build the project with "
        "tools/dev/setup.sh, or set TLC_RUNTIME_LIB)"), done.stdout
    assert str(missing) in done.stdout


def test_dtype_codes():
    assert tlc.dtype_code("torch.bfloat16") == _lib.DTYPE_BF16
    assert tlc.dtype_code("torch.float16") == _lib.DTYPE_F16
    assert tlc.dtype_code("torch.float32") == _lib.DTYPE_F32
    assert tlc.dtype_code("torch.float64") == _lib.DTYPE_F64
    assert tlc.dtype_code("torch.int8") == _lib.DTYPE_I8
    assert tlc.dtype_code("torch.int32") == _lib.DTYPE_I32
    assert tlc.dtype_code("torch.int64") == _lib.DTYPE_I64
    assert tlc.dtype_code("torch.bool") == _lib.DTYPE_BOOL
    assert tlc.dtype_code("bf16") == _lib.DTYPE_BF16
    assert tlc.dtype_code("torch.uint8") is None
    assert tlc.dtype_code("torch.complex64") is None


# ---------------------------------------------------------------------------
# Metadata (tlc_kernel_info_parse) and Kernel.check (tlc_check_args)

def test_metadata_of_axpy(axpy):
    assert axpy.name == "axpy"
    assert [p.name for p in axpy.params] == ["X", "Y", "Out", "alpha"]
    assert [p.kind for p in axpy.params] == ["tensor"] * 3 + ["scalar"]
    assert axpy.params[0].dtype == "bf16" and axpy.params[0].rank == 2
    assert axpy.params[0].dims == ("M", "N")
    assert axpy.params[3].dtype == "f32"
    assert axpy.threads == axpy.metadata["threads"] > 0
    assert "axpy(X: Tensor[(M, N), bf16]" in repr(axpy)


def test_load_is_cached_by_path(axpy):
    again = tlc.load(str(Path(axpy.ptx_path)), axpy.json_path)
    assert again is axpy


def test_check_returns_the_grid(axpy):
    x = bf16(100, 300)
    m, n = 100, 300
    bm, bn = axpy.constants["BM"], axpy.constants["BN"]
    grid = axpy.check(x, bf16(100, 300), bf16(100, 300), 1.5)
    assert grid == (-(-n // bn), -(-m // bm), 1)
    # An int for an f32 scalar is fine; strided (transposed) tensors too.
    t = bf16(100, 300, strides=(1, 100))
    assert axpy.check(t, x, x, 2) == grid


def test_wrong_dtype(axpy):
    x = bf16(64, 64)
    raises_argument_error(
        axpy, x, x, f32(64, 64), 1.0,
        match=r"^tlc: kernel 'axpy': argument 'Out' \(param 2\): expected "
              r"dtype bf16, got f32$")


def test_wrong_rank(axpy):
    x = bf16(64, 64)
    raises_argument_error(
        axpy, bf16(4, 64, 64), x, x, 1.0,
        match=r"argument 'X' \(param 0\): expected rank 2, got 3 "
              r"\(shape \[4, 64, 64\]\)")


def test_inconsistent_dims(axpy):
    x = bf16(64, 128)
    raises_argument_error(
        axpy, x, bf16(64, 129), x, 1.0,
        match=r"argument 'Y' \(param 1\): dimension 1 is 'N' = 129, but "
              r"'N' = 128 from argument 'X' dimension 1")


def test_misaligned_pointer(axpy):
    x = bf16(64, 128)
    raises_argument_error(
        axpy, x, x, bf16(64, 128, ptr=0x7F0000000001), 1.0,
        match=r"argument 'Out' \(param 2\): data pointer 0x7f0000000001 is "
              r"not aligned to 2 bytes")


def test_null_pointer_of_a_non_empty_tensor(axpy):
    x = bf16(64, 128)
    raises_argument_error(
        axpy, bf16(64, 128, ptr=0), x, x, 1.0,
        match=r"argument 'X' \(param 0\): data pointer is null")


def test_wrong_argument_count(axpy):
    x = bf16(64, 64)
    raises_argument_error(
        axpy, x, x, x,
        match=r"^tlc: kernel 'axpy': expected 4 arguments "
              r"\(X, Y, Out, alpha\), got 3$")
    raises_argument_error(axpy, x, x, x, 1.0, 2.0,
                          match=r"expected 4 arguments .*, got 5")
    raises_argument_error(axpy, match=r"expected 4 arguments .*, got 0")


def test_cpu_tensor_rejected(axpy):
    x = bf16(64, 64)
    message = raises_argument_error(
        axpy, x, bf16(64, 64, device="cpu"), x, 1.0,
        match=r"^tlc: kernel 'axpy': argument 'Y' \(param 1\): is on the CPU")
    assert "CUDA" in message


def test_tensors_on_two_devices_rejected(axpy):
    x = bf16(64, 64)
    raises_argument_error(
        axpy, x, x, bf16(64, 64, index=1), 1.0,
        match=r"argument 'Out' \(param 2\): is on cuda:1, but argument 'X' "
              r"\(param 0\) is on cuda:0")


def test_unsupported_dtype(axpy):
    x = bf16(64, 64)
    raises_argument_error(
        axpy, FakeTensor((64, 64), "torch.uint8"), x, x, 1.0,
        match=r"argument 'X' \(param 0\): unsupported dtype torch.uint8")


def test_kind_mismatches(axpy):
    x = bf16(64, 64)
    raises_argument_error(
        axpy, x, x, x, x,
        match=r"argument 'alpha' \(param 3\): expected a scalar f32, got a "
              r"tensor")
    raises_argument_error(
        axpy, x, 3, x, 1.0,
        match=r"argument 'Y' \(param 1\): expected a tensor, got a scalar")
    raises_argument_error(
        axpy, x, x, x, "1.0",
        match=r"argument 'alpha' \(param 3\): expected a tensor or a number, "
              r"got str")


def test_scalars_are_typed_by_the_metadata(scale_kernel):
    x = f32(10, 4)
    assert scale_kernel.check(x, 1000, 5, 2.0) == (8, 10, 1)
    assert scale_kernel.check(x, True, 1 << 40, 3) == (1, 10, 1)
    raises_argument_error(
        scale_kernel, x, 1 << 31, 5, 2.0,
        match=r"argument 'n' \(param 1\): 2147483648 does not fit in a "
              r"scalar i32")
    raises_argument_error(
        scale_kernel, x, 10, 1 << 63, 2.0,
        match=r"argument 'm' \(param 2\): .* does not fit in a scalar i64")
    raises_argument_error(
        scale_kernel, x, 1.5, 5, 2.0,
        match=r"argument 'n' \(param 1\): expected an integer for a scalar "
              r"i32, got float 1.5")


def test_static_dims_and_grid_limits(scale_kernel):
    raises_argument_error(
        scale_kernel, f32(10, 5), 1, 1, 1.0,
        match=r"argument 'x' \(param 0\): dimension 1 must be 4, got 5")
    raises_argument_error(scale_kernel, f32(70000, 4), 1, 1, 1.0,
                          match=r"grid y = N is 70000, above the limit 65535")
    raises_argument_error(
        scale_kernel, f32(10, 4, ptr=0x7F0000000008), 1, 1, 1.0,
        match=r"argument 'x' \(param 0\): data pointer 0x7f0000000008 is "
              r"not aligned to 16 bytes")


def test_empty_grid(scale_kernel):
    assert scale_kernel.check(f32(0, 4, ptr=0), 0, 0, 0.0) == (0, 0, 1)


def test_malformed_metadata(tmp_path):
    meta = dict(SCALE_META)
    meta["params"] = [dict(SCALE_META["params"][0])]
    del meta["params"][0]["dtype"]
    (tmp_path / "bad.ptx").write_text("")
    (tmp_path / "bad.json").write_text(json.dumps(meta))
    with pytest.raises(tlc.ParseError, match=r"missing field 'params\[0\]"
                                             r"\.dtype'"):
        tlc.load(tmp_path / "bad.ptx")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(tlc.ParseError, match="invalid JSON"):
        tlc.load(tmp_path / "bad.ptx")


def test_missing_files(tmp_path):
    with pytest.raises(tlc.NotFoundError, match="cannot find the kernel's PTX"):
        tlc.load(tmp_path / "none.ptx")
    (tmp_path / "lonely.ptx").write_text("")
    with pytest.raises(tlc.NotFoundError, match="metadata file"):
        tlc.load(tmp_path / "lonely.ptx")


def _have_driver():
    try:
        ctypes.CDLL("libcuda.so.1")
        return True
    except OSError:
        return False


@pytest.mark.skipif(_have_driver(), reason="a CUDA driver is present: "
                    "launching fake pointers there is not a CPU test")
def test_launch_without_driver_is_a_driver_error(axpy):
    x = bf16(64, 64)
    with pytest.raises(tlc.DriverError, match="no CUDA driver"):
        axpy(x, x, x, 1.0, stream=0)


def test_stream_argument():
    from tlc.kernel import stream_handle

    class Stream:
        cuda_stream = 1234

    assert stream_handle(5, 0) == 5
    assert stream_handle(Stream(), 0) == 1234
    with pytest.raises(tlc.ArgumentError, match="stream must be"):
        stream_handle("s", 0)


# ---------------------------------------------------------------------------
# GDN: chunk plan and the checks made in Python

def test_plan_chunks_varlen():
    lengths = [1, 0, 64, 65, 130]
    cu = [0]
    for n in lengths:
        cu.append(cu[-1] + n)
    plan = tlc.ops.plan_chunks(cu)
    assert plan.chunk_indices == [(0, 0), (2, 0), (3, 0), (3, 1),
                                  (4, 0), (4, 1), (4, 2)]
    assert plan.chunk_offsets == [0, 1, 1, 2, 4]
    assert plan.num_chunks == 7


def test_plan_chunks_dense_and_empty():
    plan = tlc.ops.plan_chunks([0, 100, 200])
    assert plan.chunk_indices == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert plan.chunk_offsets == [0, 2]
    assert tlc.ops.plan_chunks([0, 0]) == tlc.ops.ChunkPlan([], [0], 0)
    assert tlc.ops.plan_chunks([0, 64], chunk=64).num_chunks == 1
    assert tlc.ops.plan_chunks([0, 65], chunk=64).num_chunks == 2
    assert tlc.ops.plan_chunks([0, 10], chunk=4).chunk_indices == [
        (0, 0), (0, 1), (0, 2)]


def test_check_cu_seqlens():
    tlc.ops.check_cu_seqlens([0, 1, 1, 65], 65)
    with pytest.raises(tlc.ArgumentError, match="start at 0 and end at T = 65"):
        tlc.ops.check_cu_seqlens([0, 1, 64], 65)
    with pytest.raises(tlc.ArgumentError, match="start at 0"):
        tlc.ops.check_cu_seqlens([1, 65], 65)
    with pytest.raises(tlc.ArgumentError,
                       match=r"non-decreasing, but cu_seqlens\[2\] = 3 < "
                             r"cu_seqlens\[1\] = 5"):
        tlc.ops.check_cu_seqlens([0, 5, 3, 65], 65)
    with pytest.raises(tlc.ArgumentError, match="at least one sequence"):
        tlc.ops.check_cu_seqlens([0], 0)


def gdn_inputs(batch=1, tokens=100, hqk=2, hv=4, d=128, requires_grad=()):
    def t(name, shape, dtype):
        return FakeTensor(shape, dtype, requires_grad=name in requires_grad)
    return dict(
        q=t("q", (batch, tokens, hqk, d), "torch.bfloat16"),
        k=t("k", (batch, tokens, hqk, d), "torch.bfloat16"),
        v=t("v", (batch, tokens, hv, d), "torch.bfloat16"),
        g=t("g", (batch, tokens, hv), "torch.float32"),
        beta=t("beta", (batch, tokens, hv), "torch.float32"))


@pytest.mark.parametrize("name", ["q", "k", "v", "g", "beta"])
def test_gdn_into_refuses_inputs_that_require_grad(name):
    inputs = gdn_inputs(requires_grad=(name,))
    o = FakeTensor(inputs["v"].shape, "torch.bfloat16")
    with pytest.raises(tlc.Error) as info:
        tlc.ops.chunk_gated_delta_rule_into(o, None, **inputs)
    assert str(info.value) == (
        "tlc: chunk_gated_delta_rule_into writes caller-provided outputs and "
        "records no gradients; use chunk_gated_delta_rule for training, or "
        "call under torch.no_grad()")
    assert not isinstance(info.value, tlc.ArgumentError)


def test_gdn_training_needs_torch():
    # Tensors that require grad go to the autograd Function, which needs
    # torch itself.
    if tlc.kernel.get_torch() is not None:
        pytest.skip("torch is importable here")
    h0 = FakeTensor((1, 4, 128, 128), "torch.float32", requires_grad=True)
    with pytest.raises(tlc.Error, match="needs PyTorch"):
        tlc.ops.chunk_gated_delta_rule(**gdn_inputs(), initial_state=h0)


def test_gdn_batch_must_be_1_with_cu_seqlens():
    cu = FakeTensor((3,), "torch.int32")
    with pytest.raises(tlc.ArgumentError,
                       match=r"^tlc: GDN: with cu_seqlens, B must be 1 .*got "
                             r"B = 2"):
        tlc.ops.chunk_gated_delta_rule(**gdn_inputs(batch=2), cu_seqlens=cu)


def test_gdn_cu_seqlens_dtype_and_rank():
    with pytest.raises(tlc.ArgumentError,
                       match="cu_seqlens must be int32 or int64, got "
                             "torch.float32"):
        tlc.ops.chunk_gated_delta_rule(
            **gdn_inputs(), cu_seqlens=FakeTensor((3,), "torch.float32"))
    with pytest.raises(tlc.ArgumentError, match=r"must be 1-D \[N\+1\]"):
        tlc.ops.chunk_gated_delta_rule(
            **gdn_inputs(), cu_seqlens=FakeTensor((3, 1), "torch.int64"))


def test_gdn_q_rank():
    inputs = gdn_inputs()
    inputs["q"] = bf16(100, 2, 128)
    with pytest.raises(tlc.ArgumentError,
                       match=r"q must be \[B, T, H_qk, K\], got shape "
                             r"\[100, 2, 128\]"):
        tlc.ops.chunk_gated_delta_rule(**inputs)


# ---------------------------------------------------------------------------
# GDN's host side down to the C ABI (tlc_gdn_workspace_bytes validates the
# arguments exactly as tlc_gdn_forward does), with a fake torch; the tests
# stop where the launch would begin.

class ReachedLaunch(Exception):
    pass


@pytest.fixture
def fake_torch(monkeypatch):
    try:
        tlc.ops._gdn_kernel_dir()
    except tlc.NotFoundError as e:
        pytest.skip(f"no compiled GDN kernels: {e}")
    torch = FakeTorch()
    monkeypatch.setattr(tlc.kernel, "_torch_module", torch)
    monkeypatch.setattr(tlc.kernel, "_torch_checked", True)

    def stop(index):
        raise ReachedLaunch(index)
    monkeypatch.setattr(tlc.ops, "device_guard", stop)
    yield torch
    # Plans made of fake tensors must not outlive the test (the GPU tests
    # may run in the same process).
    tlc.ops._plans.clear()
    tlc.ops._plans_by_tensor.clear()


def gdn_call(**kw):
    with pytest.raises(ReachedLaunch):
        return tlc.ops.chunk_gated_delta_rule(**kw)


def round256(n):
    return (n + 255) // 256 * 256


def varlen_inputs(lengths, hqk=2, hv=4, d=128, dtype="torch.bfloat16"):
    offsets = [0]
    for n in lengths:
        offsets.append(offsets[-1] + n)
    t = offsets[-1]
    inputs = gdn_inputs(batch=1, tokens=t, hqk=hqk, hv=hv, d=d)
    for name in ("q", "k", "v"):
        inputs[name] = FakeTensor(inputs[name].shape, dtype,
                                  FakeTorch.allocate())
    inputs["g"] = f32(1, t, hv, ptr=FakeTorch.allocate())
    inputs["beta"] = f32(1, t, hv, ptr=FakeTorch.allocate())
    inputs["cu_seqlens"] = FakeTensor((len(offsets),), "torch.int32",
                                      FakeTorch.allocate(), values=offsets)
    return inputs


def test_gdn_host_path_reaches_the_launch(fake_torch):
    lengths = [1, 0, 64, 35]
    inputs = varlen_inputs(lengths)
    h0 = f32(4, 4, 128, 128, ptr=FakeTorch.allocate())
    gdn_call(**inputs, initial_state=h0, output_final_state=True)
    # The plan went up once: offsets, chunk indices, chunk offsets.
    assert fake_torch.uploads == [[0, 1, 1, 65, 100],
                                  [0, 0, 2, 0, 3, 0], [0, 1, 1, 2]]
    (o, o_dtype), (ht, ht_dtype), (ws, ws_dtype) = fake_torch.empty_calls
    assert (o, o_dtype) == ((1, 100, 4, 128), "torch.bfloat16")
    assert (ht, ht_dtype) == ((4, 4, 128, 128), "torch.float32")
    # The workspace the runtime asked for: gcum [H_v, NT, 64] f32 and
    # ab [1, T, H_v, 64] bf16.
    t, hv, chunks = 100, 4, 3
    assert ws_dtype == "torch.uint8"
    assert ws == (round256(4 * hv * chunks * 64) + round256(2 * t * hv * 64),)


def test_gdn_host_path_with_context_parallelism(fake_torch):
    # Forced 1-chunk segments: the plan uploads the segments' offsets and
    # chunk lists, and the workspace grows by the state pass's [S, H, K,
    # V + K] and the start states' [S, H, K, V] (f32), and the final state
    # the scan writes when the caller did not ask for one [N, H, K, V].
    inputs = varlen_inputs([1, 0, 130])
    gdn_call(**inputs, segment_chunks=1)
    assert fake_torch.uploads == [[0, 1, 1, 131], [0, 1, 1, 65, 129, 131],
                                  [0, 1, 2, 5],
                                  [0, 0, 2, 0, 3, 0, 4, 0], [0, 1, 1, 2, 3]]
    (o, _), (ws, _) = fake_torch.empty_calls
    t, hv, chunks, segments, d = 131, 4, 4, 5, 128
    assert ws == (round256(4 * hv * chunks * 64) + round256(2 * t * hv * 64)
                  + round256(4 * segments * hv * d * 2 * d)
                  + round256(4 * segments * hv * d * d)
                  + round256(4 * 3 * hv * d * d),)
    # The cost model leaves these three short sequences whole.
    fake_torch.uploads.clear()
    fake_torch.empty_calls.clear()
    gdn_call(**inputs)
    assert fake_torch.uploads[0] == [0, 1, 1, 131] and \
        len(fake_torch.uploads) == 3
    with pytest.raises(tlc.ArgumentError, match="segment_chunks must be"):
        tlc.ops.chunk_gated_delta_rule(**inputs, segment_chunks=1.5)


def test_gdn_dense_batch_and_conversions(fake_torch):
    inputs = gdn_inputs(batch=2, tokens=100, hqk=1, hv=2, d=64)
    inputs["beta"] = bf16(2, 100, 2)  # converted to f32 (else rejected)
    inputs["q"] = bf16(2, 100, 1, 64, strides=(64, 128, 64, 1))  # copied
    gdn_call(**inputs, initial_state=f32(2, 2, 64, 64))
    assert fake_torch.uploads == [[0, 100, 200], [0, 0, 0, 1, 1, 0, 1, 1],
                                  [0, 2]]
    (o, o_dtype), (ws, ws_dtype) = fake_torch.empty_calls  # no final state
    assert (o, o_dtype) == ((2, 100, 2, 64), "torch.bfloat16")
    t, hv, chunks = 200, 2, 4
    assert ws == (round256(4 * hv * chunks * 64) + round256(2 * t * hv * 64),)


def test_gdn_validation_in_the_runtime(fake_torch, monkeypatch, tmp_path):
    def error(match, **changes):
        inputs = dict(varlen_inputs([10, 70]), **changes)
        with pytest.raises(tlc.ArgumentError, match=match):
            tlc.ops.chunk_gated_delta_rule(**inputs)

    error(r"g and beta must be f32, got f16 and f32",
          g=FakeTensor((1, 80, 4), "torch.float16"))
    error(r"initial_state must have shape \[N, H_v, K, V\] = "
          r"\[2, 4, 128, 128\], got \[3, 4, 128, 128\]",
          initial_state=f32(3, 4, 128, 128))
    error(r"v must have shape \[B, T, H_v, V\] = \[1, 80, 4, 128\], got "
          r"\[1, 81, 4, 128\]", v=bf16(1, 81, 4, 128))
    error(r"V must equal K \(128\), got 64", v=bf16(1, 80, 4, 64))
    error(r"H_v \(3\) must be a multiple of H_qk \(2\)",
          v=bf16(1, 80, 3, 128), g=f32(1, 80, 3), beta=f32(1, 80, 3))
    error(r"the head dimension K must be 64 or 128, got 96",
          q=bf16(1, 80, 2, 96), k=bf16(1, 80, 2, 96), v=bf16(1, 80, 4, 96))
    error(r"cu_seqlens must start at 0 and end at T = 80, got 0 \.\.\. 81",
          cu_seqlens=FakeTensor((3,), "torch.int64", values=[0, 10, 81]))
    error(r"q, k and v must share a dtype", k=f32(1, 80, 2, 128))
    # A kernel folder holding only the bf16 instantiation of an unsplit
    # call: the runtime's dry run names the first kernel a call would miss.
    gdn = tmp_path / "gdn"
    for variant, kernel in (("K128_DTbf16", "gdn_solve"),
                            ("K128_V128_DTbf16_USE_H0True_STORE_HTTrue",
                             "gdn_chunk")):
        (gdn / variant).mkdir(parents=True)
        (gdn / variant / f"{kernel}.ptx").write_text("")
    monkeypatch.setenv("TLC_KERNELS", str(tmp_path))
    inputs = varlen_inputs([10, 70], dtype="torch.float32")
    with pytest.raises(tlc.NotFoundError,
                       match=r"gdn_solve \(K=128 DT=f32\) is not compiled: "
                             r".*K128_DTf32/gdn_solve.ptx is missing"):
        tlc.ops.chunk_gated_delta_rule(**inputs)
    # The split needs the state pass and the scan too.
    with pytest.raises(tlc.NotFoundError,
                       match=r"gdn_chunk \(.*TRANSITION=128\) is not "
                             r"compiled"):
        tlc.ops.chunk_gated_delta_rule(**varlen_inputs([10, 70]),
                                       segment_chunks=1)


def test_gdn_plan_is_cached_by_tensor_and_content(fake_torch):
    inputs = varlen_inputs([5, 100])
    cu = inputs["cu_seqlens"]
    gdn_call(**inputs)
    assert len(fake_torch.uploads) == 3
    gdn_call(**inputs)  # same tensor: no host work, no upload
    assert len(fake_torch.uploads) == 3
    twin = FakeTensor(cu.shape, "torch.int64", FakeTorch.allocate(),
                      values=cu.values)
    gdn_call(**dict(inputs, cu_seqlens=twin))  # same content: same plan
    assert len(fake_torch.uploads) == 3
    cu.values = [0, 6, 105]
    cu._version += 1  # modified in place: planned again
    gdn_call(**inputs)
    assert fake_torch.uploads[3:] == [[0, 6, 105], [0, 0, 1, 0, 1, 1],
                                      [0, 1]]
    # During capture, an unseen cu_seqlens is an error, a seen one is fine.
    fake_torch.cuda.capturing = True
    gdn_call(**inputs)
    fresh = FakeTensor(cu.shape, "torch.int32", FakeTorch.allocate(),
                       values=[0, 6, 105])
    with pytest.raises(tlc.Error, match="during CUDA-graph capture"):
        tlc.ops.chunk_gated_delta_rule(**dict(inputs, cu_seqlens=fresh))


# ---------------------------------------------------------------------------
# tlc.compile through the CLI and its on-disk cache

@pytest.fixture
def compiler():
    try:
        return tlc.kernel.find_compiler()
    except tlc.NotFoundError as e:
        pytest.skip(f"no tlc compiler: {e}")


def test_version_is_the_compilers(compiler):
    # One version for the project: the CLI's (CMake's project version) is the
    # package's.
    out = subprocess.run([compiler, "--version"], capture_output=True,
                         text=True, check=True).stdout
    assert out.split()[:2] == ["tlc", tlc.__version__]


def test_compile_gemm_and_cache_hit(compiler, tmp_path):
    source = REPO / "kernels" / "examples" / "gemm.tl"
    cache = tmp_path / "cache"
    first = tlc.compile_to_files(source, kernel="gemm", cache_dir=cache, BM=64)
    assert not first.cache_hit
    second = tlc.compile_to_files(source, kernel="gemm", cache_dir=cache,
                                  BM=64)
    assert second.cache_hit
    assert second.ptx_path == first.ptx_path
    kernel = tlc.compile(str(source), kernel="gemm", cache_dir=cache, BM=64)
    assert kernel.name == "gemm"
    assert kernel.constants["BM"] == 64
    assert Path(kernel.ptx_path).read_text().find(".entry gemm") >= 0
    # The compiled kernel checks arguments like any other.
    a, b = bf16(200, 96), bf16(96, 130)
    tiles = -(-130 // kernel.constants["BN"]) * -(-200 // 64)
    assert kernel.check(a, b, bf16(200, 130)) == (
        min(kernel.constants["SMS"], tiles), 1, 1)  # a persistent grid
    # Other constants are another cache entry; kernel= inferred (one kernel).
    other = tlc.compile(source, cache_dir=cache, BM=64, DT="f16")
    assert other is not kernel and other.params[0].dtype == "f16"


def test_compile_source_text(compiler, tmp_path):
    text = (REPO / "kernels" / "examples" / "softmax.tl").read_text()
    kernel = tlc.compile(text, kernel="softmax", cache_dir=tmp_path)
    assert kernel.name == "softmax"
    assert [p.name for p in kernel.params] == ["X", "Y"]


def test_compile_error_carries_diagnostics(compiler, tmp_path):
    bad = tmp_path / "bad.tl"
    bad.write_text("kernel k[](X: Tensor[(M,), f32]):\n"
                   "    with Kernel(1, threads=32) as bx:\n"
                   "        pass\n")
    with pytest.raises(tlc.CompileError) as info:
        tlc.compile(bad, kernel="k", cache_dir=tmp_path / "cache")
    assert re.search(r"bad\.tl:\d+:\d+: error:", str(info.value)), \
        str(info.value)
    assert re.search(r"bad\.tl:1:\d+: error:", info.value.diagnostics)
    assert isinstance(info.value, tlc.Error)


def test_compile_unknown_kernel_and_missing_file(compiler, tmp_path):
    source = REPO / "kernels" / "examples" / "gemm.tl"
    with pytest.raises(tlc.CompileError):
        tlc.compile(source, kernel="nope", cache_dir=tmp_path)
    with pytest.raises(tlc.NotFoundError):
        tlc.compile(tmp_path / "missing.tl", kernel="k", cache_dir=tmp_path)


def test_compile_remarks(compiler, tmp_path, capsys):
    # A Pipelined loop that masks the rows it loaded keeps its TMA ring, but
    # its element-wise code makes each iteration wait for its wgmma; with
    # remarks=True the compiler says so at the line, on a cache hit too.
    source = tmp_path / "masked.tl"
    source.write_text(
        "kernel masked[BT=64, D=64](X: Tensor[(T, D), bf16],\n"
        "        W: Tensor[(D, D), bf16], Y: Tensor[(BT, D), f32], n: i32):\n"
        "    with Kernel(1, threads=128) as bx:\n"
        "        x_s = alloc_shared((BT, D), bf16)\n"
        "        w_s = alloc_shared((D, D), bf16)\n"
        "        acc = alloc_fragment((BT, D), f32)\n"
        "        clear(acc)\n"
        "        for t in Pipelined(cdiv(T, BT), num_stages=2):\n"
        "            copy(X[t * BT, 0], x_s)\n"
        "            copy(W[0, 0], w_s)\n"
        "            for i, j in Parallel(BT, D):\n"
        "                x_s[i, j] = where(t * BT + i < n, x_s[i, j], 0.0)\n"
        "            gemm(x_s, w_s, acc)\n"
        "        copy(acc, Y[0, 0])\n")
    cache = tmp_path / "cache"
    quiet = tlc.compile_to_files(source, cache_dir=cache)
    assert quiet.remarks == ""
    loud = tlc.compile_to_files(source, cache_dir=cache, remarks=True)
    assert loud.cache_hit
    assert re.search(r"masked\.tl:8:9: remark: Pipelined loop waits for its "
                     r"wgmma gemms every iteration: the body also runs the "
                     r"Parallel loop at 11:13", loud.remarks), loud.remarks
    assert "not lowered to TMA" not in loud.remarks
    # The GEMM example gets every fast form: no remarks.
    gemm = tlc.compile_to_files(REPO / "kernels" / "examples" / "gemm.tl",
                                cache_dir=cache, remarks=True)
    assert gemm.remarks == ""
    capsys.readouterr()
    tlc.compile(source, cache_dir=cache, remarks=True)
    assert "remark: Pipelined loop waits" in capsys.readouterr().err
