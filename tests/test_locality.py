"""The per-scope shortcuts (analyse/locality.py) change no verdict and no class: the
optimised path is checked against `--plain` on random sets, and its parts one by one."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path

from hypothesis import given, settings

from examples.runner import cli_flags, run_diff
from npdiff.analyse.locality import FREE, Pair, PairPolicies, changed_scopes, reduce
from npdiff.cli import run
from npdiff.model import LabelSelector, NetworkPolicy, Peer, PolicySet, PortSpec, Rule, Semantics, Span
from npdiff.model.flow import METADATA_NAME
from npdiff.model.policy import Direction
from npdiff.model.selector import Operator, Requirement
from test_classes_exact import _in_class, exact_options
from test_property import SCALE, SETTINGS, flow_batches, related_sets

INGRESS, EGRESS = Direction.INGRESS, Direction.EGRESS


@settings(max_examples=22 * SCALE, **SETTINGS)
@given(pair=related_sets(), flows=flow_batches(max_size=20), options=exact_options)
def test_shortcuts_give_the_plain_verdict_and_classes(pair, flows, options):
    old, new = pair
    with tempfile.TemporaryDirectory() as directory:
        fast, fast_report = run_diff(Path(directory), old, new, options)
        plain, plain_report = run_diff(Path(directory), old, new, {**options, "plain": True})
    assert fast.exit_code == plain.exit_code, (fast.stderr, plain.stderr)
    assert fast_report["verdict"] == plain_report["verdict"]
    if not (fast_report["complete"] and plain_report["complete"]):
        return
    for flow in flows:
        for direction in ("newly_allowed", "newly_blocked"):
            in_fast = any(_in_class(c, flow) for c in fast_report[direction])
            in_plain = any(_in_class(c, flow) for c in plain_report[direction])
            assert in_fast == in_plain, f"{direction} {flow}"


@settings(max_examples=20 * SCALE, **SETTINGS)
@given(pair=related_sets(), options=exact_options)
def test_the_verdict_alone_is_the_verdict(pair, options):
    old, new = pair
    with tempfile.TemporaryDirectory() as directory:
        listed, report = run_diff(Path(directory), old, new, options)
        alone = run([str(Path(directory) / "old.yaml"), str(Path(directory) / "new.yaml"), "-o", "json",
                     "--max-classes", "0", *cli_flags(options)])
    assert alone.exit_code == listed.exit_code, alone.stderr
    assert json.loads(alone.stdout)["verdict"] == report["verdict"]


def _selector(**labels: str) -> LabelSelector:
    return LabelSelector(tuple(Requirement(k, Operator.IN, (v,)) for k, v in sorted(labels.items())))


def _policy(namespace: str, name: str, ingress=(), egress=(), types=(INGRESS,), **labels: str) -> NetworkPolicy:
    return NetworkPolicy(namespace, name, _selector(**labels), frozenset(types),
                         tuple(Rule(INGRESS, i, *r) for i, r in enumerate(ingress)),
                         tuple(Rule(EGRESS, i, *r) for i, r in enumerate(egress)))


FRONTEND = Peer(pod_selector=_selector(app="frontend"))
MONITORING = Peer(namespace_selector=LabelSelector((Requirement(METADATA_NAME, Operator.IN, ("monitoring",)),)))
TEAM = Peer(namespace_selector=_selector(team="a"))
WEB = (PortSpec("TCP", 80), PortSpec("TCP", 443))


def test_a_policy_split_per_rule_and_per_peer_changes_no_scope():
    whole = PolicySet((_policy("shop", "api", ingress=[((FRONTEND, MONITORING), WEB)], app="api"),))
    split = PolicySet((
        _policy("shop", "api-0", ingress=[((FRONTEND,), WEB)], app="api"),
        _policy("shop", "api-1", ingress=[((MONITORING,), (PortSpec("TCP", 443), PortSpec("TCP", 80)))], app="api"),
    ))
    assert changed_scopes(whole, split).empty


def test_a_changed_port_or_isolation_is_a_changed_scope():
    old = PolicySet((_policy("shop", "api", ingress=[((FRONTEND,), WEB)], app="api"),))
    opened = PolicySet((_policy("shop", "api", ingress=[((FRONTEND,), WEB + (PortSpec("TCP", 8443),))], app="api"),))
    egress_too = PolicySet((_policy("shop", "api", ingress=[((FRONTEND,), WEB)], types=(INGRESS, EGRESS),
                                    app="api"),))
    assert changed_scopes(old, opened).scopes == {("shop", INGRESS)}
    assert changed_scopes(old, egress_too).scopes == {("shop", EGRESS)}


def test_unchanged_scopes_keep_only_peers_that_may_match_a_changed_namespace():
    other = _policy("billing", "in", ingress=[((FRONTEND, MONITORING, TEAM), ())], app="ledger")
    changed_old = _policy("monitoring", "out", egress=[((), ())], types=(EGRESS,))
    changed_new = _policy("monitoring", "out", egress=[((), (PortSpec("TCP", 9090),))], types=(EGRESS,))
    old, new = PolicySet((other, changed_old)), PolicySet((other, changed_new))
    change = changed_scopes(old, new)
    assert change.scopes == {("monitoring", EGRESS)}
    reduced = {p.key: p for p in reduce(old, change, Semantics()).policies}
    # podSelector-only peers stay in billing; a name selector for monitoring and a label
    # selector may match it.
    assert reduced["billing/in"].ingress[0].peers == (MONITORING, TEAM)
    assert reduced["monitoring/out"].egress == changed_old.egress


def test_reduction_keeps_every_field_but_the_rules_it_drops():
    from test_load_sides import _everything

    policy = replace(_policy("monitoring", "out", ingress=[((TEAM,), ())], egress=[((), ())], types=(INGRESS, EGRESS)),
                     span=Span("policies/monitoring.yaml", 7))
    changed = replace(policy, egress=(Rule(EGRESS, 0, (), (PortSpec("TCP", 9090),)),))
    old, new = PolicySet((policy,)), PolicySet((changed,))
    for before, reduced in ((old, reduce(old, changed_scopes(old, new), Semantics())),
                            (new, reduce(new, changed_scopes(old, new), Semantics()))):
        # Both scopes of the namespace are kept whole: one changed, the other is the
        # namespace's own (it may meet the changed one within the namespace).
        assert _everything(reduced) == _everything(before)


def test_max_classes_zero_gives_the_verdict_alone(monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    result = run(["samples/pr-open-port/old", "samples/pr-open-port/new", "--max-classes", "0", "-o", "brief"])
    assert result.exit_code == 1
    assert result.stdout.startswith("different: the change allows or blocks some flows; they were not listed")


def test_a_pair_keeps_the_source_egress_and_the_destination_ingress():
    both = _policy("billing", "both", ingress=[((FRONTEND, MONITORING), ())], egress=[((FRONTEND, TEAM), ())],
                   types=(INGRESS, EGRESS), app="ledger")
    watcher = _policy("monitoring", "watch", ingress=[((TEAM,), ())], egress=[((), WEB)], types=(INGRESS, EGRESS))
    old = PolicySet((both, watcher))
    new = PolicySet((both, replace(watcher, egress=(Rule(EGRESS, 0, (), (PortSpec("TCP", 9090),)),))))
    change = changed_scopes(old, new)
    assert change.scopes == {("monitoring", EGRESS)}
    cut = PairPolicies(old, change, Semantics())
    into_billing = {p.key: p for p in cut(Pair("monitoring", "billing")).policies}
    # monitoring decides egress only, uncut (its scope changed); billing ingress only, cut to
    # the peers that may match a monitoring pod.
    assert into_billing["monitoring/watch"].policy_types == {EGRESS}
    assert into_billing["monitoring/watch"].egress == watcher.egress and not into_billing["monitoring/watch"].ingress
    assert into_billing["billing/both"].policy_types == {INGRESS}
    assert into_billing["billing/both"].ingress[0].peers == (MONITORING,)
    # Addresses and pods of namespaces without policies (FREE) meet only monitoring's egress.
    assert [p.key for p in cut(Pair("monitoring", FREE)).policies] == ["monitoring/watch"]
    # The same cut is the same object in every pair (the encoder memoises by identity).
    assert cut(Pair("monitoring", "billing")).policies[0] is cut(Pair("monitoring", "billing")).policies[0]
    within = {p.key: p for p in cut(Pair("monitoring", "monitoring")).policies}
    assert within["monitoring/watch"].policy_types == {INGRESS, EGRESS}
    assert within["monitoring/watch"].ingress == watcher.ingress  # team=a may label monitoring
