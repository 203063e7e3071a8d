#!/usr/bin/env bash
# Runs the Python package's tests (python/tests) against the in-tree package
# and build/lib/libtlc_runtime.so. Without torch or a GPU, the GPU tests skip
# and say why (-rs). Installs pytest when missing. Exits with pytest's status,
# except that "no tests collected" (5) is a failure too.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
if ! python3 -c 'import pytest' >/dev/null 2>&1; then
  python3 -m pip install -q pytest || { echo "python-tests: cannot install pytest" >&2; exit 1; }
fi
export PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}"
python3 -m pytest python/tests -q -rs -p no:cacheprovider "$@"
status=$?
if ((status == 5)); then
  echo "python-tests: no tests were collected" >&2
  exit 1
fi
exit $status
