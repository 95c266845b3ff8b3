"""The changed region in pieces (analyse/pairwise.py) run in worker processes
(analyse/workers.py): the answer is the same for any number of workers, and still exact."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import oracle
from examples.runner import cli_flags, write_policies
from npdiff import processes
from npdiff.analyse import pairwise, workers
from npdiff.cli import run
from npdiff.encode import search, solver
from test_classes_exact import _in_class, exact_options
from test_property import SCALE, SETTINGS, flow_batches, related_sets

pytestmark = pytest.mark.skipif(not processes.forking(), reason="workers fork on Linux only")


def _diff(directory: Path, old: list, new: list, options: dict, *extra: str):
    old_file = write_policies(directory / "old.yaml", old)
    new_file = write_policies(directory / "new.yaml", new)
    return run(["diff", str(old_file), str(new_file), "-o", "json", *cli_flags(options), *extra])


@settings(max_examples=25 * SCALE, **SETTINGS)
@given(pair=related_sets(), flows=flow_batches(max_size=20), options=exact_options,
       max_classes=st.sampled_from(["0", "1", "2", "100"]))
def test_workers_give_the_answer_of_one_process(pair, flows, options, max_classes):
    old, new = pair
    # One pair per piece: every diff here has several pieces, so budgets cross pieces.
    with mock.patch.object(pairwise, "PAIRS_PER_PIECE", 1), tempfile.TemporaryDirectory() as directory:
        one = _diff(Path(directory), old, new, options, "--max-classes", max_classes, "--jobs", "1")
        two = _diff(Path(directory), old, new, options, "--max-classes", max_classes, "--jobs", "2")
    assert one.exit_code in (0, 1), one.stderr
    assert (two.exit_code, two.stdout) == (one.exit_code, one.stdout)
    report = json.loads(one.stdout)
    if not report["complete"]:
        assert "--max-classes" in report["reason"]
        return
    for flow in flows:
        if flow["src"].get("local_node") and options.get("allow_from_local_node", True):
            continue  # exempt on both sides (S6.4)
        if options.get("ipblock_matches_pods") and flow["src"].get("ip") == flow["dst"].get("ip"):
            continue  # two endpoints never share an address
        before, after = oracle.allowed(old, flow, **options), oracle.allowed(new, flow, **options)
        assert any(_in_class(c, flow) for c in report["newly_allowed"]) == (after and not before), flow
        assert any(_in_class(c, flow) for c in report["newly_blocked"]) == (before and not after), flow


@settings(max_examples=25 * SCALE, **SETTINGS)
@given(pair=related_sets(), options=exact_options)
def test_namespaces_found_together_are_those_found_one_by_one(pair, options):
    """`_pairs` takes a zone found among the namespaces a scope's policies do not name for
    all of them: the same pairs, in the same directions, as finding them one by one."""
    old, new = pair
    found: list = []

    def recorded(*args):
        found.append(pairs(*args))
        return found[-1]

    pairs = pairwise._pairs
    with tempfile.TemporaryDirectory() as directory, mock.patch.object(pairwise, "_pairs", recorded):
        _diff(Path(directory), old, new, options, "--max-classes", "1")   # the verdict alone takes no list
        with mock.patch.object(pairwise, "_alike", lambda *args: frozenset()):
            _diff(Path(directory), old, new, options, "--max-classes", "1")
    assert len(found) in (0, 2)
    if found:
        assert found[0] == found[1]


@settings(max_examples=15 * SCALE, **SETTINGS)
@given(pair=related_sets(), options=exact_options)
def test_rejoining_skips_only_checks_that_fail(pair, options):
    """A cube's namespace is not widened past namespaces no cube holds without a check
    (search.py `_beyond`): asking every time gives the same report."""
    old, new = pair
    with tempfile.TemporaryDirectory() as directory:
        one = _diff(Path(directory), old, new, options)
        with mock.patch.object(search, "_beyond", lambda *args: False):
            asked = _diff(Path(directory), old, new, options)
    assert (asked.exit_code, asked.stdout) == (one.exit_code, one.stdout)


def _slow_square(n: int) -> int:
    time.sleep(0.05 * (5 - n % 5))  # later pieces finish first
    return n * n


def test_results_come_in_the_order_of_the_pieces():
    assert list(workers.in_order(10, int, _slow_square, 3)) == [n * n for n in range(10)]
    assert list(workers.in_order(10, int, _slow_square, 1)) == [n * n for n in range(10)]


def _fails_at_two(n: int) -> int:
    if n == 2:
        raise ValueError("piece two")
    return n


def test_an_exception_is_raised_in_its_turn():
    results = workers.in_order(5, int, _fails_at_two, 2)
    assert [next(results), next(results)] == [0, 1]
    with pytest.raises(ValueError, match="piece two"):
        next(results)


def test_a_worker_that_dies_is_an_error():
    def dies(n: int) -> int:
        if n == 1:
            os._exit(7)
        return n

    with pytest.raises(RuntimeError, match="worker"):
        list(workers.in_order(3, int, dies, 2))


def test_stopping_early_stops_the_workers(tmp_path):
    def sleeper(n: int) -> int:
        (tmp_path / f"{n}.part").write_text(str(os.getpid()))
        (tmp_path / f"{n}.part").rename(tmp_path / f"{n}.pid")
        if n:
            time.sleep(60)
        deadline = time.monotonic() + 30
        while len(list(tmp_path.glob("*.pid"))) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)  # the others are running once they have written their pid
        return n

    results = workers.in_order(3, int, sleeper, 3)
    assert next(results) == 0
    results.close()
    pids = [int(p.read_text()) for p in tmp_path.glob("*.pid")]
    assert len(pids) == 3
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_unknown_answers_in_workers_count_here():
    def unknown(n: int) -> int:
        solver.count_unknown_answers(2)
        return n

    before = solver.unknown_answers()
    assert list(workers.in_order(3, int, unknown, 2)) == [0, 1, 2]
    assert solver.unknown_answers() == before + 6


def _sample(name: str):
    from npdiff.load import load_policy_set
    from npdiff.model import Semantics

    root = Path(__file__).resolve().parents[1] / "samples" / name
    return (load_policy_set([str(root / "old")], Semantics()).policy_set,
            load_policy_set([str(root / "new")], Semantics()).policy_set)


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_unknown_pair_does_not_hide_a_proven_difference(monkeypatch, jobs):
    from npdiff.analyse.diff import diff
    from npdiff.encode import Undecided
    from npdiff.model import Semantics
    from npdiff.model.result import Verdict

    old, new = _sample("default-deny-forgets-dns")   # three pairs of zones differ
    monkeypatch.setattr(pairwise, "PAIRS_PER_PIECE", 1)
    whole = diff(old, new, Semantics())
    asked = []
    check = pairwise.check

    def first_probe_unknown(solver, what, *rest):
        asked.append(what)
        if len(asked) == 1:  # the first probe in each process (each worker has its own list)
            raise Undecided(f"{what}: solver answered unknown (injected)")
        return check(solver, what, *rest)

    monkeypatch.setattr(pairwise, "check", first_probe_unknown)
    result = diff(old, new, Semantics(), jobs=jobs)
    assert result.verdict is Verdict.DIFFERENT
    assert not result.complete and "listing incomplete: differing flows: solver answered unknown" in result.reason
    assert 0 < len(result.newly_blocked) <= len(whole.newly_blocked)
    assert whole.verdict is Verdict.DIFFERENT and whole.complete


def test_every_probe_unknown_is_undecided(monkeypatch):
    from npdiff.analyse.diff import diff
    from npdiff.encode import Undecided
    from npdiff.model import Semantics
    from npdiff.model.result import Verdict

    old, new = _sample("default-deny-forgets-dns")

    def unknown(solver, what, *rest):
        raise Undecided(f"{what}: solver answered unknown (injected)")

    monkeypatch.setattr(pairwise, "check", unknown)
    result = diff(old, new, Semantics(), jobs=2)
    assert result.verdict is Verdict.UNDECIDED and "injected" in result.reason


PARENT = r"""
import os, sys, time
sys.path.insert(0, sys.argv[1])
from npdiff.analyse import workers

