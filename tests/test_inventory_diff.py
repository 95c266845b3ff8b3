"""Diffs with an inventory: workload changes apart from policy changes, hypothetical classes,
--inventory-only (with named ports resolved by containers), --cluster, and usage errors."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from npdiff.cli import run

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
SAMPLE = ["samples/workloads/old", "samples/workloads/new"]


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def report(*args: str) -> dict:
    result = run(["diff", *args, "-o", "json"])
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("output", ["text", "json"])
def test_inventory_only_golden(output: str, at_root) -> None:
    result = run(["diff", *SAMPLE, "--inventory-only", "-o", output])
    assert result.exit_code == 1, result.stderr
    golden = GOLDEN / f"workloads-inventory-only.{'txt' if output == 'text' else 'json'}"
    if os.environ.get("NPDIFF_UPDATE_GOLDEN"):
        golden.write_text(result.stdout)
    assert result.stdout == golden.read_text()


def test_workload_changes_are_reported_apart_from_policy_changes(at_root) -> None:
    doc = report(*SAMPLE)
    assert {c["kind"] for c in doc["changes"]} == {"NetworkPolicy"}
    assert [(c["kind"], c["name"], c["change"], c["fields"]) for c in doc["workload_changes"]] == [
        ("Deployment", "api", "changed", ["labels.version"]), ("CronJob", "report", "added", [])]
    text = run(["diff", *SAMPLE]).stdout
    assert ("Changed workloads\n  ~ deployment prod/api (samples/workloads/new/workloads.yaml:16): "
            "labels.version v1 -> v2\n      under NEW's policies, no flow with another workload changes\n"
            "  + cronjob prod/report") in text
    assert doc["workload_changes"][0]["values"] == [{"old": "v1", "new": "v2"}]


def test_classes_name_workloads_and_mark_hypothetical_ends(at_root) -> None:
    doc = report(*SAMPLE)
    by_src = {tuple(c["src"]["labels"][0]["values"]) if c["src"]["labels"] else (): c for c in doc["newly_allowed"]}
    batch = by_src[("batch",)]
    assert [m["workload"] for m in batch["workloads"]["src"]] == ["cronjob prod/report"]
    assert batch["workloads"]["src"][0]["version"] == "new"
    assert [m["workload"] for m in batch["workloads"]["dst"]] == ["statefulset prod/db"]
    assert batch["witness"]["src"]["workload"] == "cronjob prod/report"
    assert (batch["witness"]["protocol"], batch["witness"]["port"]) == ("TCP", 5432)
    gateway = by_src[("mobile-gateway",)]
    assert gateway["workloads"]["hypothetical"] == ["src"] and gateway["workloads"]["src"] == []
    assert gateway["witness"]["dst"]["workload"] == "deployment prod/api"
    only = report(*SAMPLE, "--inventory-only")
    assert all(not c["workloads"]["hypothetical"] for c in only["newly_allowed"])
    assert len(only["newly_allowed"]) < len(doc["newly_allowed"])


POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - ports: [{port: %s}]
"""

WORKLOAD = """\
apiVersion: apps/v1
kind: %s
metadata: {name: %s, namespace: prod}
spec:
  template:
    metadata: {labels: {app: %s}}
    spec: {containers: [{name: c, ports: [{name: sql, containerPort: %d}]}]}
"""


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_named_ports_resolve_on_the_inventorys_containers(tmp_path: Path) -> None:
    old = write(tmp_path / "old.yaml", POLICY % "5432")
    new = write(tmp_path / "new.yaml", POLICY % "sql")
    cluster = write(tmp_path / "cluster.yaml", WORKLOAD % ("StatefulSet", "db", "db", 5432) + "---\n"
                    + WORKLOAD % ("Deployment", "web", "web", 8080))
    # Symbolically, `sql` may be any port; in the inventory, db declares it on 5432 only.
    symbolic = report(old, new, "--cluster", cluster)
    assert symbolic["verdict"] == "different"
    assert report(old, new, "--cluster", cluster, "--inventory-only")["verdict"] == "equivalent"
    moved = write(tmp_path / "moved.yaml", WORKLOAD % ("StatefulSet", "db", "db", 6543))
    doc = report(old, new, "--cluster", moved, "--inventory-only")
    assert [(c["witness"]["port"], c["witness"]["dst"]["workload"]) for c in doc["newly_allowed"]] == [
        (6543, "statefulset prod/db")]
    assert [(c["witness"]["port"], c["witness"]["dst"]["workload"]) for c in doc["newly_blocked"]] == [
        (5432, "statefulset prod/db")]
    assert doc["universe"] == "inventory"


