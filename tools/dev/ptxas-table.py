#!/usr/bin/env python3
"""One row per entry of a tlc PTX file: registers, spills and stack from
`ptxas -v` (read on stdin), shared memory from the kernel's .json (the
kernel's own, or its __fallback's). Used by tools/dev/run.sh.

    ptxas -v K.ptx 2>&1 | ptxas-table.py FILE KERNEL.json COMPILE_MS
"""
import json
import re
import sys


def main():
    rel, meta_path, ms = sys.argv[1], sys.argv[2], sys.argv[3]
    meta = json.load(open(meta_path))
    shared = {meta["name"]: meta.get("dynamic_shared_bytes", 0)}
    if meta.get("fallback"):
        shared[meta["fallback"]["name"]] = \
            meta["fallback"].get("dynamic_shared_bytes", 0)
    entries, current = [], None
    for line in sys.stdin:
        m = re.search(r"Compiling entry function '([^']+)'", line)
        if m:
            current = {"name": m.group(1), "regs": "?", "spill": "?",
                       "stack": "?"}
            entries.append(current)
        elif current is not None:
            m = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores",
                          line)
            if m:
                current["stack"], current["spill"] = m.group(1), m.group(2)
            m = re.search(r"Used (\d+) registers", line)
            if m:
                current["regs"] = m.group(1)
    # The kernel first, then its fallback.
    entries.sort(key=lambda e: e["name"].endswith("__fallback"))
    for i, e in enumerate(entries):
        print(f"{rel if i == 0 else '':<34} {e['name']:<24} "
              f"{(ms + 'ms') if i == 0 and ms else '':>8} {e['regs']:>6} "
              f"{e['spill']:>10} {shared.get(e['name'], '?'):>10} "
              f"{e['stack']:>8}")


if __name__ == "__main__":
    main()
