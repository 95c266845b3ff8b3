"""The review formats (markdown, sarif, github, brief, dot, mermaid), --report and --fail-on.

Byte-for-byte outputs are in tests/test_golden.py; these tests check the properties each
format promises: SARIF's schema, anchors and fingerprints, GitHub's escaping and limits,
the comment's size cap, safe graph ids, exit codes, and reports written whole or not at all.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from npdiff.cli import run
from npdiff.report import annotation, github, markdown, sarif
from npdiff.report.annotation import Annotation, Annotations

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((Path(__file__).resolve().parent / "data" / "sarif-2.1.0-subset.schema.json").read_text())
SAMPLES = sorted(p.name for p in (ROOT / "samples").iterdir() if (p / "old").is_dir())

DB_ISOLATED = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{port: 5432}]
"""
# The same policy, with one more rule: line 10 admits the API on 5432.
DB_OPENED = DB_ISOLATED + """\
    - from: [{podSelector: {matchLabels: {app: api}}}]
      ports: [{port: 5432}]
"""


def _sides(tmp_path: Path, old: dict[str, str], new: dict[str, str]) -> tuple[str, str]:
    for side, files in (("old", old), ("new", new)):
        (tmp_path / side).mkdir()
        for name, text in files.items():
            (tmp_path / side / name).write_text(text)
    return str(tmp_path / "old"), str(tmp_path / "new")


def _sarif(*argv: str) -> dict:
    result = run([*argv, "-o", "sarif"])
    assert result.exit_code in (0, 1), result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    return document


# -- SARIF -------------------------------------------------------------------------------------

def test_the_schema_subset_rejects_what_sarif_forbids() -> None:
    good = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "npdiff"}}, "results": [
        {"message": {"text": "m"}, "level": "error",
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.yaml"}, "region": {"startLine": 1}}}]}]}]}
    jsonschema.validate(good, SCHEMA)
    for broken in ({"runs": []},                                                      # no version
                   {"version": "2.0.0", "runs": []},
                   {"version": "2.1.0", "runs": [{}]},                                # run without tool
                   {"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]},          # driver without name
                   {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{}]}]},
                   {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
                                                  "results": [{"message": {"text": "m"}, "level": "fatal"}]}]},
                   {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [
                       {"message": {"text": "m"}, "locations": [{"physicalLocation": {
                           "artifactLocation": {"uri": "a"}, "region": {"startLine": 0}}}]}]}]}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, SCHEMA)


