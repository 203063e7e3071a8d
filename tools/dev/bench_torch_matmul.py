"""The GEMM anchor: torch.matmul (cuBLAS) at the sizes tlc's GEMM is timed at,
measured with CUDA events, median of 20 after warm-up (run on the GPU box)."""
import torch

for (m, n, k) in [(4096, 4096, 4096), (8192, 8192, 8192), (8192, 8192, 1024)]:
    a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(k, n, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        torch.matmul(a, b)
    times = []
    for _ in range(20):
        start = torch.cuda.Event(enable_timing=True)
        stop = torch.cuda.Event(enable_timing=True)
        start.record()
        torch.matmul(a, b)
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    ms = sorted(times)[len(times) // 2]
    print(f"BENCH torch.matmul bf16 {m}x{n}x{k}: {ms:.3f} ms, "
          f"{2 * m * n * k / ms / 1e9:.1f} TFLOP/s (median of 20)")
