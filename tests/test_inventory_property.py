"""Random policy sets and random small inventories, checked against the oracle (tests/oracle.py).

(a) --inventory-only: every flow between two inventory pods, on sampled ports and every
    protocol, lies in a reported class iff the oracle says the sides disagree on it in that
    class's direction; such flows' workloads are listed on the class; witnesses are flows
    between workloads that the oracle confirms; an equivalent verdict has no such flow.
(b) symbolic mode with an inventory: witnesses are confirmed; a listed workload's pod lies
    in the class's region; a hypothetical end lists none; a disagreeing flow between
    inventory pods inside a class has both its workloads listed.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import yaml
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

import oracle
from examples.runner import cli_flags, run, write_policies
from test_classes_exact import _endpoint_in, _in_class
from test_property import (
    CONTAINER_PORTS, FLOW_NAMESPACES, FLOW_PORTS, NS_VALUES, POD_VALUES, SCALE, SETTINGS, diff_options,
    labels_from, related_sets,
)

PORTS = sorted(set(FLOW_PORTS) | {1, 79, 81, 444, 999, 2000, 2001, 8081})
PROTOCOLS = ["TCP", "UDP", "SCTP"]


@st.composite
def inventories(draw, min_workloads=1, namespaces=tuple(FLOW_NAMESPACES)):
    """(cluster objects, workloads as oracle pods keyed by 'deployment ns/name')."""
    has_object = {ns: draw(st.booleans()) for ns in FLOW_NAMESPACES}
    ns_labels = {ns: labels_from(draw, {"env": NS_VALUES["env"]}) if has_object[ns] else {}
                 for ns in FLOW_NAMESPACES}
    objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": ns_labels[ns]}}
               for ns in FLOW_NAMESPACES if has_object[ns]]
    pods = {}
    for i in range(draw(st.integers(min_workloads, 4))):
        namespace = draw(st.sampled_from(namespaces))
        labels = labels_from(draw, POD_VALUES)
        ports = draw(st.lists(st.sampled_from(CONTAINER_PORTS), max_size=3, unique_by=lambda p: (p["name"], p["port"], p["protocol"])))
        objects.append({"apiVersion": "apps/v1", "kind": "Deployment",
                        "metadata": {"name": f"w{i}", "namespace": namespace},
                        "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": [
                            {"name": "c", "ports": [{"name": p["name"], "containerPort": p["port"],
                                                     "protocol": p["protocol"]} for p in ports]}]}}}})
        pods[f"deployment {namespace}/w{i}"] = {
            "namespace": namespace, "labels": labels, "namespace_labels": dict(ns_labels[namespace]),
            "ports": [dict(p) for p in ports]}
    return objects, pods


def _diff(directory: Path, old, new, objects, options, *extra) -> tuple:
    cluster = directory / "cluster.yaml"
    cluster.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": objects}, sort_keys=False))
    args = ["diff", write_policies(directory / "old.yaml", old), write_policies(directory / "new.yaml", new),
            "--cluster", cluster, "-o", "json", *cli_flags(options), *extra]
    result = run(args)
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


def _pod_flows(pods: dict):
    for src_name, src in pods.items():
        for dst_name, dst in pods.items():
            for protocol in PROTOCOLS:
                for port in PORTS:
                    yield src_name, dst_name, {"src": src, "dst": dst, "protocol": protocol, "port": port}


def _disagreements(old, new, pods, options):
    """(direction key, src workload, dst workload, flow) for every disagreeing pod flow."""
    for src_name, dst_name, flow in _pod_flows(pods):
        before, after = oracle.allowed(old, flow, **options), oracle.allowed(new, flow, **options)
        if before != after:
            yield ("newly_allowed" if after else "newly_blocked"), src_name, dst_name, flow


def _names(flow_class: dict, end: str) -> set[str]:
    return {m["workload"] for m in flow_class["workloads"][end]}


def _check_witnesses(report: dict, old, new, options) -> None:
    for key, want in (("newly_allowed", (False, True)), ("newly_blocked", (True, False))):
        for flow_class in report[key]:
            witness = flow_class["witness"]
            got = (oracle.allowed(old, witness, **options), oracle.allowed(new, witness, **options))
            assert got == want, f"{key} witness {witness}: oracle old/new = {got}"


@settings(max_examples=28 * SCALE, **SETTINGS)
@given(pair=related_sets(), inventory=inventories(), options=diff_options)
def test_inventory_only_is_exact_on_inventory_flows(pair, inventory, options):
    old, new = pair
    objects, pods = inventory
    with tempfile.TemporaryDirectory() as directory:
        report = _diff(Path(directory), old, new, objects, options, "--inventory-only")
    assert report["universe"] == "inventory" and report["inventory"]["only"] is True
    found = list(_disagreements(old, new, pods, options))
    note(f"disagreeing inventory flows: {len(found)}")
    if report["verdict"] == "equivalent":
        assert not found, f"equivalent, but the oracle disagrees on {found[0]}"
        return
    _check_witnesses(report, old, new, options)
    for key in ("newly_allowed", "newly_blocked"):
        for flow_class in report[key]:
            assert flow_class["workloads"]["hypothetical"] == []
            witness = flow_class["witness"]
            for end in ("src", "dst"):
                if "namespace" in witness[end]:
                    assert witness[end]["workload"] in pods, witness[end]
    # Inside a class (of its direction) iff the oracle disagrees, for inventory pod flows.
    disagreeing = {(k, s, d, json.dumps(f, sort_keys=True)) for k, s, d, f in found}
    for src_name, dst_name, flow in _pod_flows(pods):
        for key in ("newly_allowed", "newly_blocked"):
            inside = [c for c in report[key] if _in_class(c, flow)]
            differs = (key, src_name, dst_name, json.dumps(flow, sort_keys=True)) in disagreeing
            if inside:
                assert differs, f"{key} class holds {flow}, on which the oracle agrees"
                assert any(src_name in _names(c, "src") and dst_name in _names(c, "dst") for c in inside)
            elif report["complete"]:
                assert not differs, f"no {key} class holds {flow}"


@settings(max_examples=10 * SCALE, **SETTINGS)
@given(pair=related_sets(), inventory=inventories(), options=diff_options)
def test_symbolic_classes_are_mapped_onto_workloads(pair, inventory, options):
    old, new = pair
    objects, pods = inventory
    with tempfile.TemporaryDirectory() as directory:
        mapped = _diff(Path(directory), old, new, objects, options)
    assert mapped["universe"] == "symbolic"
    _check_witnesses(mapped, old, new, options)
    for key in ("newly_allowed", "newly_blocked"):
        for flow_class in mapped[key]:
            workloads = flow_class["workloads"]
            for end in ("src", "dst"):
                listed = _names(flow_class, end)
                if end in workloads["hypothetical"]:
                    assert not listed and flow_class[end]["kind"] == "pod"
                for name in listed:
                    dummy = {"protocol": "TCP", "port": 1}
                    region = dict(flow_class[end], named_ports=[])   # ports: checked below
                    assert _endpoint_in(region, pods[name], dummy), (end, name)
    for key, src_name, dst_name, flow in _disagreements(old, new, pods, options):
        for flow_class in mapped[key]:
            if _in_class(flow_class, flow):
                assert src_name in _names(flow_class, "src") and dst_name in _names(flow_class, "dst")


@st.composite
def changed_workloads(draw, namespaces):
    """An inventory, and a copy in which one workload has new labels and ports."""
    objects, pods = draw(inventories(min_workloads=3, namespaces=namespaces))
    name = draw(st.sampled_from(sorted(pods)))
    labels = labels_from(draw, POD_VALUES)
    ports = draw(st.lists(st.sampled_from(CONTAINER_PORTS), max_size=3,
                          unique_by=lambda p: (p["name"], p["port"], p["protocol"])))
    changed = [json.loads(json.dumps(o)) for o in objects]
    for o in changed:
        if o["kind"] == "Deployment" and f"deployment {o['metadata']['namespace']}/{o['metadata']['name']}" == name:
            o["spec"]["template"]["metadata"]["labels"] = labels
            o["spec"]["template"]["spec"]["containers"][0]["ports"] = [
                {"name": p["name"], "containerPort": p["port"], "protocol": p["protocol"]} for p in ports]
    now = dict(pods[name], labels=labels, ports=[dict(p) for p in ports])
    return objects, changed, pods, name, now


@settings(max_examples=15 * SCALE, **SETTINGS)
@given(data=st.data(), pair=related_sets(), options=diff_options)
def test_a_workload_change_reports_exactly_the_flows_it_changes(data, pair, options):
    """(c) A changed workload's reach, against the oracle under NEW's policies: every
    partner and direction where some sampled flow changes is listed, and every listed
    delta's example flow changes as stated."""
    old, new = pair
    # Workloads where NEW's policies live, so that their changes meet them.
    namespaces = tuple(sorted({p["metadata"].get("namespace", "default") for p in new}))
    objects, changed, pods, name, now = data.draw(changed_workloads(namespaces), label="inventory")
    with tempfile.TemporaryDirectory() as directory:
        directory = Path(directory)
        old_file = write_policies(directory / "old.yaml", old + objects)
        new_file = write_policies(directory / "new.yaml", new + changed)
        result = run(["diff", old_file, new_file, "-o", "json", *cli_flags(options)])
    assert result.exit_code in (0, 1), result.stderr
    entries = [c for c in json.loads(result.stdout)["workload_changes"] if c["change"] == "changed"]
    was = pods[name]
    if was == now:
        assert entries == []
        return
    (entry,) = entries
    event(f"changed flows reported: {bool(entry['reach'])}")
    reported = {(d["direction"], d["change"], d["workload"]): (d["protocol"], d["port"]) for d in entry["reach"]}

    def changes(direction: str, partner: dict, protocol: str, port: int) -> str | None:
        before, after = ((was, partner), (now, partner)) if direction == "to" else ((partner, was), (partner, now))
        verdicts = [oracle.allowed(new, {"src": s, "dst": d, "protocol": protocol, "port": port}, **options)
                    for s, d in (before, after)]
        return {(False, True): "opened", (True, False): "closed"}.get(tuple(verdicts))

    for partner_name, partner in pods.items():
        if partner_name == name:
            continue
        for direction in ("to", "from"):
            for protocol in PROTOCOLS:
                for port in PORTS:
                    found = changes(direction, partner, protocol, port)
                    if found:
                        assert (direction, found, partner_name) in reported, (direction, found, partner_name, port)
    for (direction, change_kind, partner_name), (protocol, port) in reported.items():
        assert changes(direction, pods[partner_name], protocol, port) == change_kind
