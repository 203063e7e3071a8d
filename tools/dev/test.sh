#!/usr/bin/env bash
# Runs the whole test suite (lit + FileCheck, Catch2 unit tests, GPU tests
# when a GPU is present) after setting everything up.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$root/build}
"$root/tools/dev/setup.sh" "$build"
cd "$build"
ctest --output-on-failure -j "${TLC_JOBS:-$(nproc)}"
