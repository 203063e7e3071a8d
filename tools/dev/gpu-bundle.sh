#!/usr/bin/env bash
# Stages what the GPU box needs into .bundle/ (git-ignored; carried by the
# device tool): the GPU test programs, the kernels tlc compiled for them, the
# embedding example. The box has the NVIDIA driver but no LLVM, fmt or
# Catch2, so everything is built here and links none of them dynamically.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$root/build}
"$root/tools/dev/setup.sh" "$build"
bundle=$root/.bundle
rm -rf "$bundle"
mkdir -p "$bundle/bin"
for program in tlc-gpu-tests tlc-runtime-gpu-tests tlc-embed-example; do
  if [[ -x $build/bin/$program ]]; then
    cp "$build/bin/$program" "$bundle/bin/"
  fi
done
# PTX is text and the GDN variants alone are about 80 MB of it: packed, the
# bundle stays under the device tool's 64 MiB carry limit. The run scripts
# unpack it on the box.
tar -czf "$bundle/gpu-kernels.tar.gz" -C "$build" gpu-kernels
[[ -d $build/bin/runtime-gpu-kernels ]] && cp -r "$build/bin/runtime-gpu-kernels" "$bundle/bin/"
[[ -f $build/lib/libtlc_runtime.so ]] && cp "$build/lib/libtlc_runtime.so" "$bundle/bin/"
grid=$root/../shared/bench/gdn_grid.json
[[ -f $grid ]] && cp "$grid" "$bundle/gdn_grid.json"
echo "bundle: $(du -sh "$bundle" | cut -f1) in .bundle/ (carry it: carry=[\".bundle\"])"
