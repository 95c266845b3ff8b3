"""`npdiff audit`: each finding kind on a minimal case and on a near miss that must not be
reported, the golden sample, exit codes and `--fail-on`, undecided checks.

Regenerate the golden files with `NPDIFF_UPDATE_GOLDEN=1 python -m pytest tests/test_audit.py`.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from npdiff.cli import run
from npdiff.model.finding import FINDING_IDS

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = bool(os.environ.get("NPDIFF_UPDATE_GOLDEN"))


def policy(name: str, body: str, namespace: str = "shop") -> str:
    return (f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            f"metadata: {{name: {name}, namespace: {namespace}}}\nspec:\n"
            + textwrap.indent(textwrap.dedent(body).strip("\n"), "  ") + "\n")


def audit(tmp_path: Path, *documents: str, args: tuple[str, ...] = ()) -> tuple[int, list[dict]]:
    path = tmp_path / "policies.yaml"
    path.write_text("---\n".join(documents))
    result = run(["audit", str(path), "-o", "json", *args])
    assert result.exit_code in (0, 1, 3), result.stderr
    findings = json.loads(result.stdout)["findings"]
    for f in findings:  # every id and severity is the documented one
        assert f["severity"] in FINDING_IDS[f["id"]], f
    return result.exit_code, findings


def ids(findings: list[dict], *wanted: str) -> list[tuple]:
    """(id, direction, rule, peer, port) of the findings with these ids (all if none given)."""
    return [(f["id"], f["direction"], f["rule"], f.get("peer"), f.get("port"))
            for f in findings if not wanted or f["id"] in wanted]


REDUNDANCY = ("redundant-policy", "duplicate-policy", "redundant-rule", "shadowed-rule", "duplicate-rule",
              "redundant-peer", "duplicate-peer", "redundant-port", "duplicate-port")

API = """
podSelector: {matchLabels: {app: api}}
ingress:
"""


def with_rules(rules: str) -> str:
    return API + textwrap.indent(textwrap.dedent(rules).strip("\n"), "") + "\n"


# -- redundancy and shadowing -------------------------------------------------------------

def test_shadowed_rule_names_the_covering_rule(tmp_path):
    code, found = audit(tmp_path, policy("api", with_rules("""
        - from: [{podSelector: {matchLabels: {app: web}}}]
          ports: [{port: 80}, {port: 443}]
        - from: [{podSelector: {matchLabels: {app: web}}}]
          ports: [{port: 443}]
        """)))
    assert ids(found, *REDUNDANCY) == [("shadowed-rule", "ingress", 1, None, None)]
    shadow = next(f for f in found if f["id"] == "shadowed-rule")
    assert [(c["policy"], c["direction"], c["rule"]) for c in shadow["covered_by"]] == [("shop/api", "ingress", 0)]
    assert shadow["line"] == 9 and code == 1


def test_rule_covering_all_but_one_port_shadows_nothing(tmp_path):
    _, found = audit(tmp_path, policy("api", with_rules("""
        - from: [{podSelector: {matchLabels: {app: web}}}]
          ports: [{port: 80}, {port: 443}]
        - from: [{podSelector: {matchLabels: {app: web}}}]
          ports: [{port: 443}, {port: 8443}]
        """)))
    # Not the rule: only its 443 entry, which ingress[0] allows too.
    assert ids(found, *REDUNDANCY) == [("redundant-port", "ingress", 1, None, 0)]
    assert [c["rule"] for c in found[0]["covered_by"]] == [0]


def test_two_rules_together_cover_a_third(tmp_path):
    _, found = audit(tmp_path, policy("api", with_rules("""
        - from: [{podSelector: {matchLabels: {app: web}}}]
          ports: [{port: 80}]
        - from: [{podSelector: {matchLabels: {app: web}}}]
          ports: [{port: 443}]
        - from: [{podSelector: {matchLabels: {app: web}}}]
          ports: [{port: 80}, {port: 443}]
        """)))
    assert ids(found, *REDUNDANCY) == [("redundant-rule", "ingress", 2, None, None)]
    covered = next(f for f in found if f["id"] == "redundant-rule")["covered_by"]
    assert [c["rule"] for c in covered] == [0, 1]


def test_two_rules_that_cover_a_third_only_partly(tmp_path):
    _, found = audit(tmp_path, policy("api", with_rules("""
        - from: [{podSelector: {matchLabels: {app: web}}}]
          ports: [{port: 80}]
        - from: [{podSelector: {matchLabels: {app: web, tier: a}}}]
          ports: [{port: 443}]
        - from: [{podSelector: {matchLabels: {app: web}}}]
          ports: [{port: 80}, {port: 443}]
        """)))
    # ingress[2] stays (web pods without tier=a on 443); the two narrow rules go.
    assert ids(found, *REDUNDANCY) == [("shadowed-rule", "ingress", 0, None, None),
                                       ("shadowed-rule", "ingress", 1, None, None)]
    assert {c["rule"] for f in found for c in f["covered_by"]} == {2}


def test_a_duplicate_pair_is_one_finding(tmp_path):
    _, found = audit(tmp_path, policy("api", with_rules("""
        - from: [{podSelector: {matchLabels: {app: web}}}]
          ports: [{port: 80}]
        - from: [{podSelector: {matchLabels: {app: web}}}]
          ports: [{port: 80}]
        """)))
    assert ids(found, *REDUNDANCY) == [("duplicate-rule", "ingress", 1, None, None)]
    assert "remove one" in found[0]["message"]


def test_duplicate_policy_and_near_miss(tmp_path):
    body = with_rules("- from: [{podSelector: {matchLabels: {app: web}}}]")
    _, found = audit(tmp_path, policy("a", body), policy("b", body))
    assert [(f["id"], f["policy"]) for f in found if f["id"] in REDUNDANCY] == [("duplicate-policy", "shop/b")]
    other = with_rules("- from: [{podSelector: {matchLabels: {app: db}}}]")
    _, found = audit(tmp_path, policy("a", body), policy("b", other))
    assert ids(found, *REDUNDANCY) == []


def test_redundant_policy_whose_isolation_another_policy_provides(tmp_path):
    deny = "podSelector: {matchLabels: {app: api}}\npolicyTypes: [Ingress]"
    allow = with_rules("- from: [{podSelector: {matchLabels: {app: web}}}]")
    _, found = audit(tmp_path, policy("deny-api", deny), policy("api", allow))
    assert [(f["id"], f["policy"]) for f in found if f["id"] in REDUNDANCY] == [("redundant-policy", "shop/deny-api")]
    assert [c["policy"] for c in found[0]["covered_by"]] == ["shop/api"]
    # A default deny that is broader than the allowing policy is needed.
    broad = "podSelector: {}\npolicyTypes: [Ingress]"
    _, found = audit(tmp_path, policy("deny-all", broad), policy("api", allow))
    assert ids(found, *REDUNDANCY) == []


def test_policy_that_selects_no_pod_is_redundant(tmp_path):
    body = """
    podSelector:
      matchExpressions: [{key: app, operator: Exists}, {key: app, operator: DoesNotExist}]
    ingress:
    - from: [{podSelector: {}}]
    """
    _, found = audit(tmp_path, policy("never", body))
    assert [(f["id"], f["policy"]) for f in found] == [("redundant-policy", "shop/never")]
    assert "matches no pod" in found[0]["message"]


def test_redundant_peer_and_port(tmp_path):
    _, found = audit(tmp_path, policy("api", with_rules("""
        - from:
          - podSelector: {matchLabels: {app: web}}
          - podSelector: {matchLabels: {app: web, tier: a}}
          ports: [{port: 80}, {port: 80, endPort: 90}]
        """)))
    assert ids(found, *REDUNDANCY) == [("redundant-peer", "ingress", 0, 1, None),
                                       ("redundant-port", "ingress", 0, None, 0)]


def test_identical_entries_are_one_duplicate_and_the_last_entry_stays(tmp_path):
    _, found = audit(tmp_path, policy("api", with_rules("""
        - ports: [{port: 80}, {port: 80}]
        """)))
    # Removing both would leave `ports: []`, which matches every port.
    assert ids(found, *REDUNDANCY) == [("duplicate-port", "ingress", 0, None, 1)]


def test_last_egress_rule_without_policy_types_is_kept(tmp_path):
    # Removing it would drop Egress from the defaulted policyTypes (S3.1.2).
    body = """
    podSelector: {matchLabels: {app: api}}
    egress:
    - to: [{podSelector: {matchLabels: {app: db}}}]
      ports: [{port: 5432}]
    """
    allow = """
    podSelector: {matchLabels: {app: api}}
    policyTypes: [Egress]
    egress:
    - to: [{podSelector: {matchLabels: {app: db}}}]
    """
    _, found = audit(tmp_path, policy("a", body), policy("b", allow))
    assert ids(found, *REDUNDANCY) == []


def test_rules_of_other_namespaces_never_cover(tmp_path):
    rule = with_rules("- from: [{namespaceSelector: {}}]")
    _, found = audit(tmp_path, policy("api", rule, "shop"), policy("api", rule, "bank"))
    assert ids(found, *REDUNDANCY) == []


# -- ineffective rules ---------------------------------------------------------------------

DENY_EGRESS = "podSelector: {}\npolicyTypes: [Egress]\negress:\n- ports: [{port: 53, protocol: UDP}]"


def test_ineffective_rule_names_the_blocking_side(tmp_path):
    _, found = audit(tmp_path, policy("deny", DENY_EGRESS),
                     policy("api", with_rules("- from: [{podSelector: {matchLabels: {app: web}}}]\n  ports: [{port: 80}]")))
    hits = [f for f in found if f["id"] == "ineffective-rule"]
    assert [(f["policy"], f["direction"], f["rule"]) for f in hits] == [("shop/api", "ingress", 0)]
    assert [b["policy"] for b in hits[0]["blocked_by"]] == ["shop/deny"]
    assert "blocking side: egress" in hits[0]["message"]


def test_ineffective_egress_rule(tmp_path):
    deny_ingress = "podSelector: {}\npolicyTypes: [Ingress]"
    egress = """
    podSelector: {matchLabels: {app: web}}
    policyTypes: [Egress]
    egress:
    - to: [{podSelector: {matchLabels: {app: api}}}]
    - ports: [{port: 53, protocol: UDP}]
    """
    _, found = audit(tmp_path, policy("deny", deny_ingress), policy("web", egress))
    hits = [f for f in found if f["id"] == "ineffective-rule"]
    assert [(f["policy"], f["direction"], f["rule"]) for f in hits] == [("shop/web", "egress", 0)]
    assert "blocking side: ingress" in hits[0]["message"]


def test_rule_whose_sources_may_send_is_effective(tmp_path):
    web = """
    podSelector: {matchLabels: {app: web}}
    policyTypes: [Egress]
    egress:
    - to: [{podSelector: {matchLabels: {app: api}}}]
    """
    _, found = audit(tmp_path, policy("deny", DENY_EGRESS), policy("web", web),
                     policy("api", with_rules("- from: [{podSelector: {matchLabels: {app: web}}}]\n  ports: [{port: 80}]")))
    assert ids(found, "ineffective-rule") == []


def test_rule_admitting_other_namespaces_is_effective(tmp_path):
    _, found = audit(tmp_path, policy("deny", DENY_EGRESS),
                     policy("api", with_rules("- from: [{namespaceSelector: {matchLabels: {team: x}}}]")))
    assert ids(found, "ineffective-rule") == []


# -- pitfalls ------------------------------------------------------------------------------

def test_missing_dns_egress_and_near_miss(tmp_path):
    deny = "podSelector: {}\npolicyTypes: [Egress]"
    code, found = audit(tmp_path, policy("deny", deny))
    assert ids(found, "missing-dns-egress") == [("missing-dns-egress", None, None, None, None)]
    assert next(f for f in found if f["id"] == "missing-dns-egress")["severity"] == "error" and code == 1
    _, found = audit(tmp_path, policy("deny", DENY_EGRESS))
    assert ids(found, "missing-dns-egress") == []


def test_dns_allowed_for_some_pods_only(tmp_path):
    dns_for_web = """
    podSelector: {matchLabels: {app: web}}
    policyTypes: [Egress]
    egress:
    - ports: [{port: 53, protocol: UDP}]
    """
    _, found = audit(tmp_path, policy("deny", "podSelector: {}\npolicyTypes: [Egress]"), policy("dns", dns_for_web))
    assert [(f["id"], f["policy"]) for f in found if f["id"] == "missing-dns-egress"] == \
        [("missing-dns-egress", "shop/deny")]


def test_dead_rule_and_default_deny(tmp_path):
    body = """
    podSelector: {}
    policyTypes: [Ingress]
    egress:
    - to: [{podSelector: {}}]
    """
    code, found = audit(tmp_path, policy("deny", body), args=("--fail-on", "error"))
    assert ids(found) == [("default-deny", None, None, None, None), ("dead-rule", "egress", 0, None, None)]
    assert found[1]["line"] == 8 and code == 0


def test_allow_all(tmp_path):
    deny = "podSelector: {}\npolicyTypes: [Ingress]"  # so that the api policy is not redundant
    _, found = audit(tmp_path, policy("deny", deny), policy("api", with_rules("""
        - {}
        - from: [{ipBlock: {cidr: 0.0.0.0/0}}]
        - from: [{ipBlock: {cidr: 0.0.0.0/0}}, {ipBlock: {cidr: "::/0"}}]
        - from: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]
        """)))
    hits = [f for f in found if f["id"] == "allow-all"]
    assert [(f["rule"], f.get("peer")) for f in hits] == [(0, None), (1, 0), (2, 0), (2, 1)]
    assert "::/0" in hits[1]["message"] and "not covered" not in hits[2]["message"]


NAMESPACES = """apiVersion: v1
kind: Namespace
metadata: {name: monitoring, labels: {team: ops}}
"""


def test_namespace_label_missing_only_with_namespace_objects(tmp_path):
    wrong = with_rules("- from: [{namespaceSelector: {matchLabels: {name: monitoring}}}]")
    _, found = audit(tmp_path, NAMESPACES, policy("api", wrong))
    hits = [f for f in found if f["id"] == "namespace-label-missing"]
    assert [(f["rule"], f["peer"]) for f in hits] == [(0, 0)]
    assert "kubernetes.io/metadata.name: monitoring" in hits[0]["message"]
    _, found = audit(tmp_path, policy("api", wrong))
    assert ids(found, "namespace-label-missing") == []
    right = with_rules("- from: [{namespaceSelector: {matchLabels: {team: ops}}}]")
    _, found = audit(tmp_path, NAMESPACES, policy("api", right))
    assert ids(found, "namespace-label-missing") == []


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    metadata: {labels: {app: api}}
"""


