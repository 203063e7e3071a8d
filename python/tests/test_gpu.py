"""GPU tests of the tlc Python package: torch + a CUDA GPU (skipped, with the
reason, otherwise). On the GPU box: bash tools/dev/gpu-python.sh.

- GDN (tlc.ops.chunk_gated_delta_rule) against a float64 token-by-token
  reference on the cases of ../shared/brief/gdn.md section 6, bar 5e-3
  (relative RMS) for bf16 and f16, outputs poisoned with NaN first;
- its backward (autograd) against torch autograd through that reference
  (8e-3 for dq, dk, dv, dh0; 2e-2 for dg, dbeta), on any subset of inputs,
  deterministic, gradcheck in f32, and a forward+backward step captured in
  a CUDA graph;
- the same inputs through FLA's Triton chunk_gated_delta_rule_fwd (skipped
  when fla is not importable);
- generic kernels (gemm, softmax, axpy) through tlc.load against torch;
- CUDA-graph capture of GDN and of a kernel, replayed on new input contents.
"""

import math
import os

import pytest

torch = pytest.importorskip(
    "torch", reason="torch is not installed: the GPU tests need torch and a "
                    "CUDA GPU")
if not torch.cuda.is_available():
    pytest.skip("no CUDA GPU is available to torch", allow_module_level=True)

import torch.nn.functional as F  # noqa: E402

import tlc  # noqa: E402
import tlc.ops  # noqa: E402

DEV = "cuda"
BAR = 5e-3  # gdn.md section 6: o and final state, bf16 inputs


def rel_rms(x, ref):
    x, ref = x.double(), ref.double()
    return ((x - ref).norm() / ref.norm().clamp_min(1e-300)).item()


def assert_close(name, x, ref, bar):
    assert torch.isfinite(x).all(), f"{name}: NaN/Inf (unwritten or bad)"
    err = rel_rms(x, ref)
    print(f"  {name}: relative RMS error {err:.2e} (bar {bar:.0e})")
    assert err <= bar, f"{name}: relative RMS error {err:.3e} > {bar:.0e}"
    return err


# ---------------------------------------------------------------------------
# GDN: inputs and the float64 reference (gdn.md section 1)

class Case:
    def __init__(self, name, *, batch=1, tokens=None, seqlens=None, hqk=1,
                 hv=1, d=64, h0=True, normalize=True, zero_heads=(),
                 strong_decay=False, dtype=torch.bfloat16, cu_dtype=torch.int32,
                 final_state=True):
        self.name = name
        self.batch = batch
        self.seqlens = seqlens
        self.tokens = sum(seqlens) if seqlens is not None else tokens
        self.hqk, self.hv, self.d = hqk, hv, d
        self.h0, self.normalize = h0, normalize
        self.zero_heads, self.strong_decay = zero_heads, strong_decay
        self.dtype, self.cu_dtype = dtype, cu_dtype
        self.final_state = final_state

    def __repr__(self):
        return self.name


CASES = [
    Case("T=100 (not a multiple of 64), GVA 2, K=V=64", tokens=100, hqk=1,
         hv=2, d=64),
    Case("varlen 1,37,64,130, GVA 2, K=V=64", seqlens=[1, 37, 64, 130],
         hqk=1, hv=2, d=64),
    Case("varlen 5,1,200,63 (int64 offsets), GVA 1, K=V=128, no h0",
         seqlens=[5, 1, 200, 63], hqk=2, hv=2, d=128, h0=False,
         cu_dtype=torch.int64),
    Case("GVA 4, a head with g=0, no h0, K=V=128", tokens=70, hqk=1, hv=4,
         d=128, h0=False, zero_heads=(2,)),
    Case("g about -10, dense batch of 2, GVA 1, K=V=64", batch=2, tokens=65,
         hqk=2, hv=2, d=64, strong_decay=True),
    Case("dense batch of 3, T=130, GVA 2, g=0 head, K=V=128", batch=3,
         tokens=130, hqk=2, hv=4, d=128, zero_heads=(1,)),
    Case("unnormalised keys, K=V=128", tokens=64, hqk=1, hv=1, d=128,
         normalize=False),
    Case("f16, varlen 63,1,66, GVA 4, K=V=128", seqlens=[63, 1, 66], hqk=1,
         hv=4, d=128, dtype=torch.float16, zero_heads=(3,)),
    Case("no final state, T=129, GVA 2, K=V=64", tokens=129, hqk=2, hv=4,
         d=64, final_state=False),
]


