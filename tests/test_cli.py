"""The whole CLI in-process: exit codes, streams, errors without tracebacks, undecided."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from npdiff.cli import run, wants_colour


DENY_DB = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-db, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
"""

ALLOW_WEB = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-web, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{port: 5432}]
"""


@pytest.fixture
def sides(tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    (old / "deny.yaml").write_text(DENY_DB)
    (new / "deny.yaml").write_text(DENY_DB)
    (new / "allow.yaml").write_text(ALLOW_WEB)
    return old, new


def test_default_command_is_diff(sides: tuple[Path, Path]) -> None:
    old, new = sides
    short = run([str(old), str(new), "-o", "json"])
    long = run(["diff", str(old), str(new), "-o", "json"])
    assert short == long
    assert short.exit_code == 1
    report = json.loads(short.stdout)
    assert report["verdict"] == "different"
    assert len(report["newly_allowed"]) == 1 and report["newly_blocked"] == []
    flow_class = report["newly_allowed"][0]
    assert flow_class["protocols"] == ["TCP"] and flow_class["ports"] == [[5432, 5432]]
    assert flow_class["new"]["ingress"]["allowed_by"][0]["policy"] == "prod/allow-web"
    assert flow_class["new"]["ingress"]["allowed_by"][0]["line"] == 7


def test_same_side_twice_is_equivalent(sides: tuple[Path, Path]) -> None:
    old, _ = sides
    result = run([str(old), str(old)])
    assert result.exit_code == 0
    assert result.stdout.startswith("equivalent")


def test_stdin_side(sides: tuple[Path, Path]) -> None:
    old, new = sides
    result = run(["-", str(new), "-o", "json"], stdin=DENY_DB.encode())
    assert result.exit_code == 1
    assert json.loads(result.stdout)["summary"]["old_policies"] == 1


def test_empty_directory_is_an_empty_set(tmp_path: Path, sides: tuple[Path, Path]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run([str(empty), str(sides[0]), "-o", "json"])
    assert result.exit_code == 1
    assert len(json.loads(result.stdout)["newly_blocked"]) == 1


@pytest.mark.parametrize("body, code", [
    ("kind: [", "E-YAML"),
    (DENY_DB.replace("podSelector:", "podSelectr:"), "E-NP-16"),
    (DENY_DB.replace("[Ingress]", "[ingress]"), "E-NP-03"),
    (ALLOW_WEB.replace("{port: 5432}", "{port: 5432.5}"), "E-NP-16"),
    (ALLOW_WEB.replace("{port: 5432}", "{port: '5432'}"), "E-NP-10"),
    ("!!python/object/apply:os.system ['echo pwned']\n", "E-YAML"),
])
def test_bad_input_exits_2_with_location_and_no_traceback(tmp_path: Path, body: str, code: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(body)
    result = run([str(bad), str(bad)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert code in result.stderr
    assert f"{bad}:" in result.stderr
    assert "Traceback" not in result.stderr


def test_all_errors_are_reported_together(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(DENY_DB.replace("[Ingress]", "[ingress]"))
    (tmp_path / "b.yaml").write_text(ALLOW_WEB.replace("{port: 5432}", "{port: 0}"))
    result = run([str(tmp_path), str(tmp_path)])
    assert result.exit_code == 2
    assert "E-NP-03" in result.stderr and "E-NP-09" in result.stderr


def test_duplicate_policy_names_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(DENY_DB)
    (tmp_path / "b.yaml").write_text(DENY_DB)
    result = run([str(tmp_path), str(tmp_path)])
    assert result.exit_code == 2 and "a.yaml" in result.stderr and "b.yaml" in result.stderr


def test_non_utf8_and_missing_path(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("metadata: {name: caf\xe9}\n".encode("latin-1"))
    result = run([str(bad), str(bad)])
    assert result.exit_code == 2 and "UTF-8" in result.stderr
    missing = run([str(tmp_path / "nope"), str(bad)])
    assert missing.exit_code == 2 and "nope" in missing.stderr


def test_alias_bomb_is_rejected(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    result = run([str(bomb), str(bomb)])
    assert result.exit_code == 2 and "alias" in result.stderr


def test_undecided_is_exit_3_never_equivalent(sides: tuple[Path, Path], every_check_unknown: None) -> None:
    old, new = sides
    result = run([str(old), str(new), "-o", "json"])
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert report["verdict"] == "undecided" and "timeout" in report["reason"]


def test_max_classes_says_the_listing_is_incomplete(tmp_path: Path, sides: tuple[Path, Path]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "many.yaml").write_text(ALLOW_WEB)
    result = run([str(empty), str(tmp_path / "many.yaml"), "--max-classes", "1", "-o", "json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    assert report["complete"] is False and "--max-classes 1" in report["reason"]
    assert len(report["newly_blocked"]) == 1
    text = run([str(empty), str(tmp_path / "many.yaml"), "--max-classes", "1"]).stdout
    assert "incomplete" in text


def test_eval_single_flow(sides: tuple[Path, Path]) -> None:
    _, new = sides
    allowed = run(["eval", str(new), "--from", "prod/app=web", "--to", "prod/app=db", "--port", "5432", "-o", "json"])
    denied = run(["eval", str(new), "--from", "dev/app=web", "--to", "prod/app=db", "--port", "5432/TCP", "-o", "json"])
    assert allowed.exit_code == denied.exit_code == 0
    assert json.loads(allowed.stdout)[0]["allowed"] is True
    assert json.loads(denied.stdout)[0]["allowed"] is False
    text = run(["eval", str(new), "--from", "203.0.113.7", "--to", "prod/app=db", "--port", "5432"]).stdout
    assert text.startswith("DENY")


def test_eval_flows_file_keeps_input_order(sides: tuple[Path, Path], tmp_path: Path) -> None:
    _, new = sides
    db = {"namespace": "prod", "labels": {"app": "db"}, "namespace_labels": {}, "ports": []}
    web = {"namespace": "prod", "labels": {"app": "web"}, "namespace_labels": {}, "ports": []}
    flows = [{"src": web, "dst": db, "protocol": "TCP", "port": p} for p in (5433, 5432, 1)]
    path = tmp_path / "flows.jsonl"
    path.write_text("\n".join(json.dumps(f) for f in flows) + "\n")
    result = run(["eval", str(new), "--flows", str(path), "-o", "json"])
    assert [d["allowed"] for d in json.loads(result.stdout)] == [False, True, False]


def test_eval_needs_flows_or_one_flow(sides: tuple[Path, Path]) -> None:
    result = run(["eval", str(sides[1])])
    assert result.exit_code == 2 and "--flows" in result.stderr


def test_colour_only_when_asked(sides: tuple[Path, Path]) -> None:
    old, new = sides
    assert "\033[" in run([str(old), str(new)], colour=True).stdout
    assert "\033[" not in run([str(old), str(new)]).stdout


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_wants_colour_honours_no_color() -> None:
    assert wants_colour(_Tty(), {}) is True
    assert wants_colour(_Tty(), {"NO_COLOR": "1"}) is False
    assert wants_colour(io.StringIO(), {}) is False


def test_version() -> None:
    result = run(["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("npdiff ")


def _policy(name: str, spec: str) -> str:
    return f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: prod}}\nspec:\n{spec}"


def test_linked_directories_are_followed_once(tmp_path: Path) -> None:
    real = tmp_path / "real" / "prod"
    real.mkdir(parents=True)
    (real / "deny.yaml").write_text(DENY_DB)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "prod").symlink_to(real, target_is_directory=True)
    (repo / "loop").symlink_to(repo, target_is_directory=True)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run([str(empty), str(repo), "-o", "json"])
    assert result.exit_code == 1, result.stderr
    assert json.loads(result.stdout)["summary"]["new_policies"] == 1


def test_a_name_no_namespace_can_have_selects_nothing(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text(_policy("a", "  podSelector: {}\n  ingress: [{from: [{namespaceSelector: "
                                "{matchLabels: {kubernetes.io/metadata.name: Bad_NS}}}]}]\n"))
    new = tmp_path / "new.yaml"
    new.write_text(_policy("a", "  podSelector: {}\n"))
    result = run([str(old), str(new)])
    assert result.exit_code == 0, result.stdout
    assert "W-10" in result.stderr


def test_flow_families(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(_policy("a", "  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0}}]}]\n"))
    flows = tmp_path / "flows.jsonl"
    # A pod's IPv6 address does not make an IPv4 source's flow IPv6 (dual-stack pods, S1.1.5).
    flows.write_text('{"src": {"ip": "1.2.3.4"}, "dst": {"namespace": "prod", "ip": "2001:db8::5"}, "port": 80}\n')
    result = run(["eval", str(policy), "--flows", str(flows), "-o", "json"])
    assert json.loads(result.stdout)[0]["allowed"] is True
    flows.write_text('{"src": {"ip": "1.2.3.4"}, "dst": {"ip": "2001:db8::5"}, "port": 80}\n')
    result = run(["eval", str(policy), "--flows", str(flows)])
    assert result.exit_code == 2 and "E-FLOW" in result.stderr and "family" in result.stderr


ISOLATED_BOTH = "  podSelector: {}\n  policyTypes: [Egress, Ingress]\n"


def test_ipv4_pod_cidr_leaves_ipv6_pods_unconstrained(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text(_policy("a", ISOLATED_BOTH))
    new = tmp_path / "new.yaml"
    new.write_text(_policy("a", ISOLATED_BOTH + '  egress: [{to: [{ipBlock: {cidr: "2001:db8::/32"}}]}]\n'))
    result = run([str(old), str(new), "--ipblock-matches-pods", "--pod-cidr", "10.0.0.0/8"])
    assert result.exit_code == 1


def test_pod_cidr_witnesses_are_well_formed(tmp_path: Path) -> None:
    import ipaddress
    old = tmp_path / "old.yaml"
    old.write_text(_policy("a", ISOLATED_BOTH))
    new = tmp_path / "new.yaml"
    block = "{ipBlock: {cidr: 0.0.0.0/0, except: [10.1.0.0/16]}}"
    new.write_text(_policy("a", ISOLATED_BOTH + f"  ingress: [{{from: [{block}]}}]\n  egress: [{{to: [{block}]}}]\n"))
    result = run([str(old), str(new), "--ipblock-matches-pods", "--pod-cidr", "10.0.0.0/8", "-o", "json"])
    report = json.loads(result.stdout)
    pods = ipaddress.ip_network("10.0.0.0/8")
    assert report["newly_allowed"]
    for flow_class in report["newly_allowed"]:
        src, dst = flow_class["witness"]["src"], flow_class["witness"]["dst"]
        assert src["ip"] != dst["ip"]
        for end in (src, dst):
            assert (ipaddress.ip_address(end["ip"]) in pods) == ("namespace" in end)
        for region in (flow_class["src"], flow_class["dst"]):
            if region["kind"] == "pod":
                assert all(ipaddress.ip_network(c).subnet_of(pods) for c in region["addresses"])


def test_timeout_must_be_finite(sides: tuple[Path, Path]) -> None:
    result = run([str(sides[0]), str(sides[1]), "--timeout", "inf"])
    assert result.exit_code == 2 and "Traceback" not in result.stderr


def test_repeated_warnings_are_capped_per_code(tmp_path):
    import yaml as _yaml

    from npdiff.cli import MAX_SHOWN_PER_CODE

    docs = [{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": f"p{i}", "namespace": "shop"},
             "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 80, "endPort": 90}]}]}}
            for i in range(MAX_SHOWN_PER_CODE + 5)]
    policies = tmp_path / "policies.yaml"
    policies.write_text(_yaml.safe_dump_all(docs))
    result = run([str(policies), str(policies)])
    assert result.exit_code == 0
    assert result.stderr.count(" warning W-09: ") == MAX_SHOWN_PER_CODE
    assert f"npdiff: 5 more W-09 not shown ({MAX_SHOWN_PER_CODE + 5} in all" in result.stderr
    listed = run([str(policies), str(policies), "-o", "json"])
    assert sum(w["code"] == "W-09" for w in json.loads(listed.stdout)["warnings"]) == MAX_SHOWN_PER_CODE + 5
