#!/usr/bin/env bash
# The main job: compile every kernel in kernels/ as far as the compiler goes
# today (the tile dialect) and print one line per kernel.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$root/build}
"$root/tools/dev/setup.sh" "$build"
out=$build/kernels
status=0
while IFS= read -r -d '' file; do
  rel=${file#"$root"/}
  dest=$out/${rel%.tl}.mlir
  mkdir -p "$(dirname "$dest")"
  if "$build/bin/tlc" "$file" --emit tile -o "$dest" 2>"$dest.err"; then
    grep -oE 'func\.func @[A-Za-z_0-9]+' "$dest" | sed 's/func.func @//' |
      while read -r kernel; do
        ops=$(awk "/func.func @$kernel\\(/,/^  }/" "$dest" | grep -c ' = \| tile\.\| scf\.' || true)
        printf '%-36s %-16s tile IR, %4d lines  -> %s\n' "$rel" "$kernel" "$ops" "${dest#"$root"/}"
      done
  else
    printf '%-36s FAILED\n' "$rel"
    cat "$dest.err"
    status=1
  fi
done < <(find "$root/kernels" -name '*.tl' -print0 | sort -z)
exit $status