def make_inputs(case, seed):
    gen = torch.Generator(device=DEV).manual_seed(seed)
    b, t, d = case.batch, case.tokens, case.d

    def randn(*shape):
        return torch.randn(*shape, generator=gen, device=DEV)

    def qk():
        x = randn(b, t, case.hqk, d)
        if case.normalize:
            return x / torch.sqrt((x * x).sum(-1, keepdim=True) + 1e-6)
        return x / math.sqrt(d)  # norms vary around 1

    q, k = qk().to(case.dtype), qk().to(case.dtype)
    v = randn(b, t, case.hv, d).to(case.dtype)
    if case.strong_decay:
        g = -10 + 0.5 * randn(b, t, case.hv)
    else:
        g = F.logsigmoid(randn(b, t, case.hv)) / 16
    for h in case.zero_heads:
        g[:, :, h] = 0
    beta = torch.sigmoid(randn(b, t, case.hv))
    num_seqs = len(case.seqlens) if case.seqlens is not None else b
    h0 = randn(num_seqs, case.hv, d, d) if case.h0 else None
    cu = None
    if case.seqlens is not None:
        offsets = [0]
        for n in case.seqlens:
            offsets.append(offsets[-1] + n)
        cu = torch.tensor(offsets, dtype=case.cu_dtype, device=DEV)
    return dict(q=q, k=k, v=v, g=g, beta=beta, initial_state=h0,
                cu_seqlens=cu)


def gdn_reference(q, k, v, g, beta, scale, initial_state, cu_seqlens):
    """float64, token by token: S_t = e^{g_t} (I - b_t k_t k_t^T) S_{t-1} +
    b_t k_t v_t^T, o_t = scale S_t^T q_t. Returns (o, final_state)."""
    batch, tokens, hqk, d = q.shape
    hv, dv = v.shape[2], v.shape[3]
    if cu_seqlens is None:
        offsets = [i * tokens for i in range(batch + 1)]
    else:
        offsets = [int(x) for x in cu_seqlens.tolist()]
    rep = hv // hqk
    f64 = torch.float64
    qp = q.reshape(batch * tokens, hqk, d).to(f64).repeat_interleave(rep, 1)
    kp = k.reshape(batch * tokens, hqk, d).to(f64).repeat_interleave(rep, 1)
    vp = v.reshape(batch * tokens, hv, dv).to(f64)
    gp = g.reshape(batch * tokens, hv).to(f64)
    bp = beta.reshape(batch * tokens, hv).to(f64)
    o = torch.zeros(batch * tokens, hv, dv, dtype=f64, device=q.device)
    finals = []
    for n in range(len(offsets) - 1):
        if initial_state is not None:
            state = initial_state[n].to(f64).clone()
        else:
            state = torch.zeros(hv, d, dv, dtype=f64, device=q.device)
        for t in range(offsets[n], offsets[n + 1]):
            kt, vt = kp[t], vp[t]
            kts = torch.einsum("hk,hkv->hv", kt, state)
            bt = bp[t][:, None, None]
            state = (torch.exp(gp[t])[:, None, None]
                     * (state - bt * kt[:, :, None] * kts[:, None, :])
                     + bt * kt[:, :, None] * vt[:, None, :])
            o[t] = scale * torch.einsum("hkv,hk->hv", state, qp[t])
        finals.append(state)
    return o.reshape(batch, tokens, hv, dv), torch.stack(finals)


