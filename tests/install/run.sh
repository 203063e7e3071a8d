#!/usr/bin/env bash
# Installs the runtime and compiler components of the build in BUILD into a
# fresh prefix, then builds tests/install (the embedding example, the
# tlc::jit example and a C program) against it out of tree with
# find_package(tlc), and the C program again with pkg-config; runs the C
# program from both, the installed tlc on an example kernel, and the
# tlc::jit example (a compile, a cache hit, a compile error).
#   tests/install/run.sh BUILD SOURCE WORK
set -euo pipefail
build=$1 source=$2 work=$3
rm -rf "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" --component runtime >/dev/null
cmake --install "$build" --prefix "$prefix" --component compiler >/dev/null
"$prefix/bin/tlc" "$source/kernels/examples/elementwise.tl" --emit ptx \
  -o "$work/kernels"
[[ -s $work/kernels/axpy.ptx && -s $work/kernels/axpy.json ]]
# The device library that `tlc --emit cuda` output includes.
[[ -s $prefix/include/tlc/device/tlc.cuh && -s $prefix/include/tlc/device/tlc_wgmma.cuh ]]
cmake -S "$source/tests/install" -B "$work/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$prefix" \
  -DTLC_EMBED_SOURCE="$source/runtime/examples/embed_axpy.cpp" \
  -DTLC_JIT_SOURCE="$source/runtime/examples/jit_axpy.cpp" \
  -DCUDAToolkit_ROOT="${CUDA_HOME:-/usr/local/cuda}" >"$work/configure.log"
cmake --build "$work/build" >"$work/build.log"
metadata=$source/tests/fuzz/libfuzzer/seeds/kernel-info/gemm.json
"$work/build/c_abi" "$metadata"
libdir=$(dirname "$(find "$prefix" -name libtlc_runtime.so | head -1)")
PKG_CONFIG_PATH=$libdir/pkgconfig cc "$source/tests/install/c_abi.c" \
  $(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs tlc) \
  -o "$work/c_abi_pkgconfig"
LD_LIBRARY_PATH=$libdir "$work/c_abi_pkgconfig" "$metadata"
# tlc::jit from the installed tree: a compile, then the same from its cache;
# a bad define comes back as the compiler's diagnostic.
tl=$source/kernels/examples/elementwise.tl
"$work/build/jit_axpy" "$tl" "$work/jit-cache" | tee "$work/jit1.log"
grep -q "compiled, [0-9]* bytes of PTX" "$work/jit1.log"
"$work/build/jit_axpy" "$tl" "$work/jit-cache" | tee "$work/jit2.log"
grep -q "cache hit" "$work/jit2.log"
if "$work/build/jit_axpy" "$tl" "$work/jit-cache" NOPE=1 2>"$work/jit3.log"; then
  echo "install test: an unknown define compiled" >&2
  exit 1
fi
grep -q "NOPE" "$work/jit3.log"
echo "install test: the installed tlc builds and runs out of tree"
