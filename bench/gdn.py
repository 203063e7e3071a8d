#!/usr/bin/env python3
"""GDN benchmark: tlc.ops.chunk_gated_delta_rule against FLA's Triton
chunk_gated_delta_rule_fwd (and, with --backward, tlc's backward against
FLA's chunk_gated_delta_rule_bwd), on the rows of the benchmark grid
(../shared/bench/gdn_grid.json), in one process on one GPU.

Inputs follow the grid's recipe: packed varlen (B = 1, int32 cu_seqlens);
q, k L2-normalised randn bf16 [1, T, h_qk, 128]; v randn bf16
[1, T, h_v, 128]; g = logsigmoid(randn) / 16 [1, T, h_v] with 25% of the
value heads (random) at g = 0; beta = sigmoid(randn); initial_state randn f32
[N, h_v, 128, 128]; output_final_state = True.

Timing: each whole forward call is captured in a CUDA graph (after eager
warm-up calls) and replayed; the time is the median of >= 100 replays after
warm-up replays, each between two CUDA events. FLA is the anchor.

    python3 bench/gdn.py [--json PATH] [--rows SUBSTRING ...] [--replays N]
    python3 bench/gdn.py --backward [--with-forward-rows] ...

--backward times the whole backward call (tlc: what the autograd Function's
backward runs: the state recompute and the gradient kernels; FLA:
chunk_gated_delta_rule_bwd from its forward's gate cumsum and A, with its
Hopper guard lifted for timing only: FLA issue #640), given do = randn bf16
and dht = randn / 8, on the grid's backward rows (fixed splits) and, with
--with-forward-rows, the forward rows too.

Needs torch, a CUDA GPU, the tlc package (PYTHONPATH=python) and, for the
anchor, FLA (tools/dev/gpu-python.sh installs the carried wheels).
"""

import argparse
import datetime
import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))

HEAD_DIM = 128
CHUNK = 64

# The grid's forward rows as of 2026-11 (name, h_qk, h_v, sequence lengths,
# FLA measured ms, FlashQLA published ms, FlashInfer published ms), used only
# when the grid file cannot be found (the GPU box has no ../shared).
_EMBEDDED_ROWS = [
    ("TP8/1x32768", 2, 8, [32768], 0.902, 0.32, 1.655),
    ("TP8/1x8192", 2, 8, [8192], 0.2336, 0.119, 0.417),
    ("TP8/16384+16384", 2, 8, [16384] * 2, 0.6164, 0.301, 0.83),
    ("TP8/4096x8", 2, 8, [4096] * 8, 0.4786, 0.203, 0.2),
    ("TP8/1024x8", 2, 8, [1024] * 8, 0.1315, 0.061, 0.058),
    ("TP2/1x32768", 8, 32, [32768], 1.9009, 0.885, 1.555),
    ("TP2/1x8192", 8, 32, [8192], 0.4749, 0.28, 0.394),
    ("TP2/16384+16384", 8, 32, [16384] * 2, 1.9039, 0.773, 0.778),
    ("TP2/4096x8", 8, 32, [4096] * 8, 1.923, 0.612, 0.424),
    ("TP2/1024x8", 8, 32, [1024] * 8, 0.5012, 0.178, 0.117),
    ("TP1-64/1x32768", 16, 64, [32768], 3.4425, 1.521, 1.552),
    ("TP1-64/1x8192", 16, 64, [8192], 0.8325, 0.397, 0.392),
    ("TP1-64/16384+16384", 16, 64, [16384] * 2, 3.4367, 1.196, 0.825),
    ("TP1-64/4096x8", 16, 64, [4096] * 8, 3.4852, 1.217, 0.841),
    ("TP1-64/1024x8", 16, 64, [1024] * 8, 0.8796, 0.341, 0.232),
    ("Sym32/1x32768", 32, 32, [32768], 1.9572, 0.887, 1.556),
    ("Sym32/1x8192", 32, 32, [8192], 0.4964, 0.283, 0.395),
    ("Sym32/16384+16384", 32, 32, [16384] * 2, 1.9552, 0.789, 0.781),
    ("Sym32/4096x8", 32, 32, [4096] * 8, 1.9794, 0.639, 0.452),
    ("Sym32/1024x8", 32, 32, [1024] * 8, 0.5243, 0.181, 0.126),
]