def reference_for(inputs):
    d = inputs["q"].shape[-1]
    return gdn_reference(inputs["q"], inputs["k"], inputs["v"], inputs["g"],
                         inputs["beta"], d ** -0.5, inputs["initial_state"],
                         inputs["cu_seqlens"])


# ---------------------------------------------------------------------------
# GDN tests

@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_gdn_matches_the_float64_reference(case):
    print(f"\nGDN case: {case.name}")
    inputs = make_inputs(case, seed=1)
    ref_o, ref_ht = reference_for(inputs)
    with torch.no_grad():
        o, ht = tlc.ops.chunk_gated_delta_rule(
            **inputs, output_final_state=case.final_state)
    assert o.shape == inputs["v"].shape and o.dtype == inputs["v"].dtype
    assert_close("o", o, ref_o, BAR)
    if case.final_state:
        assert ht.dtype == torch.float32 and ht.shape == ref_ht.shape
        assert_close("final_state", ht, ref_ht, BAR)
    else:
        assert ht is None

    # Into NaN-poisoned outputs: every element must be written.
    o2 = torch.full_like(o, float("nan"))
    ht2 = torch.full(ref_ht.shape, float("nan"), dtype=torch.float32,
                     device=DEV) if case.final_state else None
    tlc.ops.chunk_gated_delta_rule_into(o2, ht2, **inputs)
    assert_close("o (poisoned output)", o2, ref_o, BAR)
    if case.final_state:
        assert_close("final_state (poisoned output)", ht2, ref_ht, BAR)


def test_gdn_fresh_inputs_and_explicit_scale():
    case = CASES[1]
    for seed in (2, 3):
        inputs = make_inputs(case, seed)
        o, ht = tlc.ops.chunk_gated_delta_rule(**inputs, scale=0.3,
                                               output_final_state=True)
        ref_o, ref_ht = gdn_reference(
            inputs["q"], inputs["k"], inputs["v"], inputs["g"],
            inputs["beta"], 0.3, inputs["initial_state"],
            inputs["cu_seqlens"])
        assert_close(f"o (seed {seed}, scale 0.3)", o, ref_o, BAR)
        assert_close(f"final_state (seed {seed})", ht, ref_ht, BAR)


def test_gdn_beta_bf16_and_non_contiguous_inputs():
    case = CASES[0]
    inputs = make_inputs(case, seed=4)
    ref_o, ref_ht = reference_for(
        dict(inputs, beta=inputs["beta"].bfloat16().float()))
    # A non-contiguous q (same values), beta in bf16.
    # Every other element of a buffer twice as wide: strided whatever the
    # shape (a transpose of a size-1 head dim would still be contiguous).
    q = inputs["q"]
    q_t = torch.empty(*q.shape[:-1], 2 * q.shape[-1], dtype=q.dtype,
                      device=q.device)[..., ::2]
    q_t.copy_(q)
    assert not q_t.is_contiguous()
    o, ht = tlc.ops.chunk_gated_delta_rule(
        **dict(inputs, q=q_t, beta=inputs["beta"].bfloat16()),
        output_final_state=True)
    assert_close("o", o, ref_o, BAR)
    assert_close("final_state", ht, ref_ht, BAR)


def test_gdn_argument_errors_from_the_runtime():
    inputs = make_inputs(CASES[0], seed=5)
    with pytest.raises(tlc.ArgumentError, match="g and beta must be f32"):
        tlc.ops.chunk_gated_delta_rule(**dict(inputs, g=inputs["g"].half()))
    with pytest.raises(tlc.ArgumentError, match="must have shape"):
        tlc.ops.chunk_gated_delta_rule(**dict(inputs, k=inputs["k"][:, :50]))
    with pytest.raises(tlc.ArgumentError, match="is on the CPU"):
        tlc.ops.chunk_gated_delta_rule(**dict(inputs, v=inputs["v"].cpu()))
    with pytest.raises(tlc.ArgumentError, match="initial_state must have"):
        tlc.ops.chunk_gated_delta_rule(
            **dict(inputs, initial_state=torch.zeros(
                2, 2, 64, 64, device=DEV)))
    varlen = make_inputs(CASES[1], seed=5)
    bad = varlen["cu_seqlens"].clone()
    bad[-1] += 1
    with pytest.raises(tlc.ArgumentError, match="end at T"):
        tlc.ops.chunk_gated_delta_rule(**dict(varlen, cu_seqlens=bad))


