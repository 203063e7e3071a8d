#!/usr/bin/env bash
# Runs the staged bundle on the GPU box: correctness first, then timings,
# with the anchors (torch) measured in the same run. Logs go to $OUT.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bundle=$root/.bundle
out=${OUT:-/tmp/tlc-gpu-out}
mkdir -p "$out"
status=0
{
  date -u
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem --format=csv
} 2>&1 | tee "$out/gpu.txt"

echo "== tlc GPU tests"
TLC_GPU_KERNELS=$bundle/gpu-kernels "$bundle/bin/tlc-gpu-tests" 2>&1 | tee "$out/gpu-tests.log"
(( PIPESTATUS[0] == 0 )) || status=1

if [[ -x $bundle/bin/tlc-runtime-gpu-tests ]]; then
  echo "== runtime GPU tests"
  (cd "$bundle/bin" && ./tlc-runtime-gpu-tests) 2>&1 | tee "$out/runtime-gpu-tests.log"
  (( PIPESTATUS[0] == 0 )) || status=1
fi

if [[ -x $bundle/bin/tlc-embed-example ]]; then
  echo "== embedding example"
  "$bundle/bin/tlc-embed-example" "$bundle/gpu-kernels/elementwise" 2>&1 | tee "$out/embed.log"
  (( PIPESTATUS[0] == 0 )) || status=1
fi

if ls "$root"/.whl/*.whl >/dev/null 2>&1; then
  echo "== anchor: FLA chunk_gated_delta_rule_fwd"
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target /tmp/site "$root"/.whl/*.whl >/dev/null 2>&1
  PYTHONPATH=/tmp/site python3 "$root/tools/dev/bench_fla_gdn.py" 8192 8 32 128 \
    2>&1 | tee "$out/fla-gdn.log"
fi

echo "== anchor: torch.matmul"
python3 "$root/tools/dev/bench_torch_matmul.py" 2>&1 | tee "$out/torch-matmul.log"
exit $status
