#!/usr/bin/env python3
"""Time `npdiff OLD NEW` on generated policy repositories (not part of the test suite).

    python benchmarks/bench_diff.py [--sizes 100 1000] [--change 5] [--generator PATH]

Generates a repository of N policies and a "pull request" copy with K policies changed
(with ../shared/bench/gen_policies.py by default), then times, in one run: parsing both
trees with PyYAML's C loader (the baseline a reader pays anyway) and the whole npdiff
command in a fresh process. Prints one table row per size.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_scale import parse_time  # same directory: run as a script

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GENERATOR = ROOT.parent / "shared" / "bench" / "gen_policies.py"


def npdiff_time(old: Path, new: Path) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "npdiff", str(old), str(new), "-o", "json"],
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1, 3):
        raise SystemExit(f"npdiff failed ({done.returncode}): {done.stderr[-2000:]}")
    import json
    report = json.loads(done.stdout)
    return elapsed, f"{report['verdict']}, {len(report['newly_allowed'])}+{len(report['newly_blocked'])} classes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--change", type=int, default=5)
    parser.add_argument("--generator", type=Path, default=DEFAULT_GENERATOR)
    args = parser.parse_args()
    os.environ["NPDIFF_NO_CACHE"] = "1"   # time the analysis, never a cached result
    print(f"{'policies':>8} {'changed':>7} {'parse both (s)':>14} {'npdiff (s)':>10}  result")
    with tempfile.TemporaryDirectory() as scratch:
        for size in args.sizes:
            repo = Path(scratch) / f"repo{size}"
            subprocess.run([sys.executable, str(args.generator), str(repo), "--policies", str(size),
                            "--namespaces", str(max(2, size // 20)), "--change", str(args.change)],
                           check=True, capture_output=True)
            pr = repo.parent / f"{repo.name}-pr"
            parsed = parse_time(repo, pr)
            elapsed, result = npdiff_time(repo, pr)
            print(f"{size:>8} {args.change:>7} {parsed:>14.2f} {elapsed:>10.2f}  {result}")


if __name__ == "__main__":
    main()
