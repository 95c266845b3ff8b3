#!/usr/bin/env python3
"""Time `load_policy_set` on policy trees, split into reading, parsing and the work after
parsing (not part of the tests).

    python benchmarks/bench_load.py TREE [TREE ...] [--repeat 5] [--profile N]

Each load is timed in CPU seconds of this process (steadier than wall time on a busy
machine), and within the same run the time spent in `read_input` (directory walk and
file reads) and in `read_documents` (YAML parsing) is measured, so that the post-parse
share (objects, policies, lint, inventory, sorting) is the remainder. The best of
`--repeat` runs of each share is shown, the post-parse share also per policy. `--profile N`
prints the N most expensive functions of one load by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import time
from typing import Any, Callable

import npdiff.load as load
from npdiff.model import Semantics


class Timed:
    """A stand-in for a function of `npdiff.load` that adds up the CPU time spent in it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.function: Callable[..., Any] = getattr(load, name)
        self.seconds = 0.0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return self.function(*args, **kwargs)
        finally:
            self.seconds += time.process_time() - start


def measure(tree: str, semantics: Semantics) -> tuple[int, float, float, float]:
    """Policies loaded, and CPU seconds spent reading, parsing and after parsing."""
    reading, parsing = Timed("read_input"), Timed("read_documents")
    load.read_input, load.read_documents = reading, parsing  # type: ignore[assignment]
    try:
        gc.collect()
        start = time.process_time()
        loaded = load.load_policy_set([tree], semantics)
        whole = time.process_time() - start
    finally:
        load.read_input, load.read_documents = reading.function, parsing.function
    return (len(loaded.policy_set.policies), reading.seconds, parsing.seconds,
            whole - reading.seconds - parsing.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()
    semantics = Semantics()
    for tree in args.trees:
        runs = [measure(tree, semantics) for _ in range(args.repeat)]
        policies = runs[0][0]
        reading, parsing, after = (min(run[i] for run in runs) for i in (1, 2, 3))
        per = 1000 * after / max(policies, 1)
        print(f"{tree}: {policies} policies; read {reading:.2f} s, parse {parsing:.2f} s, "
              f"post-parse {after:.2f} s ({per:.3f} ms/policy)")
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(load.load_policy_set, [tree], semantics)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
