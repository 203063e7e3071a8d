#!/usr/bin/env bash
# Builds the Python wheel from BUILD's products (pip wheel ./python),
# installs it into a fresh virtual environment, and runs the package's CPU
# tests from a copy outside the source tree against the installed package
# (the source tree only provides the .tl files they compile; tlc is found
# on PATH).
#   tests/install/wheel.sh BUILD SOURCE WORK
set -euo pipefail
build=$1 source=$2 work=$3
rm -rf "$work"
mkdir -p "$work/tests"
if ! python3 -c 'import setuptools, wheel, pytest' >/dev/null 2>&1; then
  python3 -m pip install -q setuptools wheel pytest ||
    { echo "wheel test: cannot install setuptools, wheel and pytest" >&2; exit 1; }
fi
TLC_BUILD_DIR=$build python3 -m pip wheel -q --no-deps --no-build-isolation \
  -w "$work/dist" "$source/python" >"$work/wheel.log" 2>&1 ||
  { cat "$work/wheel.log"; exit 1; }
python3 -m venv --system-site-packages "$work/venv"
"$work/venv/bin/python" -m pip install -q --no-index --no-deps "$work"/dist/tlc-*.whl
cp "$source/python/tests/test_cpu.py" "$work/tests/"
cd "$work/tests"
"$work/venv/bin/python" - "$work/venv" <<'PY'
import sys
import tlc
venv = sys.argv[1]
assert tlc.__file__.startswith(venv), f"tlc imported from {tlc.__file__}"
assert tlc.library_path().startswith(venv), tlc.library_path()
print(f"installed tlc {tlc.__version__}: {tlc.__file__}")
PY
PATH=$build/bin:$PATH TLC_TEST_REPO=$source \
  "$work/venv/bin/python" -m pytest -q -p no:cacheprovider test_cpu.py
