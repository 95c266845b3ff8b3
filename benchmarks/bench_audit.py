#!/usr/bin/env python3
"""Time `npdiff audit` on generated policy repositories (not part of the test suite).

    python benchmarks/bench_audit.py [--sizes 200 1000] [--workloads] [--runs 1] [--generator PATH]

Generates a repository of N policies with ../shared/bench/gen_policies.py (its default
layout: N/50 namespaces), then times the whole `python -m npdiff audit DIR -o json` in a
fresh process, and prints one table row per size: wall time, CPU time of the child
process (which a busy machine inflates less than wall time) and the findings per id.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# ../shared from the main checkout, ../../shared from a worktree under wt/
DEFAULT_GENERATOR = next((p / "shared" / "bench" / "gen_policies.py" for p in (ROOT.parent, ROOT.parent.parent)
                          if (p / "shared" / "bench" / "gen_policies.py").exists()),
                         ROOT.parent / "shared" / "bench" / "gen_policies.py")


def audit_time(repo: Path) -> tuple[float, float, dict]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "npdiff", "audit", str(repo), "-o", "json"],
                          capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1, 3):
        raise SystemExit(f"npdiff failed ({done.returncode}): {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--workloads", action="store_true",
                        help="also generate a Deployment per app and a Namespace per namespace")
    parser.add_argument("--runs", type=int, default=1, help="runs per size; the best is shown")
    parser.add_argument("--generator", type=Path, default=DEFAULT_GENERATOR)
    args = parser.parse_args()
    os.environ["NPDIFF_NO_CACHE"] = "1"   # time the analysis, never a cached result
    print(f"{'policies':>8} {'wall (s)':>8} {'cpu (s)':>7} {'findings':>8} {'undecided':>9}  by id", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        for size in args.sizes:
            repo = Path(scratch) / f"repo{size}"
            subprocess.run([sys.executable, str(args.generator), str(repo), "--policies", str(size),
                            *(["--workloads"] if args.workloads else [])], check=True, capture_output=True)
            runs = [audit_time(repo) for _ in range(args.runs)]
            wall, cpu, report = min(runs, key=lambda r: r[0])
            by_id = Counter(f["id"] for f in report["findings"])
            shown = ", ".join(f"{k} {v}" for k, v in sorted(by_id.items()))
            print(f"{size:>8} {wall:>8.2f} {cpu:>7.2f} {len(report['findings']):>8} "
                  f"{report['summary']['undecided']:>9}  {shown}", flush=True)


if __name__ == "__main__":
    main()
