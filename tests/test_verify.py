"""`npdiff verify`: every kind of invariant proven and violated, witnesses checked against
the plain evaluator (tests/oracle.py), symbolic strength, presets, undecided, review."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import oracle
from npdiff.cli import run
from npdiff.encode import Undecided

DB_FROM_BACKEND = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: backend}}}]
      ports: [{port: 5432}]
"""

WEB_EGRESS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: prod}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to: [{podSelector: {matchLabels: {app: api}}}]
      ports: [{port: 8080}]
"""

DEFAULT_DENY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: prod}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"""

PROD_DB = {"namespace": "prod", "podSelector": {"matchLabels": {"app": "db"}}}
PROD_BACKEND = {"namespace": "prod", "podSelector": {"matchLabels": {"app": "backend"}}}
PROD_WEB = {"namespace": "prod", "podSelector": {"matchLabels": {"app": "web"}}}
PROD_API = {"namespace": "prod", "podSelector": {"matchLabels": {"app": "api"}}}


def _policies(tmp_path: Path, *bodies: str, name: str = "policies") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for index, body in enumerate(bodies):
        (folder / f"p{index}.yaml").write_text(body)
    return folder


def _invariants(tmp_path: Path, *invariants: dict, presets: dict | None = None) -> Path:
    path = tmp_path / "invariants.yaml"
    document: dict = {"invariants": list(invariants)}
    if presets is not None:
        document["presets"] = presets
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _verify(policies: Path, *args: str) -> tuple[int, dict]:
    result = run(["verify", str(policies), *args, "-o", "json"])
    assert result.exit_code in (0, 1, 3), result.stderr
    return result.exit_code, json.loads(result.stdout)


def _one(report: dict, name: str) -> dict:
    return next(i for i in report["invariants"] if i["name"] == name)


