#!/usr/bin/env python3
"""npdiff's YAML reading against PyYAML's C loader on one repository (not part of the tests).

    python benchmarks/bench_reader.py [REPO] [--repeat 5] [--generator PATH]

REPO defaults to npdiff-bench-reader/repo in the temporary directory, generated with ../shared/bench/gen_policies.py
(10,000 policies in 200 namespaces) when missing. Every file is read into memory first;
then three passes over all of them are timed, chunk by chunk, each the best of
`--repeat` runs:

- `yaml.load_all(bytes, Loader=CSafeLoader)`, what any reader pays at least;
- `read_documents` as npdiff runs it (the block fast path, falling back to events);
- `read_documents(..., fast=False)`, the event-based reader alone.

Prints the time of each per file, the ratios to the C loader, and how many files
the fast path declined.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from npdiff.load.block_yaml import read_block  # noqa: E402
from npdiff.load.codes import Sink  # noqa: E402
from npdiff.load.sources import Source  # noqa: E402
from npdiff.load.yaml_reader import decode, read_documents  # noqa: E402

DEFAULT_REPO = Path(tempfile.gettempdir()) / "npdiff-bench-reader" / "repo"
DEFAULT_GENERATOR = ROOT.parent / "shared" / "bench" / "gen_policies.py"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def best(passes: dict[str, Callable[[list[Source]], None]], sources: list[Source],
         repeat: int, chunk: int = 250) -> dict[str, float]:
    """Per pass, the sum over chunks of files of the best of `repeat` timings: the passes
    alternate chunk by chunk, so that a busy machine slows each of them alike."""
    times = dict.fromkeys(passes, 0.0)
    for at in range(0, len(sources), chunk):
        part = sources[at:at + chunk]
        fastest = dict.fromkeys(passes, float("inf"))
        for _ in range(repeat):
            for name, run in passes.items():
                start = time.perf_counter()
                run(part)
                fastest[name] = min(fastest[name], time.perf_counter() - start)
        for name in passes:
            times[name] += fastest[name]
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo", nargs="?", type=Path, default=DEFAULT_REPO)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--generator", type=Path, default=DEFAULT_GENERATOR)
    args = parser.parse_args()

    if not args.repo.exists():
        subprocess.run([sys.executable, str(args.generator), str(args.repo), "--policies",
                        "10000", "--namespaces", "200", "--change", "5"], check=True)
    sources = [Source(str(path), path.read_bytes())
               for path in sorted(args.repo.rglob("*.y*ml"))]
    declined = sum(read_block(decode(s, Sink(s.name, [])) or "") is None for s in sources)

    def c_loader(part: list[Source]) -> None:
        for source in part:
            list(yaml.load_all(source.data, Loader=LOADER))

    def npdiff_fast(part: list[Source]) -> None:
        for source in part:
            read_documents(source, Sink(source.name, []))

    def npdiff_events(part: list[Source]) -> None:
        for source in part:
            read_documents(source, Sink(source.name, []), fast=False)

    times = best({"CSafeLoader load_all": c_loader, "read_documents": npdiff_fast,
                  "read_documents(fast=False)": npdiff_events}, sources, args.repeat)
    base = times["CSafeLoader load_all"]
    print(f"{len(sources)} files under {args.repo}; the fast path declined {declined}")
    for name, seconds in times.items():
        print(f"{name:28} {seconds:7.3f} s  {seconds / len(sources) * 1e6:7.1f} µs/file"
              f"  {seconds / base:5.2f}x")


if __name__ == "__main__":
    main()
