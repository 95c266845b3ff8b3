"""samples/zero-trust: the README's example invariants give the documented answers, the
presets hold, and a deliberately broken policy turns a proven invariant into a violated
one whose witness `npdiff eval` and the oracle confirm. Outputs are golden.

Regenerate the golden files after an intended change with
`NPDIFF_UPDATE_GOLDEN=1 python -m pytest tests/test_verify_sample.py`.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

import oracle
from npdiff.cli import run

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "zero-trust"
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = bool(os.environ.get("NPDIFF_UPDATE_GOLDEN"))

DOCUMENTED = {  # README, "Verify", and samples/zero-trust/README.md
    "db-only-from-backend": "proven",
    "default-deny-everywhere": "violated",
    "dns-works": "proven",
    "no-dev-to-prod": "violated",
    "web-egress-only-to-api": "violated",
}


def _verify(monkeypatch: pytest.MonkeyPatch, *args: str):
    monkeypatch.chdir(ROOT)
    return run(["verify", "samples/zero-trust/policies", *args])


def test_readme_example_is_the_sample_file() -> None:
    readme = (ROOT / "README.md").read_text()
    assert (SAMPLE / "invariants.yaml").read_text() in readme


@pytest.mark.parametrize("output", ["text", "json"])
def test_documented_answers(monkeypatch: pytest.MonkeyPatch, output: str) -> None:
    result = _verify(monkeypatch, "--invariants", "samples/zero-trust/invariants.yaml", "-o", output)
    assert result.exit_code == 1, result.stderr
    golden = GOLDEN / f"zero-trust-verify.{'txt' if output == 'text' else 'json'}"
    if UPDATE:
        golden.write_text(result.stdout)
    assert result.stdout == golden.read_text()
    if output == "json":
        report = json.loads(result.stdout)
        assert {i["name"]: i["status"] for i in report["invariants"]} == DOCUMENTED
        web = next(i for i in report["invariants"] if i["name"] == "web-egress-only-to-api")
        assert web["witness"]["dst"]["labels"] == {"k8s-app": "kube-dns"}


def test_presets_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _verify(monkeypatch, "--invariants", "samples/zero-trust/presets.yaml", "-o", "json")
    assert result.exit_code == 0, result.stdout
    assert [i["name"] for i in json.loads(result.stdout)["invariants"]] == ["default-deny", "dns", "no-cross-namespace"]
    # Without its exceptions, no-cross-namespace is refuted by DNS and by the ingress controller.
    bare = _verify(monkeypatch, "--preset", "no-cross-namespace")
    assert bare.exit_code == 1


def test_a_broken_policy_is_caught_and_the_witness_confirmed(tmp_path: Path) -> None:
    """The classic mistake: one dash too many turns "backend pods" AND "any namespace" into OR."""
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(SAMPLE / "policies", old)
    shutil.copytree(SAMPLE / "policies", new)
    db = new / "prod" / "db.yaml"
    text = db.read_text()
    broken = text.replace("        - podSelector:\n            matchLabels: {app: backend}",
                          "        - namespaceSelector: {}\n        - podSelector:\n            matchLabels: {app: backend}")
    assert broken != text
    db.write_text(broken)
    invariants = str(SAMPLE / "invariants.yaml")

    report = json.loads(run(["verify", str(new), "--invariants", invariants, "-o", "json"]).stdout)
    result = next(i for i in report["invariants"] if i["name"] == "db-only-from-backend")
    assert result["status"] == "violated"
    witness = result["witness"]
    assert witness["dst"]["labels"] == {"app": "db"} and witness["port"] == 5432
    assert [r["file"] for r in result["decided_by"]] == [str(new / "prod" / "db.yaml")]

    flows = tmp_path / "witness.jsonl"
    flows.write_text(json.dumps(witness) + "\n")
    assert run(["eval", str(new), "--flows", str(flows)]).stdout.startswith("ALLOW")
    assert run(["eval", str(old), "--flows", str(flows)]).stdout.startswith("DENY")
    policies = [d for f in sorted(new.rglob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]
    assert oracle.allowed(policies, witness)

    review = run([str(old), str(new), "--invariants", invariants, "-o", "json"])
    assert review.exit_code == 1
    section = json.loads(review.stdout)["invariants"]
    assert section["summary"] == {"broken": 1, "repaired": 0, "unchanged": 4}
    assert section["results"][0]["name"] == "db-only-from-backend"


def test_documented_fixes_hold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """samples/zero-trust/README.md: how each violated invariant is written so that it holds."""
    fixed = {"invariants": [
        {"name": "web-egress", "only-to": {
            "from": {"namespace": "prod", "podSelector": {"matchLabels": {"app": "web"}}},
            "to": [{"namespace": "prod", "podSelector": {"matchLabels": {"app": "api"}}},
                   {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}},
                   {"namespace": "kube-system", "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]}},
        {"name": "no-dev-to-prod", "deny": {"from": {"namespace": "dev"}, "to": {"namespace": "prod"}}},
        {"name": "default-deny", "scope": "named-namespaces", "isolated": {"pods": {"namespaceSelector": {
            "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                                  "values": ["kube-system"]}]}}}},
    ]}
    path = tmp_path / "fixed.yaml"
    path.write_text(yaml.safe_dump(fixed))
    result = _verify(monkeypatch, "--invariants", str(path))
    assert result.exit_code == 0, result.stdout