GRAD_BAR, GATE_GRAD_BAR = 8e-3, 2e-2  # gdn.md: dq dk dv dh0; dg dbeta


def reference_grads(inputs, do, dht, scale=None):
    """Gradients of <o, do> + <final_state, dht> by torch autograd through
    the float64 token-by-token reference."""
    names = ["q", "k", "v", "g", "beta", "initial_state"]
    leaves = {n: (inputs[n].detach().double().requires_grad_(True)
                  if inputs[n] is not None else None) for n in names}
    d = inputs["q"].shape[-1]
    o, ht = gdn_reference(leaves["q"], leaves["k"], leaves["v"], leaves["g"],
                          leaves["beta"], d ** -0.5 if scale is None else
                          scale, leaves["initial_state"],
                          inputs["cu_seqlens"])
    loss = (o * do.double()).sum()
    if dht is not None:
        loss = loss + (ht * dht.double()).sum()
    loss.backward()
    return {n: (t.grad if t is not None else None) for n, t in leaves.items()}


GRAD_CASES = [c for c in CASES if "no final state" not in c.name]


@pytest.mark.parametrize("case", GRAD_CASES, ids=lambda c: c.name)
def test_gdn_backward_matches_autograd_of_the_reference(case):
    print(f"\nGDN backward case: {case.name}")
    inputs = make_inputs(case, seed=11)
    for name in ("q", "k", "v", "g", "beta", "initial_state"):
        if inputs[name] is not None:
            inputs[name].requires_grad_(True)
    o, ht = tlc.ops.chunk_gated_delta_rule(**inputs, output_final_state=True)
    do = torch.randn_like(o)
    dht = torch.randn_like(ht) / 8 if case.h0 else None
    outputs, seeds = [o], [do]
    if dht is not None:
        outputs.append(ht)
        seeds.append(dht)
    torch.autograd.backward(outputs, seeds)
    ref = reference_grads(inputs, do, dht)
    for name, bar in (("q", GRAD_BAR), ("k", GRAD_BAR), ("v", GRAD_BAR),
                      ("g", GATE_GRAD_BAR), ("beta", GATE_GRAD_BAR),
                      ("initial_state", GRAD_BAR)):
        if inputs[name] is None:
            continue
        grad = inputs[name].grad
        assert grad is not None and grad.dtype == inputs[name].dtype
        assert_close(f"d{name}", grad, ref[name], bar)


def test_gdn_backward_on_a_subset_of_inputs_and_deterministic():
    inputs = make_inputs(CASES[1], seed=12)
    v = inputs["v"].clone().requires_grad_(True)
    g = inputs["g"].clone().requires_grad_(True)
    grads = []
    for _ in range(2):
        o, _ = tlc.ops.chunk_gated_delta_rule(**dict(inputs, v=v, g=g))
        (dv, dg) = torch.autograd.grad(o.float().square().sum(), (v, g))
        grads.append((dv, dg))
    ref = reference_grads(dict(inputs, v=v, g=g),
                          2 * o.detach().float(), None)
    assert_close("dv", grads[0][0], ref["v"], GRAD_BAR)
    assert_close("dg", grads[0][1], ref["g"], GATE_GRAD_BAR)
    # Run to run the same bits (no atomics).
    assert torch.equal(grads[0][0], grads[1][0])
    assert torch.equal(grads[0][1], grads[1][1])
    # Under no_grad nothing is recorded.
    with torch.no_grad():
        o, _ = tlc.ops.chunk_gated_delta_rule(**dict(inputs, v=v, g=g))
    assert not o.requires_grad