def test_selects_nothing_only_with_workloads(tmp_path):
    admin = "podSelector: {matchLabels: {app: admin}}\npolicyTypes: [Ingress]"
    _, found = audit(tmp_path, DEPLOYMENT, policy("admin", admin), policy("api", with_rules("- {}")))
    assert [(f["id"], f["policy"]) for f in found if f["id"] == "selects-nothing"] == \
        [("selects-nothing", "shop/admin")]
    _, found = audit(tmp_path, policy("admin", admin))
    assert ids(found, "selects-nothing") == []


def test_peer_namespace_scope(tmp_path):
    elsewhere = DEPLOYMENT.replace("name: api, namespace: shop", "name: web, namespace: front").replace(
        "app: api", "app: web")
    rules = with_rules("- from: [{podSelector: {matchLabels: {app: web}}}]")
    _, found = audit(tmp_path, DEPLOYMENT, elsewhere, policy("api", rules))
    hits = [f for f in found if f["id"] == "peer-namespace-scope"]
    assert [(f["rule"], f["peer"]) for f in hits] == [(0, 0)] and "front" in hits[0]["message"]
    # With a web workload in shop too, the peer finds what it looks for.
    here = elsewhere.replace("namespace: front", "namespace: shop")
    _, found = audit(tmp_path, DEPLOYMENT, elsewhere, here, policy("api", rules))
    assert ids(found, "peer-namespace-scope") == []


