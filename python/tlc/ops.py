"""Operators built from tlc kernels.

``chunk_gated_delta_rule``: Gated DeltaNet chunked prefill with FLA's tensor
conventions and signature (docs/kernels/gdn.md), forward and backward (a
``torch.autograd.Function`` when an input requires grad), on kernels
compiled ahead of time (``<kernels>/gdn/<variant>/``) and launched through
the C ABI (``tlc_gdn_forward``, ``tlc_gdn_backward``) on caller-provided
memory: outputs, gradients and workspaces come from torch (its caching
allocator, or the graph's pool under CUDA-graph capture) and the kernels run
on torch's current stream, without host synchronisation.
"""

import collections
import ctypes as C
import os
import threading
import weakref
from pathlib import Path

from . import _lib
from .errors import ArgumentError, Error, NotFoundError
from .kernel import (device_guard, dtype_code, dtype_name, fill_tensor_arg,
                     get_torch, kernels_dir, stream_handle)

__all__ = ["chunk_gated_delta_rule", "chunk_gated_delta_rule_into",
           "plan_chunks", "plan_segments", "ChunkPlan", "CHUNK"]

CHUNK = 64

GRAD_MESSAGE = ("tlc: chunk_gated_delta_rule_into writes caller-provided "
                "outputs and records no gradients; use chunk_gated_delta_rule "
                "for training, or call under torch.no_grad()")

ChunkPlan = collections.namedtuple(
    "ChunkPlan", ["chunk_indices", "chunk_offsets", "num_chunks"])
ChunkPlan.__doc__ = """Chunks of packed sequences: ``chunk_indices`` lists
(sequence, chunk within the sequence) for every chunk of every sequence, in
order; ``chunk_offsets[n]`` is the index of sequence n's first chunk."""