def test_gdn_gradcheck_f32_tiny():
    # f32 inputs run the same kernels without 16-bit roundings; gradcheck's
    # finite differences in f32 want a coarse step and tolerance.
    gen = torch.Generator(device=DEV).manual_seed(13)
    t, d = 70, 64

    def randn(*shape):
        return torch.randn(*shape, generator=gen, device=DEV)
    q = F.normalize(randn(1, t, 1, d), dim=-1).requires_grad_(True)
    k = F.normalize(randn(1, t, 1, d), dim=-1).requires_grad_(True)
    v = randn(1, t, 2, d).requires_grad_(True)
    g = (F.logsigmoid(randn(1, t, 2)) / 16).requires_grad_(True)
    beta = torch.sigmoid(randn(1, t, 2)).requires_grad_(True)
    h0 = randn(1, 2, d, d).requires_grad_(True)

    def fn(q, k, v, g, beta, h0):
        return tlc.ops.chunk_gated_delta_rule(q, k, v, g, beta,
                                              initial_state=h0,
                                              output_final_state=True)
    assert torch.autograd.gradcheck(fn, (q, k, v, g, beta, h0), eps=1e-3,
                                    atol=2e-3, rtol=2e-2, fast_mode=True)


def test_training_example_loss_goes_down_like_the_recurrence():
    import importlib.util
    path = os.path.join(os.path.dirname(__file__), "..", "examples",
                        "gdn_train.py")
    spec = importlib.util.spec_from_file_location("gdn_train", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    ours, theirs = example.main(["--steps", "12", "--tokens", "130"])
    assert ours[-1] < 0.9 * ours[0]
    for a, b in zip(ours, theirs):
        assert abs(a - b) <= 2e-2 * b


def test_gdn_into_refuses_grad():
    inputs = make_inputs(CASES[0], seed=6)
    q = inputs["q"].clone().requires_grad_(True)
    o = torch.empty_like(inputs["v"])
    with pytest.raises(tlc.Error, match="records no gradients"):
        tlc.ops.chunk_gated_delta_rule_into(o, None, **dict(inputs, q=q))


# plan_segments' arguments after cu_seqlens: 2 value heads of K = 64 on 132
# multiprocessors, bf16 (two blocks each), the cost model deciding.
SPLIT = (2, 64, 132, "bf16", 0)


def test_gdn_plan_cache():
    inputs = make_inputs(CASES[1], seed=7)
    cu = inputs["cu_seqlens"]
    t = inputs["q"].shape[1]
    plan = tlc.ops._plan_for(torch, cu, 1, t, cu.device, SPLIT)
    assert tlc.ops._plan_for(torch, cu, 1, t, cu.device, SPLIT) is plan
    # Another tensor with the same content: the same device plan.
    assert tlc.ops._plan_for(torch, cu.clone(), 1, t, cu.device, SPLIT) is plan
    # Modified in place: planned again.
    cu2 = cu.clone()
    tlc.ops._plan_for(torch, cu2, 1, t, cu.device, SPLIT)
    cu2[1] += 1
    other = tlc.ops._plan_for(torch, cu2, 1, t, cu.device, SPLIT)
    assert other is not plan
    assert other.cu.tolist() == cu2.tolist()
    assert plan.chunk_indices.dtype == torch.int32
    expected = tlc.ops.plan_chunks(cu.tolist())
    assert [tuple(p) for p in plan.chunk_indices.tolist()] == \
        expected.chunk_indices
    assert plan.chunk_offsets.tolist() == expected.chunk_offsets
    assert plan.segment_offsets is None  # too short to split
    # Another split: another plan, whose chunk lists index the segments.
    forced = tlc.ops._plan_for(torch, cu, 1, t, cu.device, SPLIT[:4] + (1,))
    assert forced is not plan
    segments, firsts = tlc.ops.plan_segments(cu.tolist(), *SPLIT[:4], 1)
    assert forced.segment_offsets.tolist() == segments
    assert forced.sequence_segments.tolist() == firsts
    # 130 tokens are three chunks: 64 + 64 + 2.
    assert segments == [0, 1, 38, 102, 166, 230, 232]
    assert firsts == [0, 1, 2, 3, 6]
    assert forced.chunk_offsets.tolist() == \
        tlc.ops.plan_chunks(segments).chunk_offsets


@pytest.mark.parametrize("segment_chunks", [-1, 0, 3])
def test_gdn_context_parallel_matches_the_reference(segment_chunks):
    # Long sequences of 4 value heads leave the device idle, so the cost
    # model splits them (0); 3-chunk segments are forced; -1 never splits.
    # Unnormalised keys and a never-decaying head: the split is exact, no
    # gate-driven truncation.
    case = Case("context parallel: varlen 3000, 1, 2100, GVA 2, g=0 head, "
                "unnormalised keys, K=V=128", seqlens=[3000, 1, 2100],
                hqk=2, hv=4, d=128, zero_heads=(1,), normalize=False)
    inputs = make_inputs(case, seed=13)
    split = (4, 128, tlc.ops._multiprocessor_count(torch, inputs["q"].device),
             "bf16", segment_chunks)
    plan = tlc.ops.plan_segments(inputs["cu_seqlens"].tolist(), *split[:4],
                                 segment_chunks)
    print(f"\nsegment_chunks {segment_chunks}: "
          f"{'no split' if plan is None else len(plan[0]) - 1} segments")
    assert (plan is None) == (segment_chunks < 0)
    ref_o, ref_ht = reference_for(inputs)
    o = torch.full_like(inputs["v"], float("nan"))
    ht = torch.full(ref_ht.shape, float("nan"), dtype=torch.float32,
                    device=DEV)
    with torch.no_grad():
        tlc.ops.chunk_gated_delta_rule_into(o, ht, **inputs,
                                            segment_chunks=segment_chunks)
    assert_close("o", o, ref_o, BAR)
    assert_close("final_state", ht, ref_ht, BAR)


def _fla_forward():
    try:
        from fla.ops.gated_delta_rule.chunk import chunk_gated_delta_rule_fwd
    except Exception as e:  # ImportError, or fla failing to import triton bits
        pytest.skip(f"FLA is not importable ({type(e).__name__}: {e}); "
                    "install the carried wheels (tools/dev/gpu-python.sh)")
    return chunk_gated_delta_rule_fwd


@pytest.mark.parametrize("case", [c for c in CASES
                                  if c.dtype == torch.bfloat16],
                         ids=lambda c: c.name)
def test_gdn_matches_fla(case):
    fla_fwd = _fla_forward()
    print(f"\nGDN vs FLA: {case.name}")
    inputs = make_inputs(case, seed=8)
    d = inputs["q"].shape[-1]
    cu = inputs["cu_seqlens"]
    with torch.no_grad():
        o, ht = tlc.ops.chunk_gated_delta_rule(**inputs,
                                               output_final_state=True)
        out = fla_fwd(q=inputs["q"], k=inputs["k"], v=inputs["v"],
                      g=inputs["g"], beta=inputs["beta"], scale=d ** -0.5,
                      initial_state=inputs["initial_state"],
                      output_final_state=True,
                      cu_seqlens=cu.long() if cu is not None else None)
    fla_o, fla_ht = out[1], out[3]
    ref_o, ref_ht = reference_for(inputs)
    fla_o_err, fla_ht_err = rel_rms(fla_o, ref_o), rel_rms(fla_ht, ref_ht)
    print(f"  FLA vs reference: o {fla_o_err:.2e}, final state "
          f"{fla_ht_err:.2e}")
    assert_close("o vs reference", o, ref_o, BAR)
    assert_close("final_state vs reference", ht, ref_ht, BAR)
    # Two bf16 computations, each within the bar of the reference, differ by
    # at most about twice the bar; where FLA itself misses the bar, the
    # reference comparison above is the one that counts.
    if fla_o_err <= BAR and fla_ht_err <= BAR:
        assert_close("o vs FLA", o, fla_o, 2 * BAR)
        assert_close("final_state vs FLA", ht, fla_ht, 2 * BAR)
    else:
        print("  FLA misses the bar against the reference here: tlc vs FLA "
              f"o {rel_rms(o, fla_o):.2e} (not asserted)")


# ---------------------------------------------------------------------------
# Generic kernels through tlc.load

def kernel(variant, name):
    return tlc.load(tlc.kernels_dir() / variant / f"{name}.ptx")


@pytest.mark.parametrize("m,n,k", [(200, 130, 96), (512, 512, 512),
                                   (1, 1, 1)])
def test_gemm_bf16_f32(m, n, k):
    gemm = kernel("gemm_bf16_f32", "gemm")
    a = torch.randn(m, k, device=DEV).bfloat16()
    b = torch.randn(k, n, device=DEV).bfloat16()
    c = torch.full((m, n), float("nan"), device=DEV)
    gemm(a, b, c)
    assert_close(f"gemm {m}x{n}x{k}", c, a.double() @ b.double(), 1e-5)


def test_softmax():
    softmax = kernel("softmax", "softmax")
    bn = softmax.constants.get("BN", 1024)
    x = (3 * torch.randn(100, min(bn, 1000), device=DEV)).bfloat16()
    y = torch.full_like(x, float("nan"))
    softmax(x, y)
    assert_close("softmax", y, torch.softmax(x.double(), dim=1), BAR)


def test_axpy_on_a_side_stream_and_scalar_types():
    axpy = kernel("elementwise", "axpy")
    x = torch.randn(300, 500, device=DEV).bfloat16()
    y = torch.randn(300, 500, device=DEV).bfloat16()
    out = torch.full_like(x, float("nan"))
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        axpy(x, y, out, 2)  # int for the f32 alpha; torch's current stream
    side.synchronize()
    ref = 2 * x.double() + y.double()
    assert_close("axpy (side stream)", out, ref, BAR)
    out.fill_(float("nan"))
    axpy(x, y, out, 0.5, stream=side)
    side.synchronize()
    assert_close("axpy (stream=)", out, 0.5 * x.double() + y.double(), BAR)


def test_kernel_argument_errors_with_torch_tensors():
    gemm = kernel("gemm_bf16_f32", "gemm")
    a = torch.randn(64, 32, device=DEV).bfloat16()
    b = torch.randn(32, 64, device=DEV).bfloat16()
    c = torch.empty(64, 64, device=DEV)
    with pytest.raises(tlc.ArgumentError,
                       match=r"argument 'B' \(param 1\): dimension 0 is 'K'"):
        gemm(a, b[:16], c)
    with pytest.raises(tlc.ArgumentError, match=r"argument 'A' \(param 0\): "
                                                r"expected dtype bf16, got f32"):
        gemm(a.float(), b, c)
    with pytest.raises(tlc.ArgumentError,
                       match=r"argument 'C' \(param 2\): is on the CPU"):
        gemm(a, b, c.cpu())
    bm, bn, sms = (gemm.constants[k] for k in ("BM", "BN", "SMS"))
    tiles = -(-64 // bm) * -(-64 // bn)  # the persistent grid: one block a tile
    assert gemm.check(a, b, c) == (min(sms, tiles), 1, 1)


# ---------------------------------------------------------------------------
# CUDA graphs

@pytest.mark.parametrize("segment_chunks", [0, 1])
def test_gdn_in_a_cuda_graph(segment_chunks):
    # 1: context parallelism's launches captured too.
    case = Case("graph: varlen 1,37,64,130, GVA 2, K=V=128",
                seqlens=[1, 37, 64, 130], hqk=2, hv=4, d=128)
    static = make_inputs(case, seed=10)
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream), torch.no_grad():
        for _ in range(2):  # warm-up: plans, module loads
            tlc.ops.chunk_gated_delta_rule(**static, output_final_state=True,
                                           segment_chunks=segment_chunks)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph), torch.no_grad():
        o, ht = tlc.ops.chunk_gated_delta_rule(
            **static, output_final_state=True, segment_chunks=segment_chunks)
    for seed in (11, 12):
        fresh = make_inputs(case, seed)
        for name in ("q", "k", "v", "g", "beta", "initial_state"):
            static[name].copy_(fresh[name])
        o.fill_(float("nan"))
        ht.fill_(float("nan"))
        graph.replay()
        torch.cuda.synchronize()
        ref_o, ref_ht = reference_for(fresh)
        assert_close(f"o (graph replay, seed {seed})", o, ref_o, BAR)
        assert_close(f"final_state (graph replay, seed {seed})", ht, ref_ht,
                     BAR)
        eager_o, eager_ht = tlc.ops.chunk_gated_delta_rule(
            **fresh, output_final_state=True, segment_chunks=segment_chunks)
        same = torch.equal(o, eager_o) and torch.equal(ht, eager_ht)
        print(f"  graph replay == eager call bit for bit: {same}")
        assert rel_rms(o, eager_o) < 1e-6 and rel_rms(ht, eager_ht) < 1e-6


