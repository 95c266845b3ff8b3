"""Invariant files: the format, presets, and bad files (exit 2, file:line, code, no traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from npdiff.cli import run
from npdiff.load.invariants import load_invariants
from npdiff.model import InputError, Semantics
from npdiff.model.invariant import InvariantKind, Scope
from npdiff.model.policy import Direction

POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: prod}
spec:
  podSelector: {}
"""

GOOD = """\
invariants:
  - name: db
    only-from:
      to: {namespace: prod, podSelector: {matchLabels: {app: db}}}
      from: {namespace: prod, podSelector: {matchLabels: {app: backend}}}
      ports: [{port: 5432}, {protocol: UDP}]
  - name: out
    scope: named-namespaces
    only-to:
      from: {namespaceSelector: {matchLabels: {env: prod}}}
      to: [{any: true}]
  - name: iso
    isolated:
      pods: [{namespace: prod}, {namespace: dev}]
presets:
  dns:
"""


def _load(tmp_path: Path, text: str, presets: tuple[str, ...] = ()):
    path = tmp_path / "invariants.yaml"
    path.write_text(text)
    return load_invariants(str(path), presets, Semantics())


def test_a_good_file(tmp_path: Path) -> None:
    loaded = _load(tmp_path, GOOD, ("dns", "default-deny"))
    by_name = {i.name: i for i in loaded.invariants}
    assert [i.name for i in loaded.invariants] == ["db", "default-deny", "dns", "iso", "out"]
    db = by_name["db"]
    assert db.kind is InvariantKind.ONLY_FROM and db.span.line == 2
    assert [p.protocol for p in db.ports] == ["TCP", "UDP"]
    assert by_name["out"].scope is Scope.NAMED_NAMESPACES and by_name["out"].destinations[0].kind == "any"
    assert by_name["iso"].directions == frozenset(Direction) and len(by_name["iso"].sources) == 2
    assert by_name["dns"].preset == "dns" and by_name["dns"].span.line == 16
    assert by_name["default-deny"].span is None