def plan_chunks(cu_seqlens, chunk=CHUNK):
    """The chunk plan of packed sequences with offsets `cu_seqlens` (a list
    of N+1 ints), made by the C++ planner (tlc::ops::planChunks, through
    tlc_gdn_plan_chunks): for each sequence n, chunks c = 0, 1, ... while
    c * chunk < its length."""
    values = [int(x) for x in cu_seqlens]
    num_seqs = len(values) - 1
    capacity = 2 * (max(values[-1], 0) // max(int(chunk), 1) + num_seqs)
    cu = (C.c_int32 * len(values))(*values)
    indices = (C.c_int32 * max(capacity, 1))()
    offsets = (C.c_int32 * max(num_seqs, 1))()
    count = C.c_int64()
    _lib.check(_lib.lib().tlc_gdn_plan_chunks(
        cu, num_seqs, int(chunk), indices, capacity, offsets,
        C.byref(count)))
    n = count.value
    pairs = [(indices[2 * i], indices[2 * i + 1]) for i in range(n)]
    return ChunkPlan(pairs, list(offsets[:num_seqs]), n)


def plan_segments(cu_seqlens, heads, head_k, multiprocessors, dtype="bf16",
                  segment_chunks=0):
    """Context parallelism's split of packed sequences, made by the C++
    planner (tlc::ops::chooseSegmentChunks, planChunks): ``None`` when the
    sequences stay whole, else ``(segment_offsets, sequence_segments)``, the
    S+1 token offsets of chunk-aligned segments and, per sequence, its first
    segment (N+1 entries). `dtype` (of q, k, v) picks gdn_chunk's variant,
    whose blocks a multiprocessor the model counts. `segment_chunks` 0
    decides from the cost model, < 0 never splits, > 0 forces segments of
    that many chunks."""
    code = dtype_code(dtype)
    if code is None:
        raise ArgumentError(f"tlc: GDN plan: unknown dtype {dtype!r}")
    values = [int(x) for x in cu_seqlens]
    num_seqs = len(values) - 1
    capacity = num_seqs + values[-1] // CHUNK + 2
    cu = (C.c_int32 * len(values))(*values)
    offsets = (C.c_int32 * capacity)()
    firsts = (C.c_int32 * (num_seqs + 1))()
    count = C.c_int64()
    _lib.check(_lib.lib().tlc_gdn_plan_segments(
        cu, num_seqs, int(heads), int(head_k), int(multiprocessors),
        code, int(segment_chunks), offsets,
        capacity, firsts, C.byref(count)))
    if count.value == 0:
        return None
    return list(offsets[:count.value]), list(firsts)


def check_cu_seqlens(values, tokens):
    """Raises ArgumentError unless `values` are valid offsets of packed
    sequences covering `tokens` tokens."""
    if len(values) < 2:
        raise ArgumentError(
            "tlc: GDN: cu_seqlens must hold at least one sequence (N+1 >= 2 "
            f"offsets), got {len(values)} value(s)")
    if values[0] != 0 or values[-1] != tokens:
        raise ArgumentError(
            f"tlc: GDN: cu_seqlens must start at 0 and end at T = {tokens}, "
            f"got {values[0]} ... {values[-1]}")
    for i in range(1, len(values)):
        if values[i] < values[i - 1]:
            raise ArgumentError(
                f"tlc: GDN: cu_seqlens must be non-decreasing, but "
                f"cu_seqlens[{i}] = {values[i]} < cu_seqlens[{i - 1}] = "
                f"{values[i - 1]}")
    if values[-1] >= 1 << 31:
        raise ArgumentError(
            f"tlc: GDN: T = {values[-1]} does not fit in int32 offsets")


# ---------------------------------------------------------------------------
# Chunk plans on the device, cached by content (and by cu_seqlens tensor)

class _DevicePlan:
    """int32 device tensors for one cu_seqlens content and split (the
    arguments of plan_segments after cu_seqlens)."""

    __slots__ = ("cu", "chunk_indices", "chunk_offsets", "num_seqs",
                 "num_chunks", "device", "segment_offsets",
                 "sequence_segments")

    def __init__(self, torch, values, device, split):
        segments = plan_segments(values, *split)
        self.num_seqs = len(values) - 1
        self.device = device
        i32 = torch.int32
        self.cu = torch.tensor(values, dtype=i32, device=device)
        self.segment_offsets = self.sequence_segments = None
        if segments is not None:
            self.segment_offsets = torch.tensor(segments[0], dtype=i32,
                                                device=device)
            self.sequence_segments = torch.tensor(segments[1], dtype=i32,
                                                  device=device)
        # With segments, the chunk lists index segments.
        plan = plan_chunks(values if segments is None else segments[0])
        self.num_chunks = plan.num_chunks
        flat = [x for pair in plan.chunk_indices for x in pair]
        self.chunk_indices = torch.tensor(flat, dtype=i32,
                                          device=device).view(-1, 2)
        self.chunk_offsets = torch.tensor(plan.chunk_offsets, dtype=i32,
                                          device=device)


_PLAN_CACHE_SIZE = 256
_plans = collections.OrderedDict()  # (kind, content, device) -> _DevicePlan
# (id(cu_seqlens), split) -> (weakref, version, ptr, plan)
_plans_by_tensor = {}
_plan_lock = threading.Lock()


def _remember(key, plan):
    with _plan_lock:
        _plans[key] = plan
        _plans.move_to_end(key)
        while len(_plans) > _PLAN_CACHE_SIZE:
            _plans.popitem(last=False)


def _cached(key):
    plan = _plans.get(key)
    if plan is not None:
        with _plan_lock:
            if key in _plans:
                _plans.move_to_end(key)
    return plan


def _forget(key, ref):
    with _plan_lock:
        entry = _plans_by_tensor.get(key)
        if entry is not None and entry[0] is ref:
            del _plans_by_tensor[key]


def _device_key(device):
    return (device.type, device.index)


def _capturing(torch):
    try:
        return torch.cuda.is_current_stream_capturing()
    except Exception:  # older torch / no CUDA
        return False


def _plan_for(torch, cu_seqlens, batch, tokens, device, split):
    """The device plan for `cu_seqlens` (None: a dense batch, offsets
    [0, T, 2T, ...]) and `split` (plan_segments' arguments after
    cu_seqlens). Repeated calls with the same cu_seqlens tensor (not
    modified since) or the same dense shape do no host work and no upload,
    which is what CUDA-graph capture needs."""
    dkey = _device_key(device)
    if cu_seqlens is None:
        key = ("dense", batch, tokens, dkey, split)
        plan = _cached(key)
        if plan is None:
            if _capturing(torch):
                raise Error(
                    "tlc: GDN: a new batch shape during CUDA-graph capture; "
                    "call once with these shapes before capturing")
            plan = _DevicePlan(torch, [b * tokens for b in range(batch + 1)],
                               device, split)
            _remember(key, plan)
        return plan

    # One entry per (tensor, split): a training step asks for the forward's
    # split and the backward's unsplit plan of the same cu_seqlens.
    ident = (id(cu_seqlens), split)
    version = getattr(cu_seqlens, "_version", None)
    entry = _plans_by_tensor.get(ident)
    if entry is not None:
        ref, seen_version, ptr, plan = entry
        if (ref() is cu_seqlens and seen_version == version
                and ptr == cu_seqlens.data_ptr() and plan.device == device):
            return plan
    if _capturing(torch):
        raise Error(
            "tlc: GDN: cu_seqlens seen for the first time (or modified) "
            "during CUDA-graph capture: its contents must be read on the "
            "host, which capture forbids; call once with this cu_seqlens "
            "tensor before capturing")
    values = [int(x) for x in cu_seqlens.tolist()]  # syncs if on the GPU
    check_cu_seqlens(values, tokens)
    key = ("varlen", tuple(values), dkey, split)
    plan = _cached(key)
    if plan is None:
        plan = _DevicePlan(torch, values, device, split)
        _remember(key, plan)
    try:
        ref = weakref.ref(cu_seqlens, lambda r, i=ident: _forget(i, r))
    except TypeError:  # not weak-referenceable: cache by content only
        return plan
    with _plan_lock:
        _plans_by_tensor[ident] = (ref, version, cu_seqlens.data_ptr(), plan)
    return plan


# ---------------------------------------------------------------------------
# Kernel folder

_dir_cache = {}


def _gdn_kernel_dir():
    env = os.environ.get("TLC_KERNELS")
    found = _dir_cache.get(env)
    if found is None:
        folder = (Path(env) if env else kernels_dir()) / "gdn"
        if not folder.is_dir():
            raise NotFoundError(
                f"tlc: GDN: cannot find the compiled GDN kernels in '{folder}' "
                "(build the project with tools/dev/setup.sh, install the "
                "package, or set TLC_KERNELS to a folder holding gdn/)")
        found = _dir_cache[env] = (folder, os.fsencode(str(folder)))
    return found


_kernels_ok = set()


def _check_kernels(check, folder_bytes, args, key):
    """That every kernel the call launches is compiled: the runtime's dry run
    of the call (tlc_gdn_*_check_kernels) names the first missing one. Once
    per `key`, the call's configuration."""
    if key in _kernels_ok:
        return
    _lib.check(check(folder_bytes, C.byref(args)))
    _kernels_ok.add(key)


# ---------------------------------------------------------------------------
# The operator

def _shape(t):
    return "[" + ", ".join(str(int(s)) for s in t.shape) + "]"


def _records_grad(tensors):
    """Whether autograd would record a call on `tensors`."""
    torch = get_torch()
    grad_enabled = torch.is_grad_enabled() if torch is not None else True
    return grad_enabled and any(getattr(t, "requires_grad", False)
                                for t in tensors if t is not None)


def _check_no_grad(tensors):
    if _records_grad(tensors):
        raise Error(GRAD_MESSAGE)


def _check_host_side(q, cu_seqlens):
    if len(q.shape) != 4:
        raise ArgumentError(
            f"tlc: GDN: q must be [B, T, H_qk, K], got shape {_shape(q)}")
    if cu_seqlens is not None:
        if dtype_name(cu_seqlens.dtype) not in ("i32", "i64"):
            raise ArgumentError(
                f"tlc: GDN: cu_seqlens must be int32 or int64, got "
                f"{cu_seqlens.dtype}")
        if len(cu_seqlens.shape) != 1:
            raise ArgumentError(
                f"tlc: GDN: cu_seqlens must be 1-D [N+1], got shape "
                f"{_shape(cu_seqlens)}")
        if int(q.shape[0]) != 1:
            raise ArgumentError(
                "tlc: GDN: with cu_seqlens, B must be 1 (sequences are packed "
                f"along T), got B = {int(q.shape[0])} (q shape {_shape(q)})")


def _require_torch():
    torch = get_torch()
    if torch is None:
        raise Error("tlc: the GDN operator needs PyTorch (import torch failed)")
    return torch


def _prepare(torch, q, k, v, g, beta, initial_state):
    """Contiguous inputs on one CUDA device; beta bf16 -> f32."""
    named = {"q": q, "k": k, "v": v, "g": g, "beta": beta,
             "initial_state": initial_state}
    device = q.device
    for name, t in named.items():
        if t is None:
            continue
        if not t.is_cuda:
            raise ArgumentError(
                f"tlc: GDN: argument '{name}' is on the CPU (device "
                f"{t.device}); pass CUDA tensors")
        if t.device != device:
            raise ArgumentError(
                f"tlc: GDN: argument '{name}' is on {t.device}, but q is on "
                f"{device}")
    if beta.dtype == torch.bfloat16:
        beta = beta.float()
    q, k, v, g, beta = (t.contiguous() for t in (q, k, v, g, beta))
    if initial_state is not None:
        initial_state = initial_state.contiguous()
    return q, k, v, g, beta, initial_state


def _launch(torch, q, k, v, g, beta, scale, initial_state, plan, o,
            final_state):
    """Fills tlc_gdn_forward_args and launches on torch's current stream."""
    device = q.device
    folder, folder_bytes = _gdn_kernel_dir()
    args = _lib.GdnForwardArgs()
    for name, t in (("q", q), ("k", k), ("v", v), ("g", g), ("beta", beta),
                    ("cu_seqlens", plan.cu),
                    ("chunk_indices", plan.chunk_indices),
                    ("chunk_offsets", plan.chunk_offsets), ("o", o),
                    ("segment_offsets", plan.segment_offsets),
                    ("sequence_segments", plan.sequence_segments)):
        if t is not None:
            fill_tensor_arg(getattr(args, name), t,
                            f"tlc: GDN: argument '{name}'")
    if initial_state is not None:
        fill_tensor_arg(args.initial_state, initial_state,
                        "tlc: GDN: argument 'initial_state'")
    if final_state is not None:
        fill_tensor_arg(args.final_state, final_state,
                        "tlc: GDN: argument 'final_state'")
    args.scale = float(scale)
    lib = _lib.lib()
    size = C.c_size_t()
    _lib.check(lib.tlc_gdn_workspace_bytes(C.byref(args), C.byref(size)))
    _check_kernels(lib.tlc_gdn_forward_check_kernels, folder_bytes, args,
                   ("forward", str(folder), int(q.shape[3]), int(v.shape[3]),
                    dtype_name(q.dtype), initial_state is None,
                    final_state is None, plan.segment_offsets is not None))
    if plan.num_chunks == 0:
        # No tokens: nothing to launch; the final state is the initial one.
        if final_state is not None:
            if initial_state is not None:
                final_state.copy_(initial_state)
            else:
                final_state.zero_()
        return
    workspace = torch.empty(size.value, dtype=torch.uint8, device=device)
    args.workspace = workspace.data_ptr()
    args.workspace_bytes = size.value
    index = device.index if device.index is not None else \
        torch.cuda.current_device()
    with device_guard(index):
        stream = stream_handle(None, index)
        _lib.check(lib.tlc_gdn_forward(folder_bytes, C.c_void_p(stream),
                                       C.byref(args)))
    # The workspace was allocated on the stream the kernels run on, so the
    # caching allocator may reuse it as soon as it is freed here: later work
    # on this stream is ordered after the kernels.


def _outputs_check(torch, o, final_state, v, num_seqs, q):
    want = tuple(v.shape)
    if (tuple(o.shape) != want or o.dtype != v.dtype or o.device != v.device
            or not o.is_contiguous()):
        raise ArgumentError(
            f"tlc: GDN: o must be a contiguous {v.dtype} tensor of shape "
            f"{list(want)} on {v.device}, got {o.dtype} {_shape(o)} on "
            f"{o.device}")
    if final_state is not None:
        want = (num_seqs, int(v.shape[2]), int(q.shape[3]), int(v.shape[3]))
        if (tuple(final_state.shape) != want
                or final_state.dtype != torch.float32
                or final_state.device != v.device
                or not final_state.is_contiguous()):
            raise ArgumentError(
                f"tlc: GDN: final_state must be a contiguous float32 tensor "
                f"of shape {list(want)} [N, H_v, K, V] on {v.device}, got "
                f"{final_state.dtype} {_shape(final_state)} on "
                f"{final_state.device}")


def chunk_gated_delta_rule(q, k, v, g, beta, scale=None, initial_state=None,
                           output_final_state=False, cu_seqlens=None, *,
                           segment_chunks=0):
    """Gated DeltaNet forward, chunked (FLA's conventions):

    q, k ``[B, T, H_qk, K]``; v ``[B, T, H_v, V]`` (bf16 or f16; K = V in
    {64, 128}; H_v a multiple of H_qk); g, beta ``[B, T, H_v]`` float32
    (beta may be bf16); initial_state ``[N, H_v, K, V]`` float32 or None;
    cu_seqlens ``[N+1]`` int32/int64 offsets of N packed sequences (then
    B = 1), or None for a dense batch (N = B). scale defaults to K ** -0.5.

    Returns ``(o, final_state)``: o ``[B, T, H_v, V]`` in v's dtype, and the
    final state ``[N, H_v, K, V]`` float32 when output_final_state (else
    None). When grad is enabled and any of q, k, v, g, beta, initial_state
    requires grad, the call is recorded for autograd: the backward
    recomputes the forward's chunk states (nothing but the inputs is kept)
    and returns dq, dk, dv, dg, dbeta and dh0 in the inputs' dtypes (dq, dk
    summed over each GVA group).

    Few long sequences are cut into segments that run in parallel (context
    parallelism, exact: docs/kernels/gdn.md) when the cost model says it
    pays; ``segment_chunks`` > 0 forces segments of that many 64-token
    chunks, < 0 forbids the split.
    """
    if _records_grad((q, k, v, g, beta, initial_state)):
        torch = _require_torch()
        o, final_state = _autograd_function(torch).apply(
            q, k, v, g, beta, initial_state, scale, cu_seqlens,
            bool(output_final_state), segment_chunks)
        return o, final_state
    return _forward(q, k, v, g, beta, scale, initial_state, cu_seqlens,
                    outputs=None, output_final_state=output_final_state,
                    segment_chunks=segment_chunks)


_function_class = None


def _autograd_function(torch):
    """The torch.autograd.Function of chunk_gated_delta_rule (made on first
    use: torch is imported lazily)."""
    global _function_class
    if _function_class is not None:
        return _function_class

    class ChunkGatedDeltaRule(torch.autograd.Function):
        @staticmethod
        def forward(ctx, q, k, v, g, beta, initial_state, scale, cu_seqlens,
                    output_final_state, segment_chunks):
            o, final_state = _forward(
                q, k, v, g, beta, scale, initial_state, cu_seqlens,
                outputs=None, output_final_state=output_final_state,
                segment_chunks=segment_chunks, grad_checked=True)
            ctx.save_for_backward(q, k, v, g, beta, initial_state)
            ctx.scale = scale
            ctx.cu_seqlens = cu_seqlens
            # An unused output's gradient arrives as None, not zeros.
            ctx.set_materialize_grads(False)
            return o, final_state

        @staticmethod
        def backward(ctx, d_o, d_final_state):
            q, k, v, g, beta, initial_state = ctx.saved_tensors
            grads = _backward(torch, q, k, v, g, beta, initial_state, d_o,
                              d_final_state, ctx.scale, ctx.cu_seqlens)
            dq, dk, dv, dg, dbeta, dh0 = grads
            if dbeta is not None and dbeta.dtype != beta.dtype:
                dbeta = dbeta.to(beta.dtype)
            return (dq, dk, dv, dg, dbeta, dh0, None, None, None, None)

    _function_class = ChunkGatedDeltaRule
    return _function_class


def _backward(torch, q, k, v, g, beta, initial_state, d_o, d_final_state,
              scale, cu_seqlens):
    """Gradients of chunk_gated_delta_rule's inputs (tlc_gdn_backward):
    (dq, dk, dv, dg, dbeta, dh0), dh0 None without an initial state."""
    q, k, v, g, beta, initial_state = _prepare(torch, q, k, v, g, beta,
                                               initial_state)
    if d_o is None and d_final_state is None:
        return (None,) * 6
    if d_o is None:
        d_o = torch.zeros_like(v)
    d_o = d_o.contiguous()
    if d_final_state is not None:
        d_final_state = d_final_state.contiguous()
    batch, tokens = int(q.shape[0]), int(q.shape[1])
    head_k, head_v = int(q.shape[3]), int(v.shape[3])
    # The backward walks whole sequences: an unsplit plan (cached as the
    # forward's is, so repeated steps do no host work).
    split = (int(v.shape[2]), head_k, _multiprocessor_count(torch, q.device),
             dtype_name(q.dtype), -1)
    plan = _plan_for(torch, cu_seqlens, batch, tokens, q.device, split)
    dq, dk = torch.empty_like(q), torch.empty_like(k)
    dv = torch.empty_like(v)
    dg = torch.empty(g.shape, dtype=torch.float32, device=g.device)
    dbeta = torch.empty(beta.shape, dtype=torch.float32, device=g.device)
    dh0 = (torch.empty_like(initial_state) if initial_state is not None
           else None)
    if plan.num_chunks == 0:
        # No tokens: the final state is the initial one.
        for t in (dq, dk, dv, dg, dbeta):
            t.zero_()
        if dh0 is not None:
            if d_final_state is not None:
                dh0.copy_(d_final_state)
            else:
                dh0.zero_()
        return dq, dk, dv, dg, dbeta, dh0
    folder, folder_bytes = _gdn_kernel_dir()
    args = _lib.GdnBackwardArgs()
    for name, t in (("q", q), ("k", k), ("v", v), ("g", g), ("beta", beta),
                    ("initial_state", initial_state),
                    ("cu_seqlens", plan.cu),
                    ("chunk_indices", plan.chunk_indices),
                    ("chunk_offsets", plan.chunk_offsets), ("d_o", d_o),
                    ("d_final_state", d_final_state), ("dq", dq), ("dk", dk),
                    ("dv", dv), ("dg", dg), ("dbeta", dbeta), ("dh0", dh0)):
        if t is not None:
            fill_tensor_arg(getattr(args, name), t,
                            f"tlc: GDN backward: argument '{name}'")
    args.scale = float(scale if scale is not None else head_k ** -0.5)
    lib = _lib.lib()
    size = C.c_size_t()
    _lib.check(lib.tlc_gdn_backward_workspace_bytes(C.byref(args),
                                                    C.byref(size)))
    _check_kernels(lib.tlc_gdn_backward_check_kernels, folder_bytes, args,
                   ("backward", str(folder), head_k, int(v.shape[3]),
                    dtype_name(q.dtype), initial_state is None,
                    d_final_state is None))
    workspace = torch.empty(size.value, dtype=torch.uint8, device=q.device)
    args.workspace = workspace.data_ptr()
    args.workspace_bytes = size.value
    index = q.device.index if q.device.index is not None else \
        torch.cuda.current_device()
    with device_guard(index):
        stream = stream_handle(None, index)
        _lib.check(lib.tlc_gdn_backward(folder_bytes, C.c_void_p(stream),
                                        C.byref(args)))
    return dq, dk, dv, dg, dbeta, dh0


def chunk_gated_delta_rule_into(o, final_state, q, k, v, g, beta, scale=None,
                                initial_state=None, cu_seqlens=None, *,
                                segment_chunks=0):
    """:func:`chunk_gated_delta_rule` writing into caller-provided outputs:
    o (contiguous, v's shape and dtype) and final_state (contiguous float32
    ``[N, H_v, K, V]``, or None to skip it). Returns ``(o, final_state)``."""
    return _forward(q, k, v, g, beta, scale, initial_state, cu_seqlens,
                    outputs=(o, final_state), segment_chunks=segment_chunks)


_multiprocessors = {}


def _multiprocessor_count(torch, device):
    index = device.index if device.index is not None else \
        torch.cuda.current_device()
    count = _multiprocessors.get(index)
    if count is None:
        count = _multiprocessors[index] = int(
            torch.cuda.get_device_properties(index).multi_processor_count)
    return count


def _forward(q, k, v, g, beta, scale, initial_state, cu_seqlens, outputs,
             output_final_state=False, segment_chunks=0, grad_checked=False):
    """Both entry points: checks, plan, outputs (allocated unless given),
    launch. `grad_checked`: called from the autograd Function."""
    if not grad_checked:
        _check_no_grad((q, k, v, g, beta, initial_state))
    _check_host_side(q, cu_seqlens)
    torch = _require_torch()
    q, k, v, g, beta, initial_state = _prepare(torch, q, k, v, g, beta,
                                               initial_state)
    batch, tokens = int(q.shape[0]), int(q.shape[1])
    if isinstance(segment_chunks, bool) or not isinstance(segment_chunks,
                                                          int):
        raise ArgumentError(
            f"tlc: GDN: segment_chunks must be an int (0: decide, < 0: "
            f"never split, > 0: chunks a segment), got {segment_chunks!r}")
    head_k = int(q.shape[3])
    split = (int(v.shape[2]), head_k, _multiprocessor_count(torch, q.device),
             dtype_name(q.dtype), segment_chunks)
    plan = _plan_for(torch, cu_seqlens, batch, tokens, q.device, split)
    if outputs is None:
        o = torch.empty(v.shape, dtype=v.dtype, device=v.device)
        final_state = None
        if output_final_state:
            final_state = torch.empty(
                (plan.num_seqs, int(v.shape[2]), int(q.shape[3]),
                 int(v.shape[3])),
                dtype=torch.float32, device=v.device)
    else:
        o, final_state = outputs
        _outputs_check(torch, o, final_state, v, plan.num_seqs, q)
    if scale is None:
        scale = int(q.shape[3]) ** -0.5
    _launch(torch, q, k, v, g, beta, scale, initial_state, plan, o,
            final_state)
    return o, final_state
