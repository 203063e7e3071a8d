#!/usr/bin/env bash
# Installs what tlc needs (when missing), configures and builds it.
# Idempotent; quick when nothing changed. Usage: tools/dev/setup.sh [build-dir]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$root/build}

die() { echo "tlc setup: $*" >&2; exit 1; }

packages=(cmake ninja-build ccache llvm-22-dev libmlir-22-dev mlir-22-tools
          llvm-22-tools libfmt-dev catch2 nlohmann-json3-dev
          clang) # clang: the libFuzzer harnesses (tests/fuzz/libfuzzer)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if ((${#missing[@]})); then
  command -v apt-get >/dev/null ||
    die "missing packages: ${missing[*]}; install them with your package manager (Debian/Ubuntu: apt-get install ${missing[*]})"
  sudo=()
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null ||
      die "missing packages: ${missing[*]}; run as root: apt-get install ${missing[*]}"
    sudo=(sudo)
  fi
  echo "tlc setup: installing ${missing[*]}"
  # LLVM 22 comes from Debian's security/backports archive or apt.llvm.org.
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/tmp/tlc-apt.log 2>&1; then
    "${sudo[@]}" apt-get update -q >/tmp/tlc-apt.log 2>&1 || true
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>/tmp/tlc-apt.log 2>&1 ||
      die "apt-get install ${missing[*]} failed (log: /tmp/tlc-apt.log). LLVM/MLIR 22 packages come from Debian (bookworm-security/backports) or https://apt.llvm.org"
  fi
fi

cuda=${CUDA_HOME:-/usr/local/cuda}
[[ -x $cuda/bin/ptxas && -f $cuda/include/nvrtc.h ]] ||
  die "CUDA toolkit not found at $cuda (need ptxas and NVRTC). Install CUDA Toolkit 13 from NVIDIA, or set CUDA_HOME."

if [[ ! -f $build/build.ninja ]]; then
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCUDAToolkit_ROOT="$cuda" >/dev/null
fi
jobs=${TLC_JOBS:-$(nproc)}
ninja -C "$build" -j "$jobs"
