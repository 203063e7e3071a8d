#!/usr/bin/env bash
# The main job: compile every kernel in kernels/ to PTX (sm_90a) and report,
# per kernel, registers, spills and shared memory from ptxas -v; run GDN's
# forward on the CPU interpreter and report its accuracy; on a machine with a
# GPU, also run the GPU tests (examples and GDN against CPU references, with
# timings).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$root/build}
"$root/tools/dev/setup.sh" "$build"
ptxas=${CUDA_HOME:-/usr/local/cuda}/bin/ptxas
out=$build/kernels
status=0
printf '%-34s %-24s %8s %6s %10s %10s %8s\n' file kernel compile regs spill_B smem_B stack_B
total_ms=0
kernels=0
while IFS= read -r -d '' file; do
  rel=${file#"$root"/}
  dest=$out/${rel%.tl}
  # Fresh each run: a kernel removed from the file must not be listed from
  # an earlier run's PTX.
  rm -rf "$dest"
  mkdir -p "$dest"
  start=$(date +%s%N)
  if ! "$build/bin/tlc" "$file" --emit ptx -o "$dest" 2>"$dest/errors.txt"; then
    printf '%-34s FAILED\n' "$rel"
    cat "$dest/errors.txt"
    status=1
    continue
  fi
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  total_ms=$(( total_ms + ms ))
  # The file's compile time on its first row; one row per PTX entry (a
  # kernel, then its __fallback when it has one).
  for ptx in "$dest"/*.ptx; do
    kernel=$(basename "$ptx" .ptx)
    info=$("$ptxas" -arch=sm_90a -v "$ptx" -o /dev/null 2>&1) || {
      printf '%-34s %-24s ptxas FAILED\n' "$rel" "$kernel"; echo "$info"; status=1; continue; }
    python3 "$root/tools/dev/ptxas-table.py" "$rel" "$dest/$kernel.json" "$ms" <<<"$info"
    kernels=$(( kernels + 1 ))
    rel=""
    ms=""
  done
done < <(find "$root/kernels" -name '*.tl' -print0 | sort -z)
printf '%-34s %-24s %6sms\n' "total: $kernels kernels" "" "$total_ms"

echo "== GDN forward on the CPU interpreter vs the float64 reference (bar: bf16 5e-3, f32 1e-6)"
"$build/bin/tlc-gdn-interpreter-tests" 2>&1 | grep -E "^GDN|passed|failed" || status=1
if ldconfig -p | grep -q 'libcuda.so.1 ' && command -v nvidia-smi >/dev/null; then
  echo "== GPU: examples and GDN against CPU references, with timings"
  "$build/bin/tlc-gpu-tests" || status=1
else
  echo "(no GPU here: the GPU tests and timings run on the GPU box via tools/dev/gpu-bundle.sh + gpu-run.sh)"
fi
exit $status
