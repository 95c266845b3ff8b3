"""Reading a large input in several processes (load/parallel.py) gives exactly what reading
it in one does: policies and objects with every span, bodies, diagnostics and their order."""

from __future__ import annotations

import json
import os
import pickle
from dataclasses import replace
from pathlib import Path

import pytest

from npdiff import processes
from npdiff.cli import run
from npdiff.load import file_read, load_input, parallel
from npdiff.load.sides import SharedFiles
from npdiff.load.sources import read_input
from npdiff.model import InputError, LabelSelector, NetworkPolicy, Peer, PortSpec, Requirement, Rule, Semantics, Span
from npdiff.model.policy import Direction, IPBlock
from npdiff.model.selector import Operator
from test_load_sides import DEPLOYMENT, POLICY, _everything

pytestmark = pytest.mark.skipif(not processes.forking(), reason="workers fork on Linux only")

WARNED = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ranged, namespace: shop}
spec:
  podSelector: {}
  ingress:
  - ports: [{protocol: TCP, port: 8000, endPort: 8080}]
"""
OTHER = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
"""
BROKEN = WARNED.replace("ranged", "broken").replace("{protocol: TCP, port: 8000, endPort: 8080}", "{protocol: ICMP}")


def _tree(root: Path, count: int, broken: bool = False) -> Path:
    """`count` files of every sort the reader meets, in an order that mixes them."""
    root.mkdir(parents=True)
    for n in range(count):
        kind = n % 7
        if kind == 0:
            text = WARNED.replace("ranged", f"ranged-{n}")
        elif kind == 1:
            text = POLICY.format(name=f"with-{n}") + DEPLOYMENT.replace("name: web,", f"name: web-{n},")
        elif kind == 2:
            text = OTHER + "---\n" + POLICY.format(name=f"beside-{n}")
        elif kind == 3:
            text = ("# a list, as kubectl writes one\napiVersion: v1\nkind: List\nitems:\n"
                    + "".join("- " + line + "\n" if i == 0 else "  " + line + "\n"
                              for i, line in enumerate(POLICY.format(name=f"listed-{n}").splitlines())))
        elif kind == 4:
            text = json.dumps({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                               "metadata": {"name": f"json-{n}", "namespace": "db"}, "spec": {"podSelector": {}}})
        else:
            text = POLICY.format(name=f"plain-{n}") + "---\n" + POLICY.format(name=f"second-{n}")
        (root / f"f{n:04d}.{'json' if kind == 4 else 'yaml'}").write_text(text)
    if broken:
        (root / "f0003.yaml").write_text(BROKEN)
        (root / "f0040.yaml").write_text(BROKEN.replace("broken", "broken-too"))
    return root


def _load(root: Path, jobs: int, shared: SharedFiles | None = None):
    return load_input(read_input([str(root)], None), Semantics(), None, shared, jobs)


def _all(loaded) -> object:
    """Everything loaded, each body compared as a body (with its lines), however it is kept."""
    policy_set = loaded.policy_set
    bodies = [(o.key, json.dumps(o.body, sort_keys=True), _lines(o.body)) for o in policy_set.objects]
    kept = replace(policy_set, objects=tuple(replace(o, as_read=None) for o in policy_set.objects))
    return _everything(kept), bodies, loaded.diagnostics, loaded.inventory


def _lines(value: object) -> object:
    """Every line number a body carries."""
    if isinstance(value, dict):
        return (value.line, sorted((str(k), v) for k, v in value.key_lines.items()),
                [_lines(v) for v in value.values()])
    if isinstance(value, list):
        return (value.line, list(value.item_lines), [_lines(v) for v in value])
    return None


@pytest.fixture
def small_shares(monkeypatch):
    monkeypatch.setattr(parallel, "MIN_FILES", 10)


@pytest.mark.parametrize("jobs", [2, 3, 5])
def test_workers_read_what_one_process_reads(tmp_path, small_shares, jobs):
    root = _tree(tmp_path / "tree", 60)
    one, many = _load(root, 1), _load(root, jobs)
    assert len(one.policy_set.policies) > 60 and one.diagnostics and one.inventory.workloads
    assert _from_workers(many) > 10 and not _from_workers(one)
    assert _all(many) == _all(one)


