"""Files both sides of a diff hold are read once (load/sides.py): the side that finds a
file again gets what reading it would have given, down to every span a report can show,
and every report reads the same."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from npdiff.cli import run
from npdiff.load import load_input
from npdiff.load.sides import SharedFiles
from npdiff.load.sources import read_input
from npdiff.model import Peer, PortSpec, Semantics, Span
from npdiff.report import formats

POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {name}
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: {name}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - podSelector: {{matchLabels: {{app: web}}}}
    - ipBlock: {{cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}
    ports:
    - port: 80
    - {{protocol: TCP, port: 8000, endPort: 8080}}
  egress:
  - to:
    - namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: db}}}}
"""
DEPLOYMENT = """\
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web}]}
"""


def _everything(value: object) -> object:
    """`value` with every field, spans included (they do not take part in equality); of a
    peer's span and an unnamed port entry's, the line alone (no report shows their file)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        line_only = isinstance(value, Peer) or isinstance(value, PortSpec) and not isinstance(value.port, str)
        return (type(value).__name__,
                tuple((f.name, value.span.line if line_only and f.name == "span" and value.span
                       else _everything(getattr(value, f.name))) for f in dataclasses.fields(value)))
    if isinstance(value, (tuple, list)):
        return tuple(_everything(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return tuple(sorted(repr(v) for v in value))
    return repr(value)


def _own_spans(loaded):
    """`loaded` with every span of its policies in the file that `file_of` names: as if
    each file had been read by that side itself."""
    policy_set = loaded.policy_set

    def moved(value):
        if isinstance(value, Span):
            return Span(policy_set.file_of(value), value.line)
        if isinstance(value, tuple):
            return tuple(moved(v) for v in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, (type, Peer)):
            return dataclasses.replace(value, **{f.name: moved(getattr(value, f.name))
                                                 for f in dataclasses.fields(value) if f.init})
        return value

    return dataclasses.replace(loaded, policy_set=dataclasses.replace(
        policy_set, policies=moved(policy_set.policies), aliases=()))


def test_a_file_found_again_reads_as_its_own(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    (old / "a.yaml").write_text(POLICY.format(name="a"))           # kept as is
    (old / "b.yaml").write_text(POLICY.format(name="b"))           # moved in NEW
    (old / "c.yaml").write_text(POLICY.format(name="c"))           # changed in NEW
    (old / "d.yaml").write_text(POLICY.format(name="d") + DEPLOYMENT)  # not only policies
    shutil.copytree(old, new)
    (new / "b.yaml").rename(new / "moved-b.yaml")
    (new / "c.yaml").write_text(POLICY.format(name="c").replace("- port: 80\n", "- port: 443\n"))
    semantics = Semantics()
    shared = SharedFiles()
    first = load_input(read_input([str(old)], None), semantics, shared=shared)
    found_again = load_input(read_input([str(new)], None), semantics, shared=shared)
    read_anew = load_input(read_input([str(new)], None), semantics)
    assert _everything(_own_spans(found_again)) == _everything(read_anew)
    # The policies of a file found again are taken as they are, not built again.
    (before,) = [p for p in first.policy_set.policies if p.name == "a"]
    (after,) = [p for p in found_again.policy_set.policies if p.name == "a"]
    assert after is before
    # The new side names the new side's files, the moved one included.
    files = {found_again.policy_set.file_of(p.span) for p in found_again.policy_set.policies}
    assert files == {str(new / name) for name in ("a.yaml", "moved-b.yaml", "c.yaml", "d.yaml")}
    assert dict(found_again.policy_set.aliases) == {str(old / "a.yaml"): str(new / "a.yaml"),
                                                    str(old / "b.yaml"): str(new / "moved-b.yaml")}
    # Findings (W-09 for the endPort) are the new side's own.
    assert {d.file for d in found_again.diagnostics} <= {str(new / n) for n in ("a.yaml", "moved-b.yaml", "c.yaml", "d.yaml")}
    assert found_again.diagnostics


SHARED = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  podSelector: {{}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - podSelector: {{matchLabels: {{app: web}}}}
    - namespaceSelector: {{matchLabels: {{team: {name}}}}}
    ports:
    - {{port: http}}
    - {{port: 8000, endPort: 8080}}
    - {{protocol: SCTP, port: 9000}}
  egress:
  - to:
    - ipBlock: {{cidr: 0.0.0.0/0}}
    ports:
    - {{port: metrics}}
    - {{port: 443}}
"""
CLUSTER = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: web, image: web, ports: [{name: web, containerPort: 80}]}]}
"""


@pytest.mark.parametrize("output", formats.NAMES)
def test_every_report_reads_as_with_each_file_read_anew(tmp_path: Path, monkeypatch, output: str) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    for name, namespace in (("a", "shop"), ("b", "shop"), ("c", "shop"), ("d", "bank")):
        (old / f"{name}.yaml").write_text(SHARED.format(name=name, namespace=namespace))
    shutil.copytree(old, new)
    (new / "b.yaml").rename(new / "moved-b.yaml")
    # Newly allowed: shop to bank on 8001, which d (found again) admits into bank.
    (new / "c.yaml").write_text(SHARED.format(name="c", namespace="shop")
                                + "  - to: [{namespaceSelector: {}}]\n    ports: [{port: 8001}]\n")
    (tmp_path / "cluster.yaml").write_text(CLUSTER)
    argv = [str(old), str(new), "--cluster", str(tmp_path / "cluster.yaml"), "-o", output]
    shared = run(argv)
    monkeypatch.setattr(SharedFiles, "get", lambda self, *args: None)
    anew = run(argv)
    assert (shared.exit_code, shared.stdout, shared.stderr) == (anew.exit_code, anew.stdout, anew.stderr)
    assert shared.exit_code == 1 and "W-07" in shared.stderr and "W-09" in shared.stderr
    assert str(new / "moved-b.yaml") in shared.stderr
    if output == "json":
        assert str(new / "d.yaml") in shared.stdout


ISOLATING = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: x, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
"""


