"""Sides from git: `REV:PATH`, `--base REV PATH`, names in reports, and errors (exit 2)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gitrepo import DENY, git, two_commits, write
from npdiff.cli import run
from npdiff.load import load_policy_set
from npdiff.load.git import RevisionPath, revision_path
from npdiff.model import InputError, Semantics


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = two_commits(tmp_path / "repo")
    monkeypatch.chdir(path)
    return path


def _report(argv: list[str]) -> tuple[int, dict]:
    result = run([*argv, "-o", "json"])
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)


def _allowed_by(report: dict) -> dict:
    return report["newly_allowed"][0]["new"]["ingress"]["allowed_by"][0]


def test_two_revisions(repo: Path) -> None:
    code, report = _report(["main~1:deploy/", "main:deploy/"])
    assert code == 1
    assert [c["ports"] for c in report["newly_allowed"]] == [[[8443, 8443]]]
    assert report["newly_blocked"] == []
    assert _allowed_by(report)["file"] == "main:deploy/api.yaml"
    assert _allowed_by(report)["line"] == 10
    change = report["changes"][0]
    assert (change["file"], change["fields"]) == ("main:deploy/api.yaml", ["spec.ingress[0].ports[1]"])
    old_rule = report["newly_allowed"][0]["old"]["ingress"]["isolated_by"][0]
    assert old_rule["file"] == "main~1:deploy/api.yaml"


def test_base_against_working_tree(repo: Path) -> None:
    code, report = _report(["--base", "main~1", "deploy/"])
    assert code == 1
    assert _allowed_by(report)["file"] == "deploy/api.yaml"
    assert report["newly_allowed"][0]["old"]["ingress"]["isolated_by"][0]["file"] == "main~1:deploy/api.yaml"
    assert run(["--base", "main", "deploy"]).exit_code == 0


def test_uncommitted_change_is_seen(repo: Path) -> None:
    write(repo / "deploy" / "api.yaml", DENY)
    assert run(["--base", "main", "deploy"]).exit_code == 1
    assert run(["--base", "main~1", "deploy"]).exit_code == 0


def test_from_a_subdirectory(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo / "deploy")
    code, report = _report(["--base", "main~1", "."])
    assert code == 1
    old_rule = report["newly_allowed"][0]["old"]["ingress"]["isolated_by"][0]
    assert old_rule["file"] == "main~1:deploy/api.yaml"   # root-relative, like git show
    assert run(["main~1:./", "."]).exit_code == 1          # ./ is relative to the current directory
    assert run(["main~1:deploy", "main:deploy"]).exit_code == 1


def test_single_file_and_other_commands(repo: Path) -> None:
    assert run(["main~1:deploy/api.yaml", "main:deploy/api.yaml"]).exit_code == 1
    flow = ["--from", "shop/app=web", "--to", "shop/app=api", "--port", "8443", "-o", "json"]
    before = json.loads(run(["eval", "main~1:deploy", *flow]).stdout)
    after = json.loads(run(["eval", "main:deploy", *flow]).stdout)
    assert (before[0]["allowed"], after[0]["allowed"]) == (False, True)


def test_tree_is_walked_like_a_directory(repo: Path) -> None:
    write(repo / "deploy" / "notes.txt", "{{ not: yaml")
    write(repo / "deploy" / ".github" / "ci.yaml", "{{ not: yaml")
    write(repo / "shared" / "extra.yaml", DENY.replace("name: api", "name: extra"))
    write(repo / "linked" / "more.yaml", DENY.replace("name: api", "name: more"))
    os.symlink("../shared/extra.yaml", repo / "deploy" / "extra.yaml")   # a linked file
    os.symlink("../linked", repo / "deploy" / "linked")                 # a linked directory
    os.symlink(".", repo / "deploy" / "loop")                           # read once, not forever
    os.symlink("linked", repo / "deploy" / "again")                     # inside the walk: once
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "more")
    at_revision = load_policy_set(["main:deploy"], Semantics()).policy_set.policies
    on_disk = load_policy_set(["deploy"], Semantics()).policy_set.policies
    assert [p.span.file for p in at_revision] == [
        "main:deploy/api.yaml", "main:deploy/extra.yaml", "main:deploy/linked/more.yaml"]
    assert [p.key for p in at_revision] == [p.key for p in on_disk]


def test_dangling_link_is_an_error(repo: Path) -> None:
    os.symlink("nowhere.yaml", repo / "deploy" / "gone.yaml")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "dangling")
    result = run(["main~1:deploy", "main:deploy"])
    assert result.exit_code == 2
    assert "main:deploy/gone.yaml: error E-IO: symbolic link leads to no file" in result.stderr


def test_existing_path_wins_over_revision(repo: Path) -> None:
    write(repo / "main~1:deploy" / "api.yaml", DENY.replace("name: api", "name: on-disk"))
    assert revision_path("main~1:deploy") is None
    assert revision_path("main:deploy") == RevisionPath("main", "deploy", "main:deploy")
    code, report = _report(["main~1:deploy", "main:deploy"])
    assert {c["name"]: c["change"] for c in report["changes"]} == {"api": "added", "on-disk": "removed"}


def test_base_without_the_path_is_an_empty_old_side(repo: Path) -> None:
    # A pull request that adds the first policies: the base revision has no such path.
    write(repo / "added" / "api.yaml", DENY)
    result = run(["--base", "main", "added", "-o", "json"])
    assert result.exit_code == 1, result.stderr
    assert "note N-NEW: 'added' is not in revision 'main': the old side is empty" in result.stderr
    report = json.loads(result.stdout)
    assert (report["summary"]["old_policies"], report["summary"]["new_policies"]) == (0, 1)
    assert report["newly_blocked"] and not report["newly_allowed"]
    # Without --base, a revision that lacks the path is still an error.
    assert run(["main:added", "added"]).exit_code == 2


def test_base_with_a_link_leading_out_of_the_repository_is_an_error(repo: Path) -> None:
    # The path is in the revision, as a link git cannot follow: not an empty old side.
    write(repo.parent / "outside" / "api.yaml", DENY)
    (repo / "linked").symlink_to(repo.parent / "outside")
    git(repo, "add", "linked")
    git(repo, "commit", "-q", "-m", "link")
    result = run(["--base", "main", "linked"])
    assert result.exit_code == 2, result.stderr
    assert "N-NEW" not in result.stderr and "error E-IO" in result.stderr


@pytest.mark.parametrize("argv, message", [
    (["nope:deploy", "deploy"], "nope:deploy: error E-IO: unknown revision 'nope'"),
    (["main~1:missing/", "deploy"], "main~1:missing/: error E-IO: no such path 'missing' at revision 'main~1'"),
    (["--base", "main", "missing"], "main:missing: error E-IO: no such path 'missing' at revision 'main'"),
    (["--", "-x:deploy", "deploy"], "error E-IO: invalid revision '-x'"),
    (["--base", "--upload-pack=x", "deploy"], "invalid revision '--upload-pack=x'"),
    (["--base", "main", "../elsewhere"], "is outside the git repository"),
    (["--base", "main", "a", "b"], "with --base, give one PATH"),
    (["deploy"], "missing NEW"),
])
def test_errors(repo: Path, argv: list[str], message: str) -> None:
    result = run(argv)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_not_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside = tmp_path / "plain"
    write(outside / "deploy" / "api.yaml", DENY)
    monkeypatch.chdir(outside)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    result = run(["--base", "main", "deploy"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "not inside a git repository" in result.stderr
    with pytest.raises(InputError):
        load_policy_set(["main:deploy"], Semantics())