def _from_workers(loaded) -> int:
    return sum(isinstance(o.as_read, parallel.Unread) for o in loaded.policy_set.objects)


def test_workers_started_before_the_load_read_what_one_process_reads(tmp_path, small_shares):
    """cli.py starts the old side's workers before it reads the new side: they are given a
    head start's worth of files at once, and the load takes them over."""
    from npdiff.load import start_reading
    root = _tree(tmp_path / "tree", 200)
    read = read_input([str(root)], None)
    started = start_reading(read, Semantics(), 3)
    assert started is not None and sum(len(w.pieces) for w in started._workers) >= 2
    loaded = load_input(read, Semantics(), None, None, 3, started=started)
    assert not started._workers   # closed by the load
    assert _from_workers(loaded) > 20 and _all(loaded) == _all(_load(root, 1))
    assert start_reading(read_input([str(_tree(tmp_path / "small", 5))], None), Semantics(), 3) is None


def test_errors_are_the_same_and_in_the_same_order(tmp_path, small_shares):
    root = _tree(tmp_path / "tree", 60, broken=True)
    with pytest.raises(InputError) as one:
        _load(root, 1)
    with pytest.raises(InputError) as many:
        _load(root, 3)
    assert many.value.diagnostics == one.value.diagnostics and len(one.value.diagnostics) >= 2


def test_the_other_side_takes_files_a_worker_read(tmp_path, small_shares):
    old = _tree(tmp_path / "old", 60)
    new = _tree(tmp_path / "new", 60)
    (new / "f0012.yaml").write_text(POLICY.format(name="plain-12").replace("- port: 80\n", "- port: 81\n"))
    one = [_load(side, 1, shared) for shared in [SharedFiles()] for side in (old, new)]
    many = [_load(side, 3, shared) for shared in [SharedFiles()] for side in (old, new)]
    assert [_all(side) for side in many] == [_all(side) for side in one]


def test_a_diff_reads_its_sides_in_workers_with_the_same_answer(tmp_path, small_shares):
    old = _tree(tmp_path / "old", 60)
    new = _tree(tmp_path / "new", 60)
    (new / "f0012.yaml").write_text(POLICY.format(name="plain-12").replace("- port: 80\n", "- port: 81\n"))
    (new / "f0026.yaml").unlink()
    one = run([str(old), str(new), "-o", "json", "--jobs", "1"])
    two = run([str(old), str(new), "-o", "json", "--jobs", "2"])
    assert one.exit_code == 1, one.stderr
    assert (two.exit_code, two.stdout, two.stderr) == (one.exit_code, one.stdout, one.stderr)
    changes = {c["name"]: c for c in json.loads(one.stdout)["changes"]}
    # Its body was read in a worker, and read again here for the structural diff.
    assert changes["plain-12"]["fields"] == ["spec.ingress[0].ports[0].port"]


def test_without_a_fork_everything_is_read_here(tmp_path, small_shares, monkeypatch):
    root = _tree(tmp_path / "tree", 30)
    expected = _all(_load(root, 1))

    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(processes.os, "fork", no_fork)
    assert _all(_load(root, 4)) == expected


@pytest.mark.parametrize("jobs", [2, 4])
def test_this_process_reads_from_the_first_file_and_the_workers_from_the_last(tmp_path, small_shares, jobs):
    """Where they meet depends on their speed alone; a file is read whole by one of them."""
    root = _tree(tmp_path / "tree", 200)
    loaded = _load(root, jobs)
    by_file: dict[str, set[bool]] = {}
    for o in loaded.policy_set.objects:
        by_file.setdefault(o.span.file.rsplit("/", 1)[-1], set()).add(isinstance(o.as_read, parallel.Unread))
    assert all(len(ways) == 1 for ways in by_file.values())
    from_workers = sorted(name for name, ways in by_file.items() if True in ways)
    assert len(from_workers) > 20 and by_file["f0000.yaml"] == {False} and by_file["f0194.yaml"] == {True}
    assert _all(loaded) == _all(_load(root, 1))