@pytest.mark.parametrize("twice", [False, True])
def test_findings_of_a_side_name_its_own_files(tmp_path: Path, monkeypatch, twice: bool) -> None:
    """W-11 (no DNS egress) and a policy defined twice are found over a whole side: where
    the policies of a file found again keep the other side's spans, they still name this
    side's file."""
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    (old / "x.yaml").write_text(ISOLATING)
    shutil.copytree(old, new)
    (new / "x.yaml").rename(new / "moved-x.yaml")
    if twice:
        (new / "again.yaml").write_text(ISOLATING)   # the same bytes: x defined twice
    argv = [str(old), str(new), "-o", "json"]
    shared = run(argv)
    monkeypatch.setattr(SharedFiles, "get", lambda self, *args: None)
    anew = run(argv)
    assert (shared.exit_code, shared.stdout, shared.stderr) == (anew.exit_code, anew.stdout, anew.stderr)
    if twice:
        assert shared.exit_code == 2 and "defined twice" in shared.stderr
        assert str(new / "moved-x.yaml") in shared.stderr and str(new / "again.yaml") in shared.stderr
    else:
        assert "W-11" in shared.stderr and str(new / "moved-x.yaml") in shared.stdout


def _policy(name: str, port: int = 80) -> bytes:
    return POLICY.format(name=name).replace("- port: 80\n", f"- port: {port}\n").encode()


A, B, C = _policy("a"), _policy("b", 81), _policy("c", 82)
NAMED = {   # names the two sides give their files (as git revisions or stdin may), and what they hold
    "swapped": ([("X", A), ("Y", B)], [("X", B), ("Y", A), ("Z", C)]),
    "same name and a copy": ([("X", A), ("Y", B)], [("W", A), ("X", A), ("Y", B), ("Z", C)]),
    "name held by another file": ([("X", A), ("Y", B)], [("W", A), ("X", C), ("Y", B)]),
    "two copies": ([("X", A)], [("W", A), ("Z", A)]),
    "a copy within the first side": ([("X", A), ("Y", A)], [("W", A)]),
}


@pytest.mark.parametrize("name", NAMED)
@pytest.mark.parametrize("flip", [False, True])
def test_names_either_side_may_give_read_as_their_own(name: str, flip: bool) -> None:
    """Whatever the two sides call their files, the second reads as if read alone: a file
    found again is shared only where its first name stands for it alone on that side."""
    from npdiff.load import Loaded
    from npdiff.load.sources import Input, Source
    from npdiff.model import InputError

    first, second = NAMED[name][::-1] if flip else NAMED[name]

    def read(files, shared=None):
        try:
            return load_input(Input(tuple(Source(n, data) for n, data in files)), Semantics(), shared=shared)
        except InputError as exc:
            return exc.diagnostics

    shared = SharedFiles()
    read(first, shared)
    found_again, read_anew = read(second, shared), read(second)
    if not isinstance(read_anew, Loaded):
        assert list(found_again) == list(read_anew)   # a policy defined twice: the same errors, in the same files
        return
    assert _everything(_own_spans(found_again)) == _everything(read_anew)