def piece(n):
    os.write(1, f"{n} {os.getpid()}\n".encode())  # one write: lines of several workers never mix
    if n == 3:
        time.sleep(120)  # the last worker forked; the parent waits on it, the others go idle
    return n

for _ in workers.in_order(4, int, piece, 4):
    pass
"""


def test_idle_workers_leave_when_the_parent_is_killed(tmp_path):
    import contextlib
    import signal
    import subprocess
    import sys

    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen([sys.executable, str(script), str(Path(__file__).resolve().parents[1])],
                              stdout=subprocess.PIPE, text=True)
    pids = dict(map(int, parent.stdout.readline().split()) for _ in range(4))
    time.sleep(0.2)  # pieces 1 to 3 are done: their workers wait for commands
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    idle = [pid for n, pid in pids.items() if n != 3]
    try:
        while time.monotonic() < deadline and any(_alive(pid) for pid in idle):
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in idle)
    finally:
        for pid in pids.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"  # a zombie has left already
    except FileNotFoundError:
        return False


def test_an_unknown_answer_past_the_budget_reads_as_the_budget(monkeypatch):
    """A piece started early has more budget than one started later would: an unknown
    answer while widening a class beyond the budget must read as the budget reached."""
    from npdiff.analyse.diff import diff
    from npdiff.encode import Undecided
    from npdiff.encode.search import ClassSearch
    from npdiff.model import Semantics

    old, new = _sample("default-deny-forgets-dns")
    monkeypatch.setattr(pairwise, "PAIRS_PER_PIECE", 1)
    widened: list = []

    class Watched(ClassSearch):
        poison = None

        def _next(self):
            widened.append(self.target.hash())  # structural: the same pair in any context
            if self.target.hash() == Watched.poison:
                raise Undecided(f"{self.what}: solver answered unknown (injected)")
            return super()._next()

    monkeypatch.setattr(pairwise, "ClassSearch", Watched)
    diff(old, new, Semantics(), jobs=1)
    order = list(dict.fromkeys(widened))
    assert len(order) >= 2
    first = widened.count(order[0])
    Watched.poison = order[1]  # the second pair's first class fails to widen
    reasons = {jobs: diff(old, new, Semantics(), max_classes=first, jobs=jobs).reason for jobs in (1, 2)}
    assert reasons[1] == reasons[2] == f"newly blocked flows: listing stopped at --max-classes {first}; more classes exist"


def test_a_worker_that_dies_idle_is_an_error():
    import threading

    def run(n: int) -> int:
        if n == 0:
            threading.Timer(0.05, os._exit, (3,)).start()  # dies after sending its result
            return n
        time.sleep(0.5)
        return n

    def piece(index: int) -> int:
        if index >= 2:
            time.sleep(0.2)  # the next piece comes after the first worker has gone
        return index

    with pytest.raises(RuntimeError, match="stopped unexpectedly"):
        list(workers.in_order(6, piece, run, 2))


def test_any_number_of_jobs_works():  # capped at MAX_WORKERS, watched without select()
    assert sum(workers.in_order(530, int, lambda n: n, 530)) == sum(range(530))


def test_the_default_respects_a_cgroup_quota(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert processes._cgroup_cpus(str(tmp_path / "cpu.max")) == 2
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert processes._cgroup_cpus(str(tmp_path / "cpu.max")) == processes.MAX_JOBS
    assert 1 <= processes.available_jobs() <= processes.MAX_JOBS


def test_without_a_fork_the_pieces_run_here(monkeypatch):
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(processes.os, "fork", no_fork)
    assert list(workers.in_order(5, int, lambda n: (n, os.getpid()), 3)) == [(n, os.getpid()) for n in range(5)]


def test_pieces_past_a_spent_budget_are_not_run(monkeypatch):
    """Pairs are probed only in the directions their changed scopes can differ in, and a
    piece whose every direction is done is not run."""
    from npdiff.analyse.diff import diff
    from npdiff.model import Semantics
    from npdiff.model.result import Verdict

    old, new = _sample("default-deny-forgets-dns")   # only blocks, in several pairs of zones
    monkeypatch.setattr(pairwise, "PAIRS_PER_PIECE", 1)
    candidates = []
    pairs, piece = pairwise._pairs, pairwise._piece
    monkeypatch.setattr(pairwise, "_pairs", lambda *a: candidates.extend(pairs(*a)) or candidates)
    ran = []
    monkeypatch.setattr(pairwise, "_piece", lambda *a: ran.append(a[0]) or piece(*a))
    whole = diff(old, new, Semantics())
    assert len(candidates) >= 3 and all(directions == {0} for _, directions in candidates)
    assert whole.verdict is Verdict.DIFFERENT and whole.complete and not whole.newly_allowed
    assert len(ran) == len(candidates)
    ran.clear()
    capped = diff(old, new, Semantics(), max_classes=1)
    assert len(ran) == 1 and len(capped.newly_blocked) == 1 and not capped.complete
    assert capped.reason == "newly blocked flows: listing stopped at --max-classes 1; more classes exist"