def find_grid(explicit):
    candidates = [explicit, os.environ.get("TLC_GDN_GRID"),
                  ROOT.parent / "shared" / "bench" / "gdn_grid.json",
                  ROOT / ".bundle" / "gdn_grid.json",
                  ROOT / "shared" / "bench" / "gdn_grid.json"]
    for path in candidates:
        if path and Path(path).is_file():
            return Path(path)
    return None


def load_rows(grid_path):
    if grid_path is None:
        return [dict(name=n, h_qk=hqk, h_v=hv, seqlens=s,
                     fla_fwd_ms_measured=fla, flashqla_fwd_ms_published=fq,
                     flashinfer_fwd_ms_published=fi)
                for n, hqk, hv, s, fla, fq, fi in _EMBEDDED_ROWS]
    return json.loads(Path(grid_path).read_text())["forward"]


def make_inputs(torch, row, seed):
    import torch.nn.functional as F
    gen = torch.Generator(device="cuda").manual_seed(seed)
    seqlens = row["seqlens"]
    tokens, hqk, hv, d = sum(seqlens), row["h_qk"], row["h_v"], HEAD_DIM

    def randn(*shape):
        return torch.randn(*shape, generator=gen, device="cuda")

    q = F.normalize(randn(1, tokens, hqk, d), p=2, dim=-1).bfloat16()
    k = F.normalize(randn(1, tokens, hqk, d), p=2, dim=-1).bfloat16()
    v = randn(1, tokens, hv, d).bfloat16()
    g = F.logsigmoid(randn(1, tokens, hv)) / 16
    zero = torch.randperm(hv, generator=gen, device="cuda")[:max(1, hv // 4)]
    g[:, :, zero] = 0
    beta = torch.sigmoid(randn(1, tokens, hv))
    h0 = randn(len(seqlens), hv, d, d)
    offsets = [0]
    for n in seqlens:
        offsets.append(offsets[-1] + n)
    cu = torch.tensor(offsets, dtype=torch.int32, device="cuda")
    return dict(q=q, k=k, v=v, g=g, beta=beta, initial_state=h0,
                cu_seqlens=cu, scale=d ** -0.5)


def time_in_graph(torch, fn, replays, warmup):
    """Median ms of `replays` graph replays of fn(), and fn's outputs."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = fn()
    for _ in range(warmup):
        graph.replay()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(replays)]
    stops = [torch.cuda.Event(enable_timing=True) for _ in range(replays)]
    for start, stop in zip(starts, stops):
        start.record()
        graph.replay()
        stop.record()
    torch.cuda.synchronize()
    times = [a.elapsed_time(b) for a, b in zip(starts, stops)]
    return statistics.median(times), out, graph


def rel_rms(x, ref):
    x, ref = x.double(), ref.double()
    return ((x - ref).norm() / ref.norm().clamp_min(1e-300)).item()


def fla_forward():
    try:
        from fla.ops.gated_delta_rule.chunk import chunk_gated_delta_rule_fwd
    except Exception as e:
        return None, f"{type(e).__name__}: {e}"
    try:
        from fla.ops.utils import prepare_chunk_indices
    except Exception:
        prepare_chunk_indices = None
    return (chunk_gated_delta_rule_fwd, prepare_chunk_indices), None


def make_fla_call(torch, fla, inputs):
    """A no-argument callable running FLA's forward on `inputs`, with the
    chunk indices prepared ahead (so capture needs no host work). Tries
    int32 offsets (the grid's recipe) first, then int64."""
    fwd, prepare = fla
    last_error = None
    for dtype in (torch.int32, torch.int64):
        cu = inputs["cu_seqlens"].to(dtype)
        kwargs = dict(q=inputs["q"], k=inputs["k"], v=inputs["v"],
                      g=inputs["g"], beta=inputs["beta"],
                      scale=inputs["scale"],
                      initial_state=inputs["initial_state"],
                      output_final_state=True, cu_seqlens=cu)
        if prepare is not None:
            kwargs["chunk_indices"] = prepare(cu, CHUNK)
        try:
            fwd(**kwargs)
            torch.cuda.synchronize()
        except TypeError:
            kwargs.pop("chunk_indices", None)
            try:
                fwd(**kwargs)
                torch.cuda.synchronize()
            except Exception as e:  # noqa: BLE001
                last_error = e
                continue
        except Exception as e:  # noqa: BLE001
            last_error = e
            continue

        def call(kwargs=kwargs):
            out = fwd(**kwargs)
            return out[1], out[3]
        return call, str(dtype).replace("torch.", "")
    raise RuntimeError(f"FLA's forward failed: {last_error}")


def fla_backward():
    try:
        import fla.ops.common.chunk_o as chunk_o
        from fla.ops.gated_delta_rule.chunk import (
            chunk_gated_delta_rule_bwd, chunk_gated_delta_rule_fwd)
    except Exception as e:
        return None, f"{type(e).__name__}: {e}"
    # FLA refuses its gated backward on Hopper with Triton 3.4-3.7.0 (a
    # Triton miscompile, FLA #640): lifted for timing only; its outputs are
    # never used as a reference.
    chunk_o.TRITON_ABOVE_3_7_1 = True
    return (chunk_gated_delta_rule_fwd, chunk_gated_delta_rule_bwd), None


def make_fla_backward_call(torch, fla, inputs, do, dht):
    """A no-argument callable running FLA's backward from its forward's
    chunk-local gate cumsum and A (computed once, outside the timing)."""
    fwd, bwd = fla
    _, prepare = fla_forward()[0] or (None, None)
    cu = inputs["cu_seqlens"].long()
    extra = {}
    if prepare is not None:
        extra["chunk_indices"] = prepare(cu, CHUNK)
    g, _, A, _, _, _ = fwd(q=inputs["q"], k=inputs["k"], v=inputs["v"],
                           g=inputs["g"], beta=inputs["beta"],
                           scale=inputs["scale"],
                           initial_state=inputs["initial_state"],
                           output_final_state=True, cu_seqlens=cu, **extra)

    def call():
        out = bwd(q=inputs["q"], k=inputs["k"], v=inputs["v"], g=g,
                  beta=inputs["beta"], A=A, scale=inputs["scale"],
                  initial_state=inputs["initial_state"], do=do, dht=dht,
                  cu_seqlens=cu, **extra)
        return out[:6]
    return call


def run_backward(torch, tlc, rows, args):
    """Times tlc's and FLA's backward on `rows`; returns the result rows."""
    fla, why = (None, "--no-fla") if args.no_fla else fla_backward()
    if fla is None:
        print(f"FLA's backward is not available ({why}): timing tlc only")
    print(f"{'name':<22} {'T':>6} {'N':>2} {'hqk/hv':>6} {'tlc ms':>8} "
          f"{'FLA ms':>8} {'FLA/tlc':>8} {'FlashQLA':>8} {'grid FLA':>8}")
    results = []
    for i, row in enumerate(rows):
        inputs = make_inputs(torch, row, seed=2000 + i)
        gen = torch.Generator(device="cuda").manual_seed(3000 + i)
        do = torch.randn(inputs["v"].shape, generator=gen,
                         device="cuda").bfloat16()
        dht = torch.randn(inputs["initial_state"].shape, generator=gen,
                          device="cuda") / 8

        def tlc_call(inp=inputs):
            return tlc.ops._backward(
                torch, inp["q"], inp["k"], inp["v"], inp["g"], inp["beta"],
                inp["initial_state"], do, dht, inp["scale"],
                inp["cu_seqlens"])

        result = dict(name=row["name"], h_qk=row["h_qk"], h_v=row["h_v"],
                      seqlens=row["seqlens"], tokens=sum(row["seqlens"]),
                      flashqla_bwd_ms_published=row.get(
                          "flashqla_bwd_ms_published"),
                      fla_bwd_ms_published=row.get("fla_bwd_ms_published"),
                      tlc_ms=None, fla_ms=None, fla_over_tlc=None,
                      error=None)
        graphs = []
        try:
            ms, _, graph = time_in_graph(torch, tlc_call, args.replays,
                                         args.warmup)
            graphs.append(graph)
            result["tlc_ms"] = ms
            if fla is not None:
                fla_call = make_fla_backward_call(torch, fla, inputs, do, dht)
                ms, _, graph = time_in_graph(torch, fla_call, args.replays,
                                             args.warmup)
                graphs.append(graph)
                result["fla_ms"] = ms
                result["fla_over_tlc"] = ms / result["tlc_ms"]
        except Exception as e:  # noqa: BLE001 - report and go on
            result["error"] = f"{type(e).__name__}: {e}"
            print(f"{row['name']}: ERROR {result['error']}", flush=True)
        if args.breakdown and result["error"] is None:
            result["tlc_kernels_ms"] = kernel_breakdown(torch, tlc_call)
        results.append(result)
        print(f"{timing_columns(row, result, 22)} "
              f"{fmt(result['flashqla_bwd_ms_published']):>8} "
              f"{fmt(result['fla_bwd_ms_published']):>8}", flush=True)
        for name, ms in result.get("tlc_kernels_ms", {}).items():
            print(f"    {ms:9.4f} ms  {name[:90]}")
        del graphs, inputs, do, dht, tlc_call
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
    return results


def kernel_breakdown(torch, fn, calls=10):
    """Device time per kernel name (ms per call) of `fn`, from
    torch.profiler's CUDA activity over `calls` eager calls."""
    from torch.profiler import ProfilerActivity, profile
    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(calls):
            fn()
        torch.cuda.synchronize()
    totals = {}
    for event in prof.events():
        if event.device_type == torch.autograd.DeviceType.CUDA:
            us = getattr(event, "device_time", None)
            if us is None:
                us = event.cuda_time
            totals[event.name] = totals.get(event.name, 0.0) + us
    return {name: us / calls / 1000 for name, us in
            sorted(totals.items(), key=lambda kv: -kv[1])}


def fmt(x, digits=3):
    return "-" if x is None else f"{x:.{digits}f}"


def timing_columns(row, result, name_width):
    """The columns every table row starts with: name, T, N, heads, tlc ms,
    FLA ms, FLA/tlc."""
    return (f"{row['name']:<{name_width}} {result['tokens']:>6} "
            f"{len(row['seqlens']):>2} "
            f"{str(row['h_qk']) + '/' + str(row['h_v']):>6} "
            f"{fmt(result['tlc_ms']):>8} {fmt(result['fla_ms']):>8} "
            f"{fmt(result['fla_over_tlc'], 2):>8}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grid", help="gdn_grid.json (default: "
                        "../shared/bench/gdn_grid.json or $TLC_GDN_GRID)")
    parser.add_argument("--json", help="write the rows to this file")
    parser.add_argument("--rows", nargs="*", default=None,
                        help="only rows whose name contains one of these")
    parser.add_argument("--replays", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--no-fla", action="store_true",
                        help="time tlc only")
    parser.add_argument("--segment-chunks", type=int, nargs="+", default=[0],
                        help="tlc's segment_chunks (0: the cost model "
                             "decides, -1: no split, N: N-chunk segments); "
                             "the first gives the row's tlc time, the "
                             "others are timed beside it")
    parser.add_argument("--backward", action="store_true",
                        help="time the backward on the grid's backward rows")
    parser.add_argument("--with-forward-rows", action="store_true",
                        help="with --backward: the forward rows too")
    parser.add_argument("--breakdown", action="store_true",
                        help="also print each tlc kernel's device time "
                             "(torch.profiler over 10 eager calls)")
    args = parser.parse_args()
    if args.replays < 100:
        print(f"note: {args.replays} replays (the grid's method asks for at "
              "least 100)")

    import torch
    import tlc
    import tlc.ops
    if not torch.cuda.is_available():
        sys.exit("bench/gdn.py: no CUDA GPU available to torch")

    grid_path = find_grid(args.grid)
    rows = load_rows(grid_path)
    if args.backward:
        if grid_path is None:
            sys.exit("bench/gdn.py --backward: the grid file is needed (its "
                     "backward rows); pass --grid or set TLC_GDN_GRID")
        backward_rows = json.loads(Path(grid_path).read_text())["backward"]
        rows = backward_rows + (rows if args.with_forward_rows else [])
    if args.rows:
        rows = [r for r in rows if any(s in r["name"] for s in args.rows)]
    print(f"grid: {grid_path or 'embedded copy of the forward rows (grid file not found)'}")

    fla, why = (None, "--no-fla") if args.no_fla else fla_forward()
    if fla is None:
        print(f"FLA is not available ({why}): timing tlc only")

    device = torch.cuda.get_device_name()
    versions = dict(torch=torch.__version__)
    for name in ("triton", "fla"):
        try:
            versions[name] = __import__(name).__version__
        except Exception:
            versions[name] = None
    print(f"device: {device}; versions: {versions}; tlc runtime "
          f"{tlc.library_path()}; kernels {tlc.kernels_dir()}")

    if args.backward:
        results = run_backward(torch, tlc, rows, args)
        write_report(args, device, versions, grid_path, results,
                     direction="backward")
        return 1 if any(r["error"] for r in results) else 0

    results = []
    header = (f"{'name':<20} {'T':>6} {'N':>2} {'hqk/hv':>6} {'tlc ms':>8} "
              f"{'FLA ms':>8} {'FLA/tlc':>8} {'grid FLA':>8} "
              f"{'FlashQLA':>8} {'FlashInf':>8} {'o diff':>8}")
    print(header)
    for i, row in enumerate(rows):
        inputs = make_inputs(torch, row, seed=1000 + i)

        def tlc_call(inp=inputs, split=args.segment_chunks[0]):
            with torch.no_grad():
                return tlc.ops.chunk_gated_delta_rule(
                    inp["q"], inp["k"], inp["v"], inp["g"], inp["beta"],
                    scale=inp["scale"], initial_state=inp["initial_state"],
                    output_final_state=True, cu_seqlens=inp["cu_seqlens"],
                    segment_chunks=split)

        result = dict(name=row["name"], h_qk=row["h_qk"], h_v=row["h_v"],
                      seqlens=row["seqlens"], tokens=sum(row["seqlens"]),
                      fla_fwd_ms_measured=row.get("fla_fwd_ms_measured"),
                      flashqla_fwd_ms_published=row.get(
                          "flashqla_fwd_ms_published"),
                      flashinfer_fwd_ms_published=row.get(
                          "flashinfer_fwd_ms_published"),
                      tlc_ms=None, fla_ms=None, fla_over_tlc=None,
                      o_rel_diff=None, final_state_rel_diff=None,
                      fla_cu_seqlens_dtype=None, error=None)
        tlc_graph = fla_graph = fla_call = o = ht = fo = fht = None
        try:
            tlc_ms, (o, ht), tlc_graph = time_in_graph(
                torch, tlc_call, args.replays, args.warmup)
            result["tlc_ms"] = tlc_ms
            result["segment_chunks"] = args.segment_chunks[0]
            for split in args.segment_chunks[1:]:
                ms, _, graph = time_in_graph(
                    torch, lambda s=split: tlc_call(split=s), args.replays,
                    args.warmup)
                del graph
                result.setdefault("tlc_ms_by_segment_chunks", {})[split] = ms
            if fla is not None:
                fla_call, cu_dtype = make_fla_call(torch, fla, inputs)
                result["fla_cu_seqlens_dtype"] = cu_dtype
                fla_ms, (fo, fht), fla_graph = time_in_graph(
                    torch, fla_call, args.replays, args.warmup)
                result["fla_ms"] = fla_ms
                result["fla_over_tlc"] = fla_ms / tlc_ms
                # The graphs' last replays computed both on the same inputs.
                result["o_rel_diff"] = rel_rms(o, fo)
                result["final_state_rel_diff"] = rel_rms(ht, fht)
        except Exception as e:  # noqa: BLE001 - report and go on
            result["error"] = f"{type(e).__name__}: {e}"
            print(f"{row['name']}: ERROR {result['error']}", flush=True)
        if args.breakdown and result["error"] is None:
            result["tlc_kernels_ms"] = kernel_breakdown(torch, tlc_call)
        results.append(result)
        print(f"{timing_columns(row, result, 20)} "
              f"{fmt(result['fla_fwd_ms_measured']):>8} "
              f"{fmt(result['flashqla_fwd_ms_published']):>8} "
              f"{fmt(result['flashinfer_fwd_ms_published']):>8} "
              f"{fmt(result['o_rel_diff'], 4):>8}", flush=True)
        for split, ms in result.get("tlc_ms_by_segment_chunks", {}).items():
            print(f"    segment_chunks {split:>4}: tlc {ms:.3f} ms")
        for name, ms in result.get("tlc_kernels_ms", {}).items():
            print(f"    {ms:9.4f} ms  {name[:90]}")
        del tlc_graph, fla_graph, fla_call, tlc_call, inputs, o, ht, fo, fht
        torch.cuda.synchronize()
        torch.cuda.empty_cache()

    print("\nFLA/tlc > 1 means tlc is faster. 'grid FLA' is FLA measured "
          "earlier on an H200 (the grid file); FlashQLA and FlashInfer are "
          "published numbers. 'o diff' = relative RMS of tlc's o against "
          "FLA's.")
    write_report(args, device, versions, grid_path, results,
                 direction="forward")
    return 1 if any(r["error"] for r in results) else 0


def write_report(args, device, versions, grid_path, results, direction):
    if not args.json:
        return
    report = dict(
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(),
        direction=direction, device=device, versions=versions,
        grid=str(grid_path) if grid_path else "embedded",
        method=f"CUDA-graph replay, median of {args.replays} replays "
               f"after {args.warmup} warm-up replays",
        fla_available=any(r.get("fla_ms") is not None for r in results),
        rows=results)
    Path(args.json).write_text(json.dumps(report, indent=1))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    sys.exit(main())
