#!/usr/bin/env bash
# Runs the staged bundle on the GPU box: correctness first, then timings,
# with the anchors (torch) measured in the same run. Logs go to $OUT.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bundle=$root/.bundle
out=${OUT:-/tmp/tlc-gpu-out}
mkdir -p "$out"
status=0
[[ -d $bundle/gpu-kernels ]] || tar -xzf "$bundle/gpu-kernels.tar.gz" -C "$bundle"
{
  date -u
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem --format=csv
} 2>&1 | tee "$out/gpu.txt"

echo "== tlc GPU tests"
TLC_GPU_KERNELS=$bundle/gpu-kernels timeout ${TLC_GPU_TEST_TIMEOUT:-900} "$bundle/bin/tlc-gpu-tests" ${TLC_GPU_TEST_FILTER:-} 2>&1 | tee "$out/gpu-tests.log"
(( PIPESTATUS[0] == 0 )) || status=1

# The Hopper GEMM's machine code: HGMMA (wgmma) and UTMALDG (TMA) must be
# there (and UTMASTG, the TMA store of the epilogue), local-memory spills
# (LDL/STL) must not.
echo "== SASS of the sm_90a GEMM"
ptxas -arch=sm_90a "$bundle/gpu-kernels/gemm_bf16_bf16/gemm.ptx" -o /tmp/gemm.cubin -v 2>&1 | tee "$out/gemm-ptxas.log"
cuobjdump --dump-sass --function gemm /tmp/gemm.cubin > "$out/gemm.sass" 2>&1
for op in HGMMA UTMALDG UTMASTG SYNCS USETMAXREG LDL STL; do
  printf '%-10s %s\n' "$op" "$(grep -c "$op" "$out/gemm.sass")"
done | tee "$out/gemm-sass-summary.txt"

# compute-sanitizer over the GEMM, channel and cluster tests (small shapes):
# memcheck, racecheck,
# synccheck. API errors are not reported: the runtime's parameter-layout
# check probes cuFuncGetParamInfo one index past the last parameter, which
# answers CUDA_ERROR_INVALID_VALUE by design.
if [[ ${TLC_SANITIZE:-1} == 1 ]]; then
  for tool in memcheck racecheck synccheck; do
    echo "== compute-sanitizer --tool $tool (GEMM, channel, pipeline and cluster tests)"
    TLC_GPU_QUICK=1 TLC_GPU_KERNELS=$bundle/gpu-kernels timeout 150 compute-sanitizer --tool $tool --report-api-errors no \
      --error-exitcode 3 "$bundle/bin/tlc-gpu-tests" "[gemm]~[large],[ws]~[bench],[pipeline],[cluster]" > "$out/sanitizer-$tool.log" 2>&1
    rc=$?
    grep -m 5 -E "Invalid|Error|Race|hazard|Barrier" "$out/sanitizer-$tool.log"
    tail -n 2 "$out/sanitizer-$tool.log"
    (( rc == 0 )) || status=1
  done
fi

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