def _policy_dicts(folder: Path) -> list[dict]:
    return [d for f in sorted(folder.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]


def _check_witness(folder: Path, result: dict) -> None:
    """The witness is decided as the report says, by npdiff eval and by the oracle."""
    witness = result["witness"]
    assert witness is not None and result["classes"]
    assert result["classes"][0]["witness"] == witness
    allowed = result["decision"]["allowed"]
    assert oracle.allowed(_policy_dicts(folder), witness) is allowed
    flows = folder.parent / "witness.jsonl"
    flows.write_text(json.dumps(witness) + "\n")
    evaluated = run(["eval", str(folder), "--flows", str(flows), "-o", "json"])
    assert json.loads(evaluated.stdout)[0]["allowed"] is allowed
    for flow_class in result["classes"]:
        assert oracle.allowed(_policy_dicts(folder), flow_class["witness"]) is flow_class["decision"]["allowed"]


# -- each kind, proven and violated --------------------------------------------------------------

@pytest.mark.parametrize("source, status", [
    ([PROD_BACKEND], "proven"),
    ([{"namespace": "prod", "podSelector": {"matchLabels": {"app": "web"}}}], "violated"),
])
def test_only_from(tmp_path: Path, source: list, status: str) -> None:
    policies = _policies(tmp_path, DB_FROM_BACKEND)
    invariants = _invariants(tmp_path, {"name": "db", "only-from": {"to": PROD_DB, "from": source}})
    code, report = _verify(policies, "--invariants", str(invariants))
    result = _one(report, "db")
    assert result["status"] == status and code == (0 if status == "proven" else 1)
    if status == "violated":
        _check_witness(policies, result)
        src = result["witness"]["src"]
        assert src["namespace"] == "prod" and src["labels"].get("app") == "backend"
        assert result["decided_by"][0]["policy"] == "prod/db"


def test_only_from_ports_restrict_the_allowed_flows(tmp_path: Path) -> None:
    policies = _policies(tmp_path, DB_FROM_BACKEND)
    narrow = {"to": PROD_DB, "from": PROD_BACKEND, "ports": [{"port": 5432}]}
    wrong = {"to": PROD_DB, "from": PROD_BACKEND, "ports": [{"port": 5433}]}
    invariants = _invariants(tmp_path, {"name": "narrow", "only-from": narrow}, {"name": "wrong", "only-from": wrong})
    _, report = _verify(policies, "--invariants", str(invariants))
    assert _one(report, "narrow")["status"] == "proven"
    wrong_result = _one(report, "wrong")
    assert wrong_result["status"] == "violated" and wrong_result["witness"]["port"] == 5432


def test_only_to(tmp_path: Path) -> None:
    widened = WEB_EGRESS.replace("ports: [{port: 8080}]", "ports: [{port: 8080}]\n    - to: [{ipBlock: {cidr: 10.0.0.0/8}}]")
    for folder, status in ((_policies(tmp_path, WEB_EGRESS, name="narrow"), "proven"),
                           (_policies(tmp_path, widened, name="wide"), "violated")):
        invariants = _invariants(tmp_path, {"name": "web-out", "only-to": {"from": PROD_WEB, "to": [PROD_API]}})
        _, report = _verify(folder, "--invariants", str(invariants))
        result = _one(report, "web-out")
        assert result["status"] == status
        if status == "violated":
            _check_witness(folder, result)
            assert result["witness"]["dst"]["ip"].startswith("10.")
            assert [c["dst"]["addresses"] for c in result["classes"]] == [["10.0.0.0/8"]]


def test_allow(tmp_path: Path) -> None:
    policies = _policies(tmp_path, DB_FROM_BACKEND)
    ok = {"from": PROD_BACKEND, "to": PROD_DB, "ports": [{"port": 5432}]}
    too_much = {"from": PROD_BACKEND, "to": PROD_DB, "ports": [{"port": 5432, "endPort": 5433}]}
    invariants = _invariants(tmp_path, {"name": "ok", "allow": ok}, {"name": "too-much", "allow": too_much})
    code, report = _verify(policies, "--invariants", str(invariants))
    assert code == 1 and _one(report, "ok")["status"] == "proven"
    result = _one(report, "too-much")
    assert result["status"] == "violated" and result["witness"]["port"] == 5433
    assert result["decision"]["allowed"] is False
    # the rules that fail to allow it: the policy that isolates db
    assert [r["policy"] for r in result["decided_by"]] == ["prod/db"]
    _check_witness(policies, result)


def test_deny(tmp_path: Path) -> None:
    open_db = DB_FROM_BACKEND.replace("- from: [{podSelector: {matchLabels: {app: backend}}}]",
                                      "- from: [{namespaceSelector: {}, podSelector: {matchLabels: {app: backend}}}]")
    for folder, status in ((_policies(tmp_path, DB_FROM_BACKEND, name="closed"), "proven"),
                           (_policies(tmp_path, open_db, name="open"), "violated")):
        invariants = _invariants(tmp_path, {"name": "no-dev", "deny": {"from": {"namespace": "dev"}, "to": PROD_DB}})
        _, report = _verify(folder, "--invariants", str(invariants))
        result = _one(report, "no-dev")
        assert result["status"] == status
        if status == "violated":
            _check_witness(folder, result)
            assert result["witness"]["src"]["namespace"] == "dev"
            assert result["witness"]["src"]["labels"] == {"app": "backend"}


def test_isolated(tmp_path: Path) -> None:
    policies = _policies(tmp_path, DEFAULT_DENY)
    invariants = _invariants(
        tmp_path,
        {"name": "prod", "isolated": {"pods": {"namespace": "prod"}}},
        {"name": "dev-ingress", "isolated": {"pods": {"namespace": "dev"}, "directions": ["Ingress"]}})
    _, report = _verify(policies, "--invariants", str(invariants))
    assert _one(report, "prod")["status"] == "proven"
    result = _one(report, "dev-ingress")
    assert result["status"] == "violated" and result["decided_by"] == []
    assert result["witness"]["dst"]["namespace"] == "dev"
    assert result["decision"]["ingress"]["status"] == "not-isolated"
    assert len(result["classes"]) == 1 and result["classes"][0]["src"]["kind"] == "any"
    _check_witness(policies, result)


def test_isolation_is_not_the_same_as_denying(tmp_path: Path) -> None:
    """A pod isolated by a policy that allows everything is still isolated."""
    allow_all = DEFAULT_DENY.replace("policyTypes: [Ingress, Egress]", "ingress: [{}]\n  egress: [{}]")
    policies = _policies(tmp_path, allow_all)
    invariants = _invariants(tmp_path, {"name": "prod", "isolated": {"pods": {"namespace": "prod"}}})
    assert _verify(policies, "--invariants", str(invariants))[1]["invariants"][0]["status"] == "proven"


# -- symbolic strength -----------------------------------------------------------------------------

def test_a_pod_no_workload_has_yet_can_violate(tmp_path: Path) -> None:
    """The author meant "everyone but web and cache" to be backend; a pod with any other app
    label (or none) refutes db-only-from-backend, though no deployed workload is such a pod."""
    everyone_else = DB_FROM_BACKEND.replace(
        "- from: [{podSelector: {matchLabels: {app: backend}}}]",
        "- from: [{podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [web, cache]}]}}]")
    policies = _policies(tmp_path, everyone_else)
    invariants = _invariants(tmp_path, {"name": "db", "only-from": {"to": PROD_DB, "from": PROD_BACKEND}})
    _, report = _verify(policies, "--invariants", str(invariants))
    result = _one(report, "db")
    assert result["status"] == "violated"
    assert result["witness"]["src"]["labels"].get("app") not in ("web", "cache", "backend")
    _check_witness(policies, result)


def test_invariant_vocabulary_joins_the_universe(tmp_path: Path) -> None:
    """Values, ports and CIDRs only the invariant mentions still get exact classes."""
    policies = _policies(tmp_path, WEB_EGRESS.replace("policyTypes: [Egress]", "policyTypes: [Ingress]"))
    deny = {"from": {"namespaceSelector": {"matchLabels": {"team": "blue"}}},
            "to": {"ipBlock": {"cidr": "192.168.0.0/16", "except": ["192.168.1.0/24"]}},
            "ports": [{"port": 6000, "endPort": 6010}]}
    invariants = _invariants(tmp_path, {"name": "blue", "deny": deny})
    _, report = _verify(policies, "--invariants", str(invariants))
    result = _one(report, "blue")
    assert result["status"] == "violated"
    assert {tuple(c["dst"]["addresses"]) for c in result["classes"]} <= {
        ("192.168.0.0/24",), ("192.168.2.0/23", "192.168.4.0/22", "192.168.8.0/21", "192.168.16.0/20",
                              "192.168.32.0/19", "192.168.64.0/18", "192.168.128.0/17"),
        ("192.168.0.0/24", "192.168.2.0/23", "192.168.4.0/22", "192.168.8.0/21", "192.168.16.0/20",
         "192.168.32.0/19", "192.168.64.0/18", "192.168.128.0/17")}
    assert all(c["ports"] == [[6000, 6010]] for c in result["classes"])
    assert all(c["src"]["namespace_labels"] == [{"key": "team", "op": "in", "values": ["blue"]}]
               for c in result["classes"])
    _check_witness(policies, result)


# -- presets ----------------------------------------------------------------------------------------

ALLOW_DNS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-dns, namespace: prod}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}},
            podSelector: {matchLabels: {k8s-app: kube-dns}}}]
      ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
