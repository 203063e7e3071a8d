"""The GDN forward anchor: FLA's Triton chunk_gated_delta_rule_fwd (fla-core,
carried as a wheel; see ../shared/brief/gpu-box.md), timed on the inputs of
../shared/bench/gdn_grid.json's recipe, median of 50 CUDA-event timings after
warm-up. Usage: bench_fla_gdn.py T H_QK H_V [K]"""
import sys

import torch
import torch.nn.functional as F
from fla.ops.gated_delta_rule.chunk import chunk_gated_delta_rule_fwd

T, HQK, HV = (int(a) for a in sys.argv[1:4])
K = int(sys.argv[4]) if len(sys.argv) > 4 else 128
torch.manual_seed(0)
dev = "cuda"
q = F.normalize(torch.randn(1, T, HQK, K, device=dev), dim=-1).bfloat16()
k = F.normalize(torch.randn(1, T, HQK, K, device=dev), dim=-1).bfloat16()
v = torch.randn(1, T, HV, K, device=dev).bfloat16()
g = F.logsigmoid(torch.randn(1, T, HV, device=dev)) / 16
beta = torch.sigmoid(torch.randn(1, T, HV, device=dev))
h0 = torch.randn(1, HV, K, K, device=dev)
cu = torch.tensor([0, T], device=dev, dtype=torch.long)
args = dict(q=q, k=k, v=v, g=g, beta=beta, scale=K ** -0.5, initial_state=h0,
            output_final_state=True, cu_seqlens=cu)
for _ in range(5):
    chunk_gated_delta_rule_fwd(**args)
times = []
for _ in range(50):
    start = torch.cuda.Event(enable_timing=True)
    stop = torch.cuda.Event(enable_timing=True)
    start.record()
    chunk_gated_delta_rule_fwd(**args)
    stop.record()
    stop.synchronize()
    times.append(start.elapsed_time(stop))
ms = sorted(times)[len(times) // 2]
print(f"BENCH FLA chunk_gated_delta_rule_fwd T={T} Hqk={HQK} Hv={HV} K=V={K}: "
      f"{ms:.3f} ms (median of 50)")
