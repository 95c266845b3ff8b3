"""Audit soundness on random policy sets (the generators of test_property.py, with copies,
narrowed copies and duplicated entries mixed in so that redundancy is common):

- removing every reported redundant element at once leaves `npdiff OLD NEW` equivalent,
  and the oracle (tests/oracle.py) agrees on random flows;
- removing them one at a time, re-auditing after each (the issue's property), too;
- removing a reported ineffective rule changes no allowed flow either.
"""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path

from hypothesis import event, given, note, settings
from hypothesis import strategies as st

import oracle
from examples.runner import cli_flags, run, run_diff, write_policies
from test_property import SCALE, SETTINGS, eval_options, flow_batches, policy_sets

REDUNDANT = {"redundant-policy", "duplicate-policy", "redundant-rule", "shadowed-rule", "duplicate-rule",
             "redundant-peer", "duplicate-peer", "redundant-port", "duplicate-port"}


@st.composite
def redundant_sets(draw):
    """A random set with a few copies of its own parts added."""
    policies = draw(policy_sets())
    for _ in range(draw(st.integers(1, 3))):
        target = draw(st.sampled_from(policies))
        spec = target["spec"]
        how = draw(st.sampled_from(["copy-policy", "copy-rule", "narrow-rule", "copy-entry", "isolate"]))
        if how == "isolate":  # an egress default deny, so that ingress rules may become ineffective
            namespace = target["metadata"].get("namespace")
            policies.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                             "metadata": {"name": f"deny{len(policies)}", **({"namespace": namespace} if namespace else {})},
                             "spec": {"podSelector": {}, "policyTypes": ["Egress"]}})
            continue
        directions = [d for d in ("ingress", "egress") if spec.get(d)]
        if how == "copy-policy" or not directions:
            clone = copy.deepcopy(target)
            clone["metadata"]["name"] += f"-copy{len(policies)}"
            policies.append(clone)
            continue
        rules = spec[draw(st.sampled_from(directions))]
        rule = draw(st.sampled_from(rules))
        if how == "copy-rule":
            rules.append(copy.deepcopy(rule))
        elif how == "narrow-rule":
            narrow = copy.deepcopy(rule)
            for key in ("from", "to", "ports"):
                if narrow.get(key) and len(narrow[key]) > 1:
                    narrow[key] = narrow[key][:1]
            rules.insert(0, narrow)
        else:
            keys = [k for k in ("from", "to", "ports") if rule.get(k)]
            if keys:
                key = draw(st.sampled_from(keys))
                rule[key].append(copy.deepcopy(draw(st.sampled_from(rule[key]))))
    return policies


def _audit(directory: Path, policies: list, options: dict, wanted=REDUNDANT) -> list[dict]:
    path = write_policies(directory / "audit.yaml", policies)
    result = run(["audit", path, "-o", "json", "--fail-on", "error", *cli_flags(options)])
    assert result.exit_code in (0, 1), result.stderr
    report = json.loads(result.stdout)
    assert not report["undecided"]
    return [f for f in report["findings"] if f["id"] in wanted]


def _key(policy: dict, default_namespace: str) -> str:
    return f"{policy['metadata'].get('namespace', default_namespace)}/{policy['metadata']['name']}"


def _remove(policies: list, findings: list[dict], default_namespace: str) -> list:
    """The set without the reported elements: entries first, then rules, then policies,
    each from the back so that indices stay valid."""
    out = copy.deepcopy(policies)
    by_key = {_key(p, default_namespace): p for p in out}

    def depth(f: dict) -> tuple:
        return (f["rule"] is None, f.get("peer") is None and f.get("port") is None)

    for f in sorted(findings, key=lambda f: (depth(f), f["policy"], f["direction"] or "", -(f["rule"] or 0),
                                             -(f.get("peer") or 0), -(f.get("port") or 0))):
        policy = by_key[f["policy"]]
        if f["rule"] is None:
            out.remove(policy)
            continue
        rules = policy["spec"][f["direction"]]
        if f.get("peer") is not None:
            del rules[f["rule"]]["from" if f["direction"] == "ingress" else "to"][f["peer"]]
        elif f.get("port") is not None:
            del rules[f["rule"]]["ports"][f["port"]]
        else:
            del rules[f["rule"]]
    return out


def _equivalent(directory: Path, old: list, new: list, options: dict, flows: list) -> None:
    result, report = run_diff(directory, old, new, options)
    assert result.exit_code == 0 and report["verdict"] == "equivalent", report and report["newly_blocked"][:1]
    for flow in flows:
        assert oracle.allowed(old, flow, **options) == oracle.allowed(new, flow, **options), flow


@settings(max_examples=20 * SCALE, **SETTINGS)
@given(data=st.data(), policies=redundant_sets(), options=eval_options)
def test_removing_reported_redundancy_keeps_the_set_equivalent(data, policies, options):
    flows = data.draw(flow_batches([policies], min_size=20, max_size=30), label="flows")
    namespace = options["default_namespace"]
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        findings = _audit(directory, policies, options)
        event(f"redundant elements reported: {min(len(findings), 3)}{'+' if len(findings) > 3 else ''}")
        note(f"findings: {[(f['id'], f['policy'], f['direction'], f['rule'], f.get('peer'), f.get('port')) for f in findings]}")
        _equivalent(directory, policies, _remove(policies, findings, namespace), options, flows)

        # An ineffective rule decides no flow: without it, nothing changes (unless it is the
        # last egress rule of a policy without policyTypes, whose removal drops Egress).
        by_key = {_key(p, namespace): p for p in policies}
        for f in _audit(directory, policies, options, {"ineffective-rule"}):
            spec = by_key[f["policy"]]["spec"]
            if f["direction"] == "ingress" or spec.get("policyTypes") or len(spec["egress"]) > 1:
                event("ineffective rule removed")
                _equivalent(directory, policies, _remove(policies, [f], namespace), options, flows)
                break

        current = policies
        for _ in range(4):
            findings = _audit(directory, current, options)
            if not findings:
                break
            current = _remove(current, findings[:1], namespace)
        _equivalent(directory, policies, current, options, flows)