"""


def test_dns_preset(tmp_path: Path) -> None:
    broken = _policies(tmp_path, DEFAULT_DENY, name="broken")
    code, report = _verify(broken, "--preset", "dns")
    result = _one(report, "dns")
    assert code == 1 and result["status"] == "violated" and result["preset"] == "dns"
    assert result["witness"]["src"]["namespace"] == "prod"
    assert result["witness"]["dst"]["namespace"] == "kube-system"
    _check_witness(broken, result)
    fixed = _policies(tmp_path, DEFAULT_DENY, ALLOW_DNS, name="fixed")
    assert _verify(fixed, "--preset", "dns")[0] == 0


def test_default_deny_preset(tmp_path: Path) -> None:
    ingress_only = _policies(tmp_path, DEFAULT_DENY.replace("[Ingress, Egress]", "[Ingress]"), name="half")
    code, report = _verify(ingress_only, "--preset", "default-deny")
    result = _one(report, "default-deny")
    assert code == 1 and result["scope"] == "named-namespaces"
    assert result["witness"]["src"]["namespace"] == "prod" and result["decision"]["egress"]["status"] == "not-isolated"
    assert _verify(_policies(tmp_path, DEFAULT_DENY, name="full"), "--preset", "default-deny")[0] == 0


def test_no_cross_namespace_preset_and_its_exceptions(tmp_path: Path) -> None:
    admit_all = DB_FROM_BACKEND.replace("- from: [{podSelector: {matchLabels: {app: backend}}}]",
                                        "- from: [{namespaceSelector: {}}]")
    policies = _policies(tmp_path, DEFAULT_DENY, admit_all)
    code, report = _verify(policies, "--preset", "no-cross-namespace")
    result = _one(report, "no-cross-namespace")
    assert code == 1 and result["status"] == "violated"
    assert result["witness"]["src"]["namespace"] != "prod" and result["witness"]["dst"]["namespace"] == "prod"
    _check_witness(policies, result)
    exceptions = {"no-cross-namespace": {"exceptions": [
        {"name": "db-clients", "to": PROD_DB, "ports": [{"port": 5432}]}]}}
    invariants = _invariants(tmp_path, presets=exceptions)
    code, report = _verify(policies, "--invariants", str(invariants), "--preset", "no-cross-namespace")
    assert code == 0 and [i["name"] for i in report["invariants"]] == ["no-cross-namespace"]


def test_presets_combine_with_a_file(tmp_path: Path) -> None:
    policies = _policies(tmp_path, DEFAULT_DENY, ALLOW_DNS)
    invariants = _invariants(tmp_path, {"name": "zz", "deny": {"from": {"any": True}, "to": PROD_DB}})
    code, report = _verify(policies, "--invariants", str(invariants), "--preset", "dns", "--preset", "default-deny")
    assert code == 0
    assert [i["name"] for i in report["invariants"]] == ["default-deny", "dns", "zz"]
    assert report["summary"] == {"policies": 2, "invariants": 3, "proven": 3, "violated": 0, "undecided": 0}


# -- report ------------------------------------------------------------------------------------------

def test_text_report_and_exempt_note(tmp_path: Path) -> None:
    policies = _policies(tmp_path, DB_FROM_BACKEND)
    invariants = _invariants(tmp_path, {"name": "db", "only-from": {"to": PROD_DB, "from": PROD_WEB}})
    result = run(["verify", str(policies), "--invariants", str(invariants)])
    assert result.exit_code == 1
    assert result.stdout.startswith("violated: 1 of 1 invariants violated")
    assert f"(only-from, {invariants}:2)" in result.stdout and "e.g. prod/pod{app=backend} -> prod/pod{app=db} on TCP 5432" in result.stdout
    assert result.stdout.count("Outside every invariant") == 1 and "(S6.4)" in result.stdout
    report = json.loads(run(["verify", str(policies), "--invariants", str(invariants), "-o", "json"]).stdout)
    assert report["schema"] == "npdiff/verify/v1" and report["verdict"] == "violated"
    assert [e["rule"] for e in report["exempt"]] == ["S6.4", "S6.5"]
    without_local = run(["verify", str(policies), "--invariants", str(invariants), "--no-allow-from-local-node"])
    assert "S6.4" not in without_local.stdout


def test_output_is_deterministic(tmp_path: Path) -> None:
    policies = _policies(tmp_path, DEFAULT_DENY, DB_FROM_BACKEND)
    args = ["verify", str(policies), "--preset", "dns", "--preset", "no-cross-namespace", "-o", "json"]
    assert run(args).stdout == run(args).stdout


def test_max_classes_makes_the_listing_incomplete(tmp_path: Path) -> None:
    policies = _policies(tmp_path, DB_FROM_BACKEND)
    invariants = _invariants(tmp_path, {"name": "all", "deny": {"from": {"any": True}, "to": {"any": True}}})
    _, report = _verify(policies, "--invariants", str(invariants), "--max-classes", "1")
    result = _one(report, "all")
    assert result["status"] == "violated" and result["complete"] is False
    assert len(result["classes"]) == 1 and "--max-classes 1" in result["reason"]


def test_undecided_is_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_answer(solver, what):
        raise Undecided(f"{what}: solver answered unknown (timeout)")
    monkeypatch.setattr("npdiff.encode.search.check", no_answer)
    policies = _policies(tmp_path, DB_FROM_BACKEND)
    code, report = _verify(policies, "--preset", "dns")
    assert code == 3 and report["verdict"] == "undecided"
    assert "timeout" in report["invariants"][0]["reason"]


# -- review: npdiff OLD NEW --invariants ------------------------------------------------------------

def test_review_reports_broken_and_repaired_invariants(tmp_path: Path) -> None:
    old = _policies(tmp_path, DB_FROM_BACKEND, name="old")
    opened = DB_FROM_BACKEND.replace("- from: [{podSelector: {matchLabels: {app: backend}}}]",
                                     "- from: [{podSelector: {}}]")
    new = _policies(tmp_path, opened, WEB_EGRESS, name="new")
    invariants = _invariants(
        tmp_path,
        {"name": "db-only-from-backend", "only-from": {"to": PROD_DB, "from": PROD_BACKEND}},
        {"name": "web-only-to-api", "only-to": {"from": PROD_WEB, "to": PROD_API}})
    result = run([str(old), str(new), "--invariants", str(invariants), "-o", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert list(report)[:11] == ["schema", "verdict", "complete", "reason", "universe", "semantics", "summary",
                                 "newly_allowed", "newly_blocked", "changes", "warnings"]
    section = report["invariants"]
    assert section["summary"] == {"broken": 1, "repaired": 1, "unchanged": 0}
    broken, repaired = section["results"]
    assert (broken["name"], broken["old"], broken["new"], broken["change"]) == \
        ("db-only-from-backend", "proven", "violated", "broken")
    assert broken["witness"]["dst"]["labels"] == {"app": "db"} and broken["decision"]["allowed"]
    assert oracle.allowed(_policy_dicts(new), broken["witness"])
    assert not oracle.allowed(_policy_dicts(old), broken["witness"])
    assert (repaired["change"], repaired["old"], repaired["new"]) == ("repaired", "violated", "proven")
    assert oracle.allowed(_policy_dicts(old), repaired["witness"])
    text = run([str(old), str(new), "--invariants", str(invariants)]).stdout
    assert "Invariants: 1 broken, 1 repaired, 0 unchanged" in text
    assert "db-only-from-backend: broken: proven before, violated after" in text


def test_review_without_invariants_keeps_the_diff_json(tmp_path: Path) -> None:
    old = _policies(tmp_path, DB_FROM_BACKEND, name="old")
    new = _policies(tmp_path, DB_FROM_BACKEND, WEB_EGRESS, name="new")
    assert "invariants" not in json.loads(run([str(old), str(new), "-o", "json"]).stdout)


def test_broken_isolation_fails_an_equivalent_diff(tmp_path: Path) -> None:
    """Isolating with allow-all rules allows what no policy does: the diff is equivalent, but
    an isolation invariant breaks, and that alone makes the exit code 1."""
    allow_all = DEFAULT_DENY.replace("policyTypes: [Ingress, Egress]", "ingress: [{}]\n  egress: [{}]")
    old = _policies(tmp_path, allow_all, name="old")
    new = _policies(tmp_path, name="new")
    assert run([str(old), str(new)]).exit_code == 0
    result = run([str(old), str(new), "--preset", "default-deny", "-o", "json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and report["verdict"] == "equivalent"
    assert report["invariants"]["results"][0]["change"] == "broken"


def test_review_undecided_turns_a_clean_diff_into_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = _policies(tmp_path, DB_FROM_BACKEND, name="old")
    real_check = __import__("npdiff.encode.search", fromlist=["check"]).check

    def unknown_for_invariants(solver, what):
        if what.startswith("invariant"):
            raise Undecided(f"{what}: solver answered unknown (timeout)")
        return real_check(solver, what)
    monkeypatch.setattr("npdiff.encode.search.check", unknown_for_invariants)
    result = run([str(old), str(old), "--preset", "dns", "-o", "json"])
    assert result.exit_code == 3
    assert json.loads(result.stdout)["invariants"]["results"][0]["new"] == "undecided"