@pytest.mark.parametrize("name", SAMPLES)
def test_sarif_of_every_sample_is_valid(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    document = _sarif("diff", f"samples/{name}/old", f"samples/{name}/new")
    run_ = document["runs"][0]
    rules = [rule["id"] for rule in run_["tool"]["driver"]["rules"]]
    for result in run_["results"]:
        assert rules[result["ruleIndex"]] == result["ruleId"]
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.startswith(f"samples/{name}/") and (ROOT / uri).is_file()


def test_sarif_is_empty_when_equivalent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    document = _sarif("diff", "samples/equivalent-refactor/old", "samples/equivalent-refactor/new")
    assert document["runs"][0]["results"] == []
    assert document["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_an_opened_port_points_at_the_new_rule(tmp_path: Path) -> None:
    old, new = _sides(tmp_path, {"db.yaml": DB_ISOLATED}, {"db.yaml": DB_OPENED})
    [result] = _sarif("diff", old, new)["runs"][0]["results"]
    assert result["ruleId"] == "npdiff/newly-allowed" and result["level"] == "error"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("new/db.yaml")
    assert location["region"]["startLine"] == 10
    assert DB_OPENED.splitlines()[10 - 1].strip().startswith("- from: [{podSelector: {matchLabels: {app: api}")


def test_a_closed_flow_points_at_the_new_isolating_policy(tmp_path: Path) -> None:
    old, new = _sides(tmp_path, {"db.yaml": DB_OPENED}, {"db.yaml": DB_ISOLATED})
    [result] = _sarif("diff", old, new)["runs"][0]["results"]
    assert result["ruleId"] == "npdiff/newly-blocked" and result["level"] == "warning"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("new/db.yaml")
    assert location["region"]["startLine"] == 1


def test_a_deleted_policy_points_at_old_with_a_note(tmp_path: Path) -> None:
    old, new = _sides(tmp_path, {"db.yaml": DB_ISOLATED}, {})
    results = _sarif("diff", old, new)["runs"][0]["results"]
    assert results and all(r["ruleId"] == "npdiff/newly-allowed" for r in results)
    for result in results:
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("old/db.yaml")
        assert "in OLD: NEW has no policy deciding it" in result["message"]["text"]


def test_fingerprints_survive_moved_lines(tmp_path: Path) -> None:
    old, new = _sides(tmp_path, {"db.yaml": DB_ISOLATED}, {"db.yaml": DB_OPENED})
    moved = tmp_path / "moved"
    moved.mkdir()
    (moved / "db.yaml").write_text("# a comment\n# and another\n" + DB_OPENED)
    [before] = _sarif("diff", old, new)["runs"][0]["results"]
    [after] = _sarif("diff", old, str(moved))["runs"][0]["results"]
    assert after["locations"][0]["physicalLocation"]["region"]["startLine"] == 12
    assert before["partialFingerprints"] == after["partialFingerprints"]
    reversed_ = _sarif("diff", new, old)["runs"][0]["results"][0]
    assert reversed_["partialFingerprints"] != before["partialFingerprints"]


def test_undecided_sarif_says_the_run_failed(tmp_path: Path, every_check_unknown: None) -> None:
    old, new = _sides(tmp_path, {"db.yaml": DB_ISOLATED}, {"db.yaml": DB_OPENED})
    result = run(["diff", old, new, "-o", "sarif", "--fail-on", "none"])
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    invocation = document["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False and "timeout" in invocation["toolExecutionNotifications"][0]["message"]["text"]
    annotations = run(["diff", old, new, "-o", "github"])
    assert annotations.exit_code == 3
    assert annotations.stdout.splitlines()[1].startswith("::warning title=npdiff::undecided: ")


def test_verify_sarif_has_one_result_per_violated_invariant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run(["verify", "samples/zero-trust/policies", "--invariants", "samples/zero-trust/invariants.yaml",
                  "-o", "sarif"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    violated = json.loads(run(["verify", "samples/zero-trust/policies", "--invariants",
                               "samples/zero-trust/invariants.yaml", "-o", "json"]).stdout)["summary"]["violated"]
    results = document["runs"][0]["results"]
    assert len(results) == violated == 3
    assert all(r["ruleId"] == "npdiff/invariant-violated" and r["locations"] for r in results)


# -- GitHub workflow commands ------------------------------------------------------------------

def test_github_escaping() -> None:
    assert github.escape_data("100%\r\nnext") == "100%25%0D%0Anext"
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    line = github.command(Annotation("r", "warning", "t: x, y", "m\nn", "dir,1/a:b.yaml", 3, "f"))
    assert line == "::warning file=dir%2C1/a%3Ab.yaml,line=3,title=t%3A x%2C y::m%0An"


def test_github_caps_each_level_most_severe_first() -> None:
    def make(level: str, n: int) -> Annotation:
        return Annotation("r", level, f"{level} {n}", "m", "a.yaml", n + 1, str(n))
    found = Annotations("different: …", (), (*(make("warning", n) for n in range(13)),
                                             *(make("error", n) for n in range(25))), ("incomplete",))
    lines = github.render(found).splitlines()
    assert lines[0] == "npdiff: different: …"
    kinds = [line.split(" ", 1)[0] for line in lines[1:]]
    assert kinds == ["::error"] * 10 + ["::warning"] * 10 + ["::notice", "::notice"]
    assert lines[1].endswith("title=error 0::m") and lines[11].endswith("title=warning 0::m")
    assert "incomplete" in lines[-2]
    assert "18 more annotations not shown (15 errors, 3 warnings)" in lines[-1]


def test_github_of_a_sample_annotates_the_changed_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run(["diff", "samples/pr-open-port/old", "samples/pr-open-port/new", "-o", "github"])
    lines = result.stdout.splitlines()
    assert result.exit_code == 1 and lines[0].startswith("npdiff: different: 2 newly allowed")
    # Each class on the line the change touched: the new port entry, the widened peer.
    assert [line.split(",title=")[0] for line in lines[1:]] == [
        "::error file=samples/pr-open-port/new/api.yaml,line=28", "::error file=samples/pr-open-port/new/api.yaml,line=18"]


# -- Markdown ----------------------------------------------------------------------------------

def test_markdown_escapes_cells() -> None:
    assert markdown.escape("a|b_c*d<e>") == "a\\|b\\_c\\*d\\<e\\>"
    assert markdown.code("x|y") == "`x\\|y`"
    assert markdown.code("a``b") == "``` a``b ```"


def test_markdown_is_capped_with_an_explicit_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    argv = ["diff", "samples/default-deny-forgets-dns/old", "samples/default-deny-forgets-dns/new", "-o", "markdown"]
    full = run(argv).stdout
    assert "not shown" not in full and full.startswith("**npdiff: different**")
    monkeypatch.setattr(markdown, "MAX_CHARS", 6000)
    capped = run(argv).stdout
    assert len(capped) <= 6000 < len(full)
    missing = int(re.search(r"… (\d+) more classes not shown", capped).group(1))
    shown = len(re.findall(r"^\| \d+ \|", capped, flags=re.MULTILINE))
    assert shown >= 1 and shown + missing == 11
    assert capped.count("**Newly blocked ") == shown                  # details only of the rows shown
    assert capped.rstrip().endswith(markdown.MARKER)


# -- dot and mermaid -------------------------------------------------------------------------

@pytest.mark.parametrize("output", ["dot", "mermaid"])
def test_graph_ids_are_safe_and_colours_say_the_kind(output: str, tmp_path: Path) -> None:
    old, new = _sides(tmp_path, {"db.yaml": DB_OPENED}, {"db.yaml": DB_ISOLATED.replace("5432", "5433")})
    text = run(["diff", old, new, "-o", output]).stdout
    ids = re.findall(r"\b(n[0-9a-f]{12}|ns[0-9a-f]{12})\b", text)
    assert ids and "namespace prod" in text
    assert "#1a7f37" in text and "#cf222e" in text                  # 5433 opened, 5432 closed
    if output == "dot":
        assert text.startswith("digraph npdiff {") and text.count("{") == text.count("}")
        assert re.search(r"-> n[0-9a-f]{12} \[label=\"TCP 5432\", color=\"#cf222e\".*style=dashed", text)
    else:
        assert text.startswith("flowchart LR") and text.count("subgraph") == text.count("\n  end")
        assert re.search(r'-\.->\|"TCP 5432"\| n[0-9a-f]{12}', text)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")     # pydot's use of older pyparsing names
@pytest.mark.parametrize("name", SAMPLES)
def test_dot_parses_and_matches_the_classes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import pydot

    monkeypatch.chdir(ROOT)
    argv = ["diff", f"samples/{name}/old", f"samples/{name}/new"]
    [graph] = pydot.graph_from_dot_data(run([*argv, "-o", "dot"]).stdout)
    report = json.loads(run([*argv, "-o", "json"]).stdout)
    edges = graph.get_edges() + [e for sub in graph.get_subgraphs() for e in sub.get_edges()]
    colours = {e.get("color").strip('"') for e in edges}
    expected = {c for c, kind in (("#1a7f37", "newly_allowed"), ("#cf222e", "newly_blocked")) if report[kind]}
    assert colours == expected
    assert len(edges) <= len(report["newly_allowed"]) + len(report["newly_blocked"])
    clusters = {sub.get("label").strip('"') for sub in graph.get_subgraphs()}
    assert all(label.startswith("namespace ") for label in clusters)


# -- --fail-on ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("fail_on", "opened", "closed"), [
    ("any", 1, 1), ("newly-allowed", 1, 0), ("newly-blocked", 0, 1), ("none", 0, 0)])
def test_fail_on(fail_on: str, opened: int, closed: int, tmp_path: Path) -> None:
    old, new = _sides(tmp_path, {"db.yaml": DB_ISOLATED}, {"db.yaml": DB_OPENED})
    assert run(["diff", old, new, "--fail-on", fail_on, "-o", "brief"]).exit_code == opened
    assert run(["diff", new, old, "--fail-on", fail_on, "-o", "brief"]).exit_code == closed
    assert run(["diff", old, old, "--fail-on", fail_on, "-o", "brief"]).exit_code == 0


def test_fail_on_default_is_any(tmp_path: Path) -> None:
    old, new = _sides(tmp_path, {"db.yaml": DB_ISOLATED}, {"db.yaml": DB_OPENED})
    assert run(["diff", new, old, "-o", "brief"]).exit_code == 1


def test_bad_fail_on_is_a_usage_error(tmp_path: Path) -> None:
    old, new = _sides(tmp_path, {"db.yaml": DB_ISOLATED}, {"db.yaml": DB_OPENED})
    result = run(["diff", old, new, "--fail-on", "sometimes"])
    assert result.exit_code == 2 and result.stdout == "" and "--fail-on" in result.stderr
    assert "Traceback" not in result.stderr


# -- --report ----------------------------------------------------------------------------------

def test_reports_equal_the_stdout_formats(tmp_path: Path) -> None:
    old, new = _sides(tmp_path, {"db.yaml": DB_ISOLATED}, {"db.yaml": DB_OPENED})
    formats = ["text", "json", "markdown", "sarif", "github", "brief", "dot", "mermaid"]
    result = run(["diff", old, new, "-o", "brief", *(f"--report={f}={tmp_path / f}.out" for f in formats)],
                 colour=True)
    assert result.exit_code == 1
    for f in formats:
        assert (tmp_path / f"{f}.out").read_text() == run(["diff", old, new, "-o", f]).stdout, f
    assert "\033[" not in (tmp_path / "text.out").read_text()          # report files never carry colour


@pytest.mark.parametrize(("spec", "message"), [
    ("pdf=report.pdf", "unknown format 'pdf'"),
    ("sarif", "is not FORMAT=PATH"),
    ("sarif=", "is not FORMAT=PATH"),
    ("sarif=missing/dir/report.sarif", "does not exist"),
    ("sarif=-", "not a file path"),
])
def test_bad_report_is_a_usage_error_and_nothing_is_written(spec: str, message: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = _sides(tmp_path, {"db.yaml": DB_ISOLATED}, {"db.yaml": DB_OPENED})
    monkeypatch.chdir(tmp_path)
    result = run(["diff", old, new, "--report", "markdown=good.md", "--report", spec])
    assert result.exit_code == 2 and result.stdout == ""
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "good.md").exists()


def test_the_same_report_path_twice_is_an_error(tmp_path: Path) -> None:
    old, new = _sides(tmp_path, {"db.yaml": DB_ISOLATED}, {"db.yaml": DB_OPENED})
    target = tmp_path / "out.sarif"
    result = run(["diff", old, new, "--report", f"sarif={target}", "--report", f"json={target}"])
    assert result.exit_code == 2 and "given twice" in result.stderr and not target.exists()


def test_no_report_when_the_input_is_bad(tmp_path: Path) -> None:
    old, new = _sides(tmp_path, {"db.yaml": DB_ISOLATED}, {"db.yaml": "kind: [unclosed\n"})
    target = tmp_path / "out.md"
    result = run(["diff", old, new, "--report", f"markdown={target}"])
    assert result.exit_code == 2 and not target.exists()


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = _sides(tmp_path, {"db.yaml": DB_ISOLATED}, {"db.yaml": DB_OPENED})
    reports = tmp_path / "reports"
    reports.mkdir()
    real_open = open

    def failing_open(path, *args, **kwargs):
        if "second" in str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr("npdiff.cli.open", failing_open, raising=False)
    result = run(["diff", old, new, "-o", "brief", "--report", f"markdown={reports / 'first.md'}",
                  "--report", f"sarif={reports / 'second.sarif'}"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"npdiff: cannot write report {reports / 'second.sarif'}: Permission denied\n"
    assert list(reports.iterdir()) == []


def test_reports_replace_old_files_whole(tmp_path: Path) -> None:
    old, new = _sides(tmp_path, {"db.yaml": DB_ISOLATED}, {"db.yaml": DB_OPENED})
    target = tmp_path / "comment.md"
    target.write_text("stale\n" * 100_000)
    assert run(["diff", old, new, "--report", f"markdown={target}"]).exit_code == 1
    assert target.read_text().startswith("**npdiff: different**") and "stale" not in target.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["comment.md", "new", "old"]


def test_verify_reports_and_refuses_graphs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    argv = ["verify", "samples/zero-trust/policies", "--invariants", "samples/zero-trust/invariants.yaml"]
    target = tmp_path / "verify.md"
    result = run([*argv, "-o", "brief", "--report", f"markdown={target}"])
    assert result.exit_code == 1 and result.stdout.startswith("violated: 3 of 5 invariants violated")
    assert target.read_text().startswith("**npdiff: violated**")
    for bad in (["-o", "dot"], ["--report", f"mermaid={tmp_path / 'x.mmd'}"]):
        refused = run([*argv, *bad])
        assert refused.exit_code == 2 and refused.stdout == ""
    assert not (tmp_path / "x.mmd").exists()


def test_annotations_of_a_diff_follow_the_class_order(monkeypatch: pytest.MonkeyPatch) -> None:
    from npdiff.analyse.diff import diff
    from npdiff.load import load_policy_set
    from npdiff.model import Semantics

    monkeypatch.chdir(ROOT)
    semantics = Semantics()
    old = load_policy_set(["samples/textbook-deny-db/old"], semantics).policy_set
    new = load_policy_set(["samples/textbook-deny-db/new"], semantics).policy_set
    result = diff(old, new, semantics)
    found = annotation.from_diff(result)
    assert [a.rule for a in found.annotations] == \
        ["npdiff/newly-allowed"] * len(result.newly_allowed) + ["npdiff/newly-blocked"] * len(result.newly_blocked)
    assert len({a.fingerprint for a in found.annotations}) == len(found.annotations)


# -- the pull request, end to end ------------------------------------------------------------

def test_a_commit_that_opens_a_port_is_pointed_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh repository, a commit that opens a port, and a CI job that compares the base
    (checked out elsewhere) with the working tree: comment and SARIF name the changed line."""
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo, base = tmp_path / "repo", tmp_path / "base"
    (repo / "policies").mkdir(parents=True)

    def git(*args: str, cwd: Path = repo) -> str:
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=cwd,
                              check=True, capture_output=True, text=True).stdout
    git("init", "-q")
    (repo / "policies" / "db.yaml").write_text(DB_ISOLATED)
    git("add", ".")
    git("commit", "-qm", "db: admit web")
    (repo / "policies" / "db.yaml").write_text(DB_OPENED)
    git("commit", "-qam", "db: admit the API too")
    git("worktree", "add", "-q", "--detach", str(base), "HEAD~1")
    hunks = re.finditer(r"^@@ -\S+ \+(\d+)(?:,(\d+))? @@", git("diff", "-U0", "HEAD~1", "HEAD"), re.MULTILINE)
    changed = {line for m in hunks for line in range(int(m.group(1)), int(m.group(1)) + int(m.group(2) or 1))}
    assert changed == {10, 11}

    monkeypatch.chdir(repo)
    result = run(["diff", str(base / "policies"), "policies", "-o", "markdown", "--report", "sarif=npdiff.sarif"])
    assert result.exit_code == 1
    [finding] = json.loads((repo / "npdiff.sarif").read_text())["runs"][0]["results"]
    location = finding["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "policies/db.yaml"
    assert location["region"]["startLine"] in changed
    assert f"policies/db.yaml:{location['region']['startLine']}" in result.stdout


def test_markdown_survives_backticks_in_paths(tmp_path: Path) -> None:
    old, new = _sides(tmp_path, {"db.yaml": DB_ISOLATED}, {"db.yaml": DB_OPENED})
    odd = tmp_path / "we```ird"
    odd.mkdir()
    (odd / "db.yaml").write_text(DB_OPENED)
    text = run(["diff", old, str(odd), "-o", "markdown"]).stdout
    fences = re.findall(r"^(`{3,})text$", text, flags=re.MULTILINE)
    assert fences and all(len(f) >= 4 for f in fences)
    assert "we\\`\\`\\`ird/db.yaml:10) |" in text                  # the table cell is escaped


def test_graph_labels_are_escaped() -> None:
    from npdiff.report import dot, mermaid

    assert mermaid.quote('a "b" <c> | #1') == '"a #34;b#34; #60;c#62; #124; #35;1"'
    assert dot.quote('a "b" \\ c\nd') == '"a \\"b\\" \\\\ c\\nd"'


def test_a_broken_invariant_fails_unless_fail_on_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    argv = ["diff", "samples/default-deny-forgets-dns/old", "samples/default-deny-forgets-dns/new",
            "--preset", "dns", "-o", "sarif"]
    found = run([*argv, "--fail-on", "newly-allowed"])          # the change newly allows nothing
    assert found.exit_code == 1
    rules = [r["ruleId"] for r in json.loads(found.stdout)["runs"][0]["results"]]
    assert rules.count("npdiff/invariant-broken") == 1 and rules.count("npdiff/newly-blocked") == 11
    assert run([*argv, "--fail-on", "none"]).exit_code == 0


def test_sarif_names_revision_files_by_their_repository_path() -> None:
    assert sarif.artifact_uri("HEAD~1:deploy/api.yaml") == "deploy/api.yaml"
    assert sarif.artifact_uri("origin/main:deploy/api.yaml") == "deploy/api.yaml"
    assert sarif.artifact_uri("deploy/api.yaml") == "deploy/api.yaml"
    assert sarif.artifact_uri("/srv/deploy/api.yaml") == "file:///srv/deploy/api.yaml"


def _api(ports: list[int] | None) -> str:
    ingress = "" if ports is None else "  ingress:\n  - ports: [" + ", ".join(f"{{port: {p}}}" for p in ports) + "]\n"
    return ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: api, namespace: shop}\n"
            "spec:\n  podSelector: {matchLabels: {app: api}}\n  policyTypes: [Ingress]\n" + ingress)


@pytest.mark.parametrize("count", [10, 12])
def test_a_long_listing_starts_with_its_classes_at_a_glance(tmp_path, count):
    open_ports, closed = tmp_path / "open.yaml", tmp_path / "closed.yaml"
    open_ports.write_text(_api([80 + 2 * n for n in range(count)]))   # apart: one class per port
    closed.write_text(_api(None))
    blocked = run([str(open_ports), str(closed)])
    allowed = run([str(closed), str(open_ports)])
    assert blocked.stdout.count("\n  1. from ") == allowed.stdout.count("\n  1. from ") == 1
    if count <= 10:
        assert "at a glance" not in blocked.stdout + allowed.stdout
        return
    assert (f"Newly blocked ({count})\n  at a glance:\n"
            f"    {count} classes  ingress of pods in namespace shop: were allowed by shop/api ingress[0]\n\n"
            in blocked.stdout)
    assert (f"Newly allowed ({count})\n  at a glance:\n"
            f"    {count} classes  ingress of pods in namespace shop: now allowed by shop/api ingress[0]\n\n"
            in allowed.stdout)
    markdown = run([str(open_ports), str(closed), "-o", "markdown"]).stdout
    assert (f"### Newly blocked ({count})\n\n- **{count}** classes: ingress of pods in namespace shop: "
            "were allowed by shop/api ingress\\[0\\]\n\n| # |" in markdown)


def test_a_run_imports_only_the_renderers_it_writes(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    import npdiff

    root = Path(npdiff.__file__).parents[1]
    script = ("import sys; from npdiff.cli import run; r = run(sys.argv[1:]); "
              "print(r.exit_code, sorted(m for m in sys.modules if m.startswith('npdiff.report.')))")
    env = {**os.environ, "NPDIFF_NO_CACHE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    sample = root / "samples" / "pr-open-port"
    done = subprocess.run([sys.executable, "-c", script, str(sample / "old"), str(sample / "new"), "-o", "json",
                           "--report", f"markdown={tmp_path / 'report.md'}"],
                          capture_output=True, text=True, env=env, check=True)
    code, modules = done.stdout.split(" ", 1)
    assert code == "1" and (tmp_path / "report.md").read_text().startswith("**npdiff: different**")
    imported = {m.rsplit(".", 1)[1] for m in eval(modules)}
    assert {"json_format", "markdown"} <= imported
    assert not imported & {"sarif", "github", "brief", "dot", "mermaid", "annotation", "graph"}