@pytest.mark.parametrize("body, code, line", [
    ("invariants: [", "E-YAML", 2),
    ("- name: x\n", "E-INV-01", 1),
    ("invariant: []\n", "E-INV-01", 1),
    ("invariants: []\n", "E-INV-01", 0),
    ("invariants:\n  - deny: {from: {any: true}, to: {any: true}}\n", "E-INV-02", 2),
    ("invariants:\n  - name: a b\n    deny: {from: {any: true}, to: {any: true}}\n", "E-INV-02", 2),
    ("invariants:\n  - name: a\n    deny: {from: {any: true}, to: {any: true}}\n"
     "  - name: a\n    deny: {from: {any: true}, to: {any: true}}\n", "E-INV-02", 4),
    ("invariants:\n  - name: a\n", "E-INV-03", 2),
    ("invariants:\n  - name: a\n    deny: {from: {any: true}, to: {any: true}}\n    allow: {from: {any: true}, to: {any: true}}\n",
     "E-INV-03", 2),
    ("invariants:\n  - name: a\n    deny:\n      from: {any: true}\n", "E-INV-04", 4),
    ("invariants:\n  - name: a\n    deny:\n      from: []\n      to: {any: true}\n", "E-INV-04", 4),
    ("invariants:\n  - name: a\n    deny:\n      from: {}\n      to: {any: true}\n", "E-INV-05", 4),
    ("invariants:\n  - name: a\n    deny:\n      from: {any: false}\n      to: {any: true}\n", "E-INV-05", 4),
    ("invariants:\n  - name: a\n    deny:\n      from: {any: true, namespace: prod}\n      to: {any: true}\n", "E-INV-05", 4),
    ("invariants:\n  - name: a\n    deny:\n      from: {ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}\n      to: {any: true}\n",
     "E-INV-05", 4),
    ("invariants:\n  - name: a\n    isolated:\n      pods: {any: true}\n", "E-INV-05", 4),
    ("invariants:\n  - name: a\n    deny:\n      from: {namespace: Prod}\n      to: {any: true}\n", "E-INV-06", 4),
    ("invariants:\n  - name: a\n    isolated:\n      pods: {namespace: prod}\n      directions: [ingress]\n", "E-INV-07", 5),
    ("invariants:\n  - name: a\n    isolated:\n      pods: {namespace: prod}\n      directions: [Ingress, Ingress]\n",
     "E-INV-07", 5),
    ("presets:\n  zero-trust: {}\n", "E-INV-08", 2),
    ("presets:\n  dns: {exceptions: []}\n", "E-INV-08", 2),
    ("invariants:\n  - name: a\n    scope: everything\n    deny: {from: {any: true}, to: {any: true}}\n", "E-INV-09", 3),
    ("invariants:\n  - name: a\n    deny:\n      from: {podSelector: {matchLabels: {app: a b}}}\n      to: {any: true}\n",
     "E-NP-15", 4),
    ("invariants:\n  - name: a\n    deny:\n      from: {podSelector: {matchExpressions: [{key: app, operator: In}]}}\n"
     "      to: {any: true}\n", "E-NP-14", 4),
    ("invariants:\n  - name: a\n    deny:\n      from: {any: true}\n      to: {ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/8]}}\n",
     "E-NP-07", 5),
    ("invariants:\n  - name: a\n    deny:\n      from: {any: true}\n      to: {any: true}\n      ports:\n        - {protocol: tcp}\n",
     "E-NP-08", 7),
    ("invariants:\n  - name: a\n    deny:\n      from: {any: true}\n      to: {any: true}\n      ports:\n        - {port: 90, endPort: 80}\n",
     "E-NP-13", 7),
    ("invariants:\n  - name: a\n    deny:\n      from: {any: true}\n      to: {any: true}\n      colour: red\n", "E-INV-01", 6),
])
def test_bad_files_exit_2_with_file_line_and_code(tmp_path: Path, body: str, code: str, line: int) -> None:
    (tmp_path / "p.yaml").write_text(POLICY)
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    result = run(["verify", str(tmp_path / "p.yaml"), "--invariants", str(path)])
    assert result.exit_code == 2 and result.stdout == ""
    where = f"{path}:{line}: " if line else f"{path}: "
    assert any(l.startswith(where) and f"error {code}:" in l for l in result.stderr.splitlines()), result.stderr
    assert "Traceback" not in result.stderr
    diff = run([str(tmp_path / "p.yaml"), str(tmp_path / "p.yaml"), "--invariants", str(path)])
    assert diff.exit_code == 2 and diff.stdout == "" and f"error {code}:" in diff.stderr


def test_a_name_taken_by_a_preset(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        _load(tmp_path, "invariants:\n  - name: dns\n    deny: {from: {any: true}, to: {any: true}}\n", ("dns",))
    assert [(d.line, d.code) for d in caught.value.diagnostics] == [(2, "E-INV-02")]


def test_policy_and_invariant_errors_are_reported_together(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(POLICY.replace("podSelector: {}", "podSelector: {}\n  policyTypes: [ingress]"))
    (tmp_path / "i.yaml").write_text("invariants:\n  - name: a\n")
    result = run(["verify", str(tmp_path / "p.yaml"), "--invariants", str(tmp_path / "i.yaml")])
    assert result.exit_code == 2 and "E-NP-03" in result.stderr and "E-INV-03" in result.stderr


def test_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(POLICY)
    assert run(["verify", str(tmp_path / "p.yaml")]).exit_code == 2
    unknown = run(["verify", str(tmp_path / "p.yaml"), "--preset", "zero-trust"])
    assert unknown.exit_code == 2 and "zero-trust" in unknown.stderr
    twice = run(["verify", "-", "--invariants", "-"])
    assert twice.exit_code == 2 and "only once" in twice.stderr


def test_invariants_from_stdin(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(POLICY)
    result = run(["verify", str(tmp_path / "p.yaml"), "--invariants", "-"], stdin=b"presets: {dns: }\n")
    assert result.exit_code == 0 and "<stdin>:1" in result.stdout
