#!/usr/bin/env python3
"""Grammar-aware mutation fuzzing of the tlc front end and code generator.

Takes the repository's kernels (kernels/**/*.tl and the lit .tl files),
applies token-level mutations (delete, duplicate, swap, replace numbers
with edge values, identifiers with keywords or other names, operators with
operators, lines duplicated or dropped) and runs `tlc FILE --emit cuda` on
each mutant. Properties (issue 14): no signal, no hang, no LLVM crash
banner, and every error names a place (`file.tl:LINE:COL: error:`) or is
one of tlc's own whole-file errors (`tlc: error: ...`).

    tests/fuzz/mutate.py --tlc build/bin/tlc --seconds 60 [--seed N]

Exits 1 on the first failing mutant, which it writes next to --keep.
"""
import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOKEN = re.compile(r"\s+|#[^\n]*|\d+\.\d*(?:e[-+]?\d+)?|\d+|[A-Za-z_]\w*|"
                   r"\*\*|//|==|!=|<=|>=|->|.", re.S)
KEYWORDS = ["kernel", "with", "for", "in", "if", "elif", "else", "and",
            "or", "not", "True", "False", "pass", "range", "Parallel",
            "Pipelined", "Kernel", "alloc_shared", "alloc_fragment", "copy",
            "gemm", "clear", "f32", "bf16", "f16", "i32", "i64", "i8",
            "bool", "float", "class", "threadIdx", "team", "bx", "v0"]
NUMBERS = ["0", "-1", "1", "3", "7", "63", "64", "65", "1024", "4096",
           "65536", "2147483648", "9223372036854775807", "1e300", "0.0"]
OPERATORS = ["+", "-", "*", "/", "//", "%", "<", ">", "==", "!=", "=", ",",
             ":", "(", ")", "[", "]", "."]
LOCATED = re.compile(r"^\S+:\d+:\d+: (error|warning|note|remark): ")
CRASH = ("Stack dump", "PLEASE submit a bug report", "Assertion",
         "LLVM ERROR", "terminate called", "Segmentation fault")


def seeds():
    files = sorted((ROOT / "kernels").rglob("*.tl"))
    files += sorted((ROOT / "tests" / "lit").rglob("*.tl"))
    return [(f, f.read_text()) for f in files]


def mutate(text, rng):
    tokens = TOKEN.findall(text)
    words = [i for i, t in enumerate(tokens) if t.strip()]
    for _ in range(rng.randint(1, 3)):
        if not words:
            break
        i = rng.choice(words)
        kind = rng.randrange(7)
        t = tokens[i]
        if not t:
            continue
        if kind == 0:
            tokens[i] = ""
        elif kind == 1:
            tokens[i] = t + " " + t
        elif kind == 2:
            j = rng.choice(words)
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif kind == 3 and t[0].isdigit():
            tokens[i] = rng.choice(NUMBERS)
        elif kind == 4 and (t[0].isalpha() or t[0] == "_"):
            tokens[i] = rng.choice(KEYWORDS + [tokens[rng.choice(words)]])
        elif kind == 5 and not t[0].isalnum():
            tokens[i] = rng.choice(OPERATORS)
        else:
            lines = "".join(tokens).split("\n")
            k = rng.randrange(len(lines))
            if rng.random() < 0.5:
                lines.insert(k, lines[rng.randrange(len(lines))])
            else:
                del lines[k]
            return "\n".join(lines)
    return "".join(tokens)


def check(tlc, path, timeout):
    """None if tlc behaved, else why not."""
    try:
        r = subprocess.run([tlc, str(path), "--emit", "cuda", "-o",
                            os.devnull], capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"no answer within {timeout} s"
    if r.returncode < 0 or r.returncode >= 128:
        return f"killed by signal / exit {r.returncode}"
    for banner in CRASH:
        if banner in r.stderr:
            return f"crash banner '{banner}'"
    if r.returncode != 0:
        # Diagnostic lines start with their place; the source line and caret
        # printed under one are not diagnostics.
        for line in r.stderr.splitlines():
            if re.match(r"^\S*:? ?error: ", line) or line.startswith("error:"):
                if not (LOCATED.match(line) or line.startswith("tlc: error:")):
                    return f"unlocated error: {line}"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tlc", required=True)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int,
                        default=int(os.environ.get("TLC_FUZZ_SEED", "1")))
    parser.add_argument("--timeout", type=float, default=20)
    parser.add_argument("--keep", default=None,
                        help="folder for a failing mutant (default: temp)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    corpus = seeds()
    work = Path(tempfile.mkdtemp(prefix="tlc-fuzz-"))
    deadline = time.monotonic() + args.seconds
    count = 0
    print(f"fuzz: seed {args.seed}, {len(corpus)} seed files, "
          f"{args.seconds:.0f} s", flush=True)
    while time.monotonic() < deadline:
        origin, text = rng.choice(corpus)
        mutant = mutate(text, rng)
        path = work / f"m{count % 4}.tl"
        path.write_text(mutant)
        count += 1
        why = check(args.tlc, path, args.timeout)
        if why:
            keep = Path(args.keep) if args.keep else work
            keep.mkdir(parents=True, exist_ok=True)
            out = keep / "failing.tl"
            out.write_text(mutant)
            print(f"fuzz: FAILED on mutant {count} of {origin.relative_to(ROOT)}"
                  f" (seed {args.seed}): {why}\n  kept as {out}")
            return 1
    print(f"fuzz: {count} mutants, no crash, hang or unlocated error")
    return 0


if __name__ == "__main__":
    sys.exit(main())
