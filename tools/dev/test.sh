#!/usr/bin/env bash
# Runs the whole test suite (lit + FileCheck, Catch2 unit tests, GPU tests
# when a GPU is present) after setting everything up.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$root/build}
"$root/tools/dev/setup.sh" "$build"
cd "$build"
ctest --output-on-failure -j "${TLC_JOBS:-$(nproc)}"
cd "$root"
bash tools/dev/python-tests.sh
if ! ldconfig -p | grep -q 'libcuda.so.1 '; then
  echo "NOTE: GPU tests were SKIPPED (no CUDA driver or GPU on this machine)."
  echo "      On the GPU box: tools/dev/gpu-bundle.sh here, then tools/dev/gpu-run.sh there."
fi