# -- exit codes, --fail-on, undecided ------------------------------------------------------

def test_fail_on_ids_and_severities(tmp_path):
    body = "podSelector: {}\npolicyTypes: [Ingress]"
    assert audit(tmp_path, policy("deny", body))[0] == 0            # info only
    assert audit(tmp_path, policy("deny", body), args=("--fail-on", "info"))[0] == 1
    assert audit(tmp_path, policy("deny", body), args=("--fail-on", "dead-rule,error"))[0] == 0
    assert audit(tmp_path, policy("deny", body), args=("--fail-on", "default-deny"))[0] == 1
    path = tmp_path / "p.yaml"
    path.write_text(policy("deny", body))
    bad = run(["audit", str(path), "--fail-on", "nonsense"])
    assert bad.exit_code == 2 and "nonsense" in bad.stderr and not bad.stdout


def test_bad_input_is_exit_2_with_file_and_line(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(policy("api", "podSelector: {}\ningress:\n- ports: [{port: 0}]"))
    result = run(["audit", str(path)])
    assert result.exit_code == 2 and f"{path}:" in result.stderr and "Traceback" not in result.stderr


def test_undecided_checks_claim_nothing(tmp_path, monkeypatch):
    from npdiff.encode import assumptions
    from npdiff.encode.solver import Undecided

    def unknown(solver, assumptions_, what):
        raise Undecided(f"{what}: solver answered unknown (timeout)")

    monkeypatch.setattr(assumptions, "check_with", unknown)
    code, found = audit(tmp_path, policy("api", with_rules("""
        - from: [{podSelector: {matchLabels: {app: web}}}]
        - from: [{podSelector: {matchLabels: {app: web}}}]
        """)))
    assert ids(found, *REDUNDANCY, "ineffective-rule", "missing-dns-egress") == []
    assert code == 3
    path = tmp_path / "policies.yaml"
    report = json.loads(run(["audit", str(path), "-o", "json"]).stdout)
    assert report["summary"]["undecided"] == len(report["undecided"]) > 0


# -- the sample ------------------------------------------------------------------------------

def _sample(output: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(ROOT)
    return run(["audit", "samples/audit/policies", "-o", output])


@pytest.mark.parametrize("output", ["text", "json"])
def test_sample_golden(output, monkeypatch):
    result = _sample(output, monkeypatch)
    assert result.exit_code == 1, result.stderr
    golden = GOLDEN / f"audit.{'txt' if output == 'text' else 'json'}"
    if UPDATE:
        golden.write_text(result.stdout)
    assert result.stdout == golden.read_text()
    assert _sample(output, monkeypatch).stdout == result.stdout  # byte-identical across runs


def test_sample_findings_point_at_the_right_lines(monkeypatch):
    report = json.loads(_sample("json", monkeypatch).stdout)
    for f in report["findings"]:
        lines = (ROOT / f["file"]).read_text().splitlines()
        text = lines[f["line"] - 1]
        if f.get("peer") is not None:
            assert text.lstrip().startswith("- "), f
        elif f.get("port") is not None:
            assert "port" in text, f
        elif f["rule"] is not None:
            assert text.lstrip().startswith("- "), f
        else:
            assert text.startswith("apiVersion") or text.startswith("kind"), f


def test_readme_documents_every_finding_id():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Audit"):]
    assert all(f"`{finding_id}`" in section for finding_id in FINDING_IDS)
