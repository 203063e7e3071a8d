#!/usr/bin/env bash
# On the GPU box: the Python package's tests (CPU + GPU) and the GDN
# benchmark against FLA, over the staged bundle (tools/dev/gpu-bundle.sh:
# .bundle/bin/libtlc_runtime.so, .bundle/gpu-kernels) and the carried wheels
# in .whl/ (FLA). Logs and bench results go to $OUT.
#   device run: bash tools/dev/gpu-python.sh   (carry: .bundle, .whl)
# Extra arguments go to bench/gdn.py (e.g. --rows TP8 --replays 200);
# TLC_GPU_PYTHON=tests or =bench runs one part only (default: both).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
out=${OUT:-/tmp/tlc-gpu-out}
mkdir -p "$out"
export TLC_RUNTIME_LIB=${TLC_RUNTIME_LIB:-$root/.bundle/bin/libtlc_runtime.so}
export TLC_KERNELS=${TLC_KERNELS:-$root/.bundle/gpu-kernels}
export PYTHONUNBUFFERED=1
[[ -d $root/.bundle/gpu-kernels || ! -f $root/.bundle/gpu-kernels.tar.gz ]] ||
  tar -xzf "$root/.bundle/gpu-kernels.tar.gz" -C "$root/.bundle"
for need in "$TLC_RUNTIME_LIB" "$TLC_KERNELS/gdn"; do
  [[ -e $need ]] || { echo "gpu-python: missing $need (run tools/dev/gpu-bundle.sh and carry .bundle)" >&2; exit 2; }
done

pythonpath=$root/python
if ls "$root"/.whl/*.whl >/dev/null 2>&1; then
  if python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
      --upgrade --target /tmp/site "$root"/.whl/*.whl >"$out/pip.log" 2>&1; then
    pythonpath=/tmp/site:$pythonpath
  else
    echo "gpu-python: installing the carried wheels failed (see $out/pip.log)"
  fi
else
  echo "gpu-python: no wheels in .whl/: FLA comparisons will be skipped" \
       "(on the build machine: pip download --no-deps -d .whl" \
       "flash-linear-attention==0.6.0 fla-core==0.6.0, then carry .whl)"
fi
export PYTHONPATH=$pythonpath${PYTHONPATH:+:$PYTHONPATH}

status=0
{
  date -u
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem --format=csv
  python3 -c 'import torch, triton; print("torch", torch.__version__, "triton", triton.__version__)'
  python3 -c 'import fla; print("fla", fla.__version__)' 2>&1 | tail -1
} 2>&1 | tee "$out/gpu-python.txt"

part=${TLC_GPU_PYTHON:-all}
if [[ $part == all || $part == tests ]]; then
  echo "== tlc Python tests (CPU and GPU)"
  python3 -m pytest python/tests -q -rs -s -p no:cacheprovider 2>&1 | tee "$out/python-tests.log"
  ((PIPESTATUS[0] == 0)) || status=1
fi
if [[ $part == all || $part == bench ]]; then
  echo "== GDN benchmark: tlc vs FLA"
  python3 bench/gdn.py --json "$out/gdn_bench.json" "$@" 2>&1 | tee "$out/gdn-bench.log"
  ((PIPESTATUS[0] == 0)) || status=1
fi
exit $status