def test_side_inputs_override_the_cluster(tmp_path: Path) -> None:
    policies = POLICY % "5432"
    cluster = write(tmp_path / "cluster.yaml", WORKLOAD % ("Deployment", "web", "web", 80))
    write(tmp_path / "old/p.yaml", policies)
    write(tmp_path / "new/p.yaml", policies)
    write(tmp_path / "new/w.yaml", WORKLOAD % ("Deployment", "web", "frontend", 80))
    doc = report(str(tmp_path / "old"), str(tmp_path / "new"), "--cluster", cluster)
    assert doc["verdict"] == "equivalent"
    assert [(c["name"], c["change"], c["fields"], c["values"], c["file"]) for c in doc["workload_changes"]] == [
        ("web", "changed", ["labels.app"], [{"old": "web", "new": "frontend"}], str(tmp_path / "new/w.yaml"))]
    assert doc["inventory"] == {"only": False, "old": {"workloads": 1, "namespaces": 0},
                                "new": {"workloads": 1, "namespaces": 0}}


def test_inventory_only_needs_workloads(tmp_path: Path) -> None:
    old = write(tmp_path / "old.yaml", POLICY % "5432")
    result = run(["diff", old, old, "--inventory-only"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "--inventory-only" in result.stderr and "no workloads" in result.stderr


def test_a_bad_cluster_file_is_an_input_error(tmp_path: Path) -> None:
    old = write(tmp_path / "old.yaml", POLICY % "5432")
    cluster = write(tmp_path / "cluster.yaml", WORKLOAD % ("Deployment", "web", "web", 0))
    result = run(["diff", old, old, "--cluster", cluster])
    assert result.exit_code == 2 and result.stdout == ""
    assert f"{cluster}:7: error E-WL: spec.template.spec.containers[0].ports[0].containerPort" in result.stderr
    assert run(["diff", old, "-", "--cluster", "-"]).exit_code == 2


def test_a_named_port_no_workload_declares_is_warned_about(tmp_path: Path) -> None:
    old = write(tmp_path / "old.yaml", POLICY % "5432")
    new = write(tmp_path / "new.yaml", POLICY % "pg")
    cluster = write(tmp_path / "cluster.yaml", WORKLOAD % ("StatefulSet", "db", "db", 5432))
    result = run(["diff", old, new, "--cluster", cluster])
    assert f"{new}:7: warning W-07: spec.ingress[0].ports[0].port: no workload" in result.stderr
    assert "W-07" not in run(["diff", old, new]).stderr


def test_a_workload_is_listed_only_with_a_partner_its_namespace_labels_allow() -> None:
    from npdiff.analyse.workloads import _Ends, candidates
    from npdiff.model import Flow, Pod
    from npdiff.model.inventory import Inventory, Namespace, Workload
    from npdiff.model.result import (
        DirectionDecision, DirectionStatus, EndpointRegion, FlowClass, FlowDecision, ValueConstraint,
    )

    prod = ValueConstraint("namespace", "in", ("prod",))
    witness = Flow(Pod("prod"), Pod("prod"), "TCP", 80)
    decision = FlowDecision(witness, False, DirectionDecision("egress", DirectionStatus.NOT_ISOLATED),
                            DirectionDecision("ingress", DirectionStatus.DENIED))
    flow_class = FlowClass(
        src=EndpointRegion("pod", namespace=prod),
        dst=EndpointRegion("pod", namespace=prod, namespace_labels=(ValueConstraint("env", "in", ("x",)),)),
        protocols=("TCP",), ports=((80, 80),), witness=witness, old=decision, new=decision)
    inventory = Inventory.of([Namespace("prod", (("env", "prod"),))], [Workload("Deployment", "prod", "web")])
    # Symbolically the class's destinations are pods of a `prod` labelled env=x; this
    # cluster's `prod` is labelled env=prod, so its web pods meet none of them.
    ends = _Ends(flow_class, [(c, c.pod()) for c in candidates(Inventory(), inventory)], inventory_only=False)
    assert ends.record.src == () and ends.record.dst == ()
    assert ends.record.hypothetical == ("src", "dst")
    relabelled = Inventory.of([Namespace("prod", (("env", "x"),))], inventory.workloads)
    ends = _Ends(flow_class, [(c, c.pod()) for c in candidates(Inventory(), relabelled)], inventory_only=False)
    assert [m.ref for m in ends.record.src] == ["deployment prod/web"] and ends.record.hypothetical == ()


def test_inventory_only_warns_about_namespaces_without_labels(tmp_path: Path) -> None:
    old = write(tmp_path / "old.yaml", POLICY % "5432")
    cluster = write(tmp_path / "cluster.yaml", WORKLOAD % ("StatefulSet", "db", "db", 5432))
    result = run(["diff", old, old, "--cluster", cluster, "--inventory-only"])
    assert result.exit_code == 0
    assert f"{cluster}:1: warning W-WL: metadata.namespace: namespace 'prod' has no Namespace object" in result.stderr
    assert "W-WL" not in run(["diff", old, old, "--cluster", cluster]).stderr


def test_an_equivalence_under_inventory_only_says_what_it_covers(tmp_path: Path) -> None:
    old = write(tmp_path / "old.yaml", POLICY % "5432")
    new = write(tmp_path / "new.yaml", POLICY % "sql")
    cluster = write(tmp_path / "cluster.yaml", WORKLOAD % ("StatefulSet", "db", "db", 5432))
    result = run(["diff", old, new, "--cluster", cluster, "--inventory-only"])
    assert result.exit_code == 0
    assert result.stdout.startswith("equivalent: ")
    assert "pods that no workload provides were not considered" in result.stdout
    assert json.loads(run(["diff", old, new, "--cluster", cluster, "--inventory-only", "-o", "json"]).stdout)[
        "universe"] == "inventory"


def test_a_relabelled_workload_says_what_it_now_reaches(tmp_path: Path) -> None:
    """Policies unchanged, web relabelled app=api: equivalent, yet web now reaches db."""
    for side in ("old", "new"):
        for name in ("namespaces.yaml", "policies.yaml", "workloads.yaml"):
            text = (ROOT / "samples/workloads/old" / name).read_text()
            if side == "new" and name == "workloads.yaml":
                text = text.replace("labels: {app: web}", "labels: {app: api}", 1)
            write(tmp_path / side / name, text)
    args = [str(tmp_path / "old"), str(tmp_path / "new")]
    result = run(["diff", *args])
    assert result.exit_code == 0 and result.stdout.startswith("equivalent")
    assert ("  ~ deployment prod/web (" in result.stdout
            and "): labels.app web -> api\n      now reaches statefulset prod/db (TCP 5432)\n" in result.stdout)
    (change,) = report(*args)["workload_changes"]
    assert change["reach_reason"] == ""
    assert {(d["direction"], d["change"], d["workload"]) for d in change["reach"]} == {
        ("to", "opened", "statefulset prod/db"), ("to", "closed", "deployment prod/api"),
        ("from", "closed", "deployment monitoring/prometheus"), ("from", "closed", "deployment prod/api"),
        ("from", "closed", "statefulset prod/db")}


def test_workloads_on_one_side_only_are_not_qualified(tmp_path: Path) -> None:
    old = write(tmp_path / "old.yaml", POLICY % "5432")
    write(tmp_path / "new/p.yaml", POLICY % "sql")
    write(tmp_path / "new/w.yaml", WORKLOAD % ("StatefulSet", "db", "db", 6543))
    doc = report(old, str(tmp_path / "new"))
    assert [c["change"] for c in doc["workload_changes"]] == ["added"]
    versions = {m["version"] for c in doc["newly_allowed"] + doc["newly_blocked"] for m in c["workloads"]["dst"]}
    assert versions == {None}