def test_policies_pickle_whole():
    selector = LabelSelector((Requirement("app", Operator.IN, ("web",)),))
    policy = NetworkPolicy("shop", "web", selector, frozenset({Direction.INGRESS}),
                           (Rule(Direction.INGRESS, 0,
                                 (Peer(selector, LabelSelector(), None, Span("a.yaml", 9), 0),
                                  Peer(None, None, IPBlock("10.0.0.0/8", ("10.1.0.0/16",)), Span("a.yaml", 11), 1)),
                                 (PortSpec("TCP", 80, 90, Span("a.yaml", 13)),), Span("a.yaml", 7)),),
                           (), Span("a.yaml", 1))
    again = pickle.loads(pickle.dumps(policy, protocol=pickle.HIGHEST_PROTOCOL))
    assert _everything(again) == _everything(policy)


def test_files_with_warnings_are_read_in_workers_too(tmp_path, small_shares):
    root = tmp_path / "tree"
    root.mkdir()
    for n in range(30):   # no namespace: a warning (W-15) for each, as in a kustomize base
        (root / f"f{n:02d}.yaml").write_text(POLICY.format(name=f"p{n}").replace("  namespace: shop\n", ""))
    one, many = _load(root, 1), _load(root, 3)
    assert sum(d.code == "W-15" for d in one.diagnostics) == 30
    # The workers' head start (two pieces of two files each) is theirs however fast this
    # process reads; how many more they take depends on the machine's load.
    assert _from_workers(many) >= 8 and _all(many) == _all(one)


def test_the_bodies_of_a_file_are_read_again_once(tmp_path, small_shares, monkeypatch):
    root = tmp_path / "tree"
    root.mkdir()
    for n in range(30):
        (root / f"f{n:02d}.yaml").write_text("---\n".join(POLICY.format(name=f"p{n}-{k}") for k in range(5)))
    loaded = _load(root, 2)
    reads = []
    read_documents = file_read.read_documents
    monkeypatch.setattr(file_read, "read_documents", lambda *a: reads.append(a[0].name) or read_documents(*a))
    from_workers = [o for o in loaded.policy_set.objects if isinstance(o.as_read, parallel.Unread)]
    assert len(from_workers) >= 25
    bodies = [o.body for o in from_workers]
    assert len(reads) == len(set(reads)) == len(from_workers) // 5
    assert [b["metadata"]["name"] for b in bodies] == [o.name for o in from_workers]


class _Awkward(Exception):
    def __init__(self, line: int, message: str) -> None:   # does not rebuild from its args alone
        super().__init__(f"{line}: {message}")


def _dies() -> None:
    os._exit(3)


def _raises() -> None:
    raise _Awkward(1, "no")


@pytest.mark.parametrize("failure", [_dies, _raises])
def test_a_worker_that_fails_leaves_its_files_to_be_read_here(tmp_path, small_shares, monkeypatch, failure):
    root = _tree(tmp_path / "tree", 60)
    expected = _all(_load(root, 1))
    parent = os.getpid()
    read_clean = parallel.read_clean

    def failing(source, *rest):
        if os.getpid() != parent:
            failure()
        return read_clean(source, *rest)

    monkeypatch.setattr(parallel, "read_clean", failing)
    loaded = _load(root, 3)
    assert _all(loaded) == expected and not _from_workers(loaded)


def test_an_interrupt_while_forking_leaves_no_worker(tmp_path, small_shares, monkeypatch):
    root = _tree(tmp_path / "tree", 40)
    forked = []
    init, start = processes.Worker.__init__, processes.Worker.start

    def remembered(self, *args):
        init(self, *args)
        forked.append(self.pid)

    def interrupted(self, index, piece):
        if len(forked) == 2:
            raise KeyboardInterrupt
        start(self, index, piece)

    monkeypatch.setattr(processes.Worker, "__init__", remembered)
    monkeypatch.setattr(processes.Worker, "start", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _load(root, 4)
    assert len(forked) == 2
    for pid in forked:
        with pytest.raises(ChildProcessError):   # stopped and reaped
            os.waitpid(pid, os.WNOHANG)