def test_gdn_forward_and_backward_in_a_cuda_graph():
    case = CASES[1]
    inputs = make_inputs(case, seed=21)
    names = ("q", "k", "v", "g", "beta", "initial_state")
    leaves = {n: inputs[n].clone().requires_grad_(True) for n in names}
    do = torch.randn_like(inputs["v"])
    dht = torch.randn_like(inputs["initial_state"]) / 8

    def step():
        o, ht = tlc.ops.chunk_gated_delta_rule(
            *(leaves[n] for n in names[:5]),
            initial_state=leaves["initial_state"], output_final_state=True,
            cu_seqlens=inputs["cu_seqlens"])
        return torch.autograd.grad((o, ht), [leaves[n] for n in names],
                                   (do, dht))

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(2):
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        captured = step()
    # New contents in the same tensors, then replay.
    fresh = make_inputs(case, seed=22)
    with torch.no_grad():
        for n in names:
            leaves[n].copy_(fresh[n])
    graph.replay()
    torch.cuda.synchronize()
    ref = reference_grads(dict(fresh, cu_seqlens=inputs["cu_seqlens"]), do,
                          dht)
    for n, grad in zip(names, captured):
        bar = GATE_GRAD_BAR if n in ("g", "beta") else GRAD_BAR
        assert_close(f"d{n} (graph replay)", grad, ref[n], bar)


def test_kernel_in_a_cuda_graph():
    gemm = kernel("gemm_bf16_f32", "gemm")
    a = torch.randn(256, 128, device=DEV).bfloat16()
    b = torch.randn(128, 192, device=DEV).bfloat16()
    c = torch.empty(256, 192, device=DEV)
    gemm(a, b, c)  # load the module before capture
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        gemm(a, b, c)
    for _ in range(2):
        a.copy_(torch.randn_like(a, dtype=torch.float32))
        b.copy_(torch.randn_like(b, dtype=torch.float32))
        c.fill_(float("nan"))
        graph.replay()
        torch.cuda.synchronize()
        assert_close("gemm (graph replay)", c, a.double() @ b.double(), 1e-5)


def test_environment_report():
    """Not a check: what the run used (shown with -s)."""
    print(f"\ntorch {torch.__version__}, {torch.cuda.get_device_name()}, "
          f"runtime {tlc.library_path()}, kernels {tlc.kernels_dir()}, "
          f"TLC_KERNELS={os.environ.get('TLC_KERNELS')}")
