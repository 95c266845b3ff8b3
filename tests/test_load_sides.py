"""Files both sides of a diff hold are read once (load/sides.py): the side that finds a
file again gets exactly what reading it would have given, down to every span."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from npdiff.load import load_input
from npdiff.load.sides import SharedFiles
from npdiff.load.sources import read_input
from npdiff.model import Semantics

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
    """`value` with every field, spans included (they do not take part in equality)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__,
                tuple((f.name, _everything(getattr(value, f.name))) for f in dataclasses.fields(value)))
    if isinstance(value, (tuple, list)):
        return tuple(_everything(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return tuple(sorted(repr(v) for v in value))
    return repr(value)


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
    load_input(read_input([str(old)], None), semantics, shared=shared)
    found_again = load_input(read_input([str(new)], None), semantics, shared=shared)
    read_anew = load_input(read_input([str(new)], None), semantics)
    assert _everything(found_again) == _everything(read_anew)
    # The new side's spans name the new side's files, the moved one included.
    files = {p.span.file for p in found_again.policy_set.policies}
    assert files == {str(new / name) for name in ("a.yaml", "moved-b.yaml", "c.yaml", "d.yaml")}
    # Findings (W-09 for the endPort) are the new side's own.
    assert {d.file for d in found_again.diagnostics} <= {str(new / n) for n in ("a.yaml", "moved-b.yaml", "c.yaml", "d.yaml")}
    assert found_again.diagnostics
