"""Entry points: the `kubectl npdiff` plugin, the pre-commit hook and the GitHub Action,
each run as its host would run it, against a local two-commit repository."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml

from gitrepo import DENY, git, two_commits, write
from npdiff.ci import github_action
from npdiff.cli import CliResult

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = two_commits(tmp_path / "repo")
    monkeypatch.chdir(path)
    return path


def _path_env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


# -- kubectl plugin -------------------------------------------------------------------------

def test_kubectl_plugin_script() -> None:
    scripts = {e.name: e.value for e in entry_points(group="console_scripts")}
    assert scripts.get("kubectl-npdiff") == "npdiff.cli:main"
    done = subprocess.run([str(BIN / "kubectl-npdiff"), "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stdout.startswith("Usage: kubectl npdiff ")


def test_kubectl_plugin_diff(repo: Path) -> None:
    done = subprocess.run(["kubectl-npdiff", "--base", "main~1", "deploy"], capture_output=True,
                          text=True, env=_path_env())
    assert done.returncode == 1, done.stderr
    assert "on   TCP 8443" in done.stdout


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_finds_the_plugin(repo: Path) -> None:
    done = subprocess.run(["kubectl", "npdiff", "main~1:deploy", "main:deploy"], capture_output=True,
                          text=True, env=_path_env())
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("different: 1 newly allowed")


# -- pre-commit hook ------------------------------------------------------------------------

def _hook() -> dict:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["npdiff"]
    return hooks[0]


def _run_hook(args: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """As pre-commit runs it: entry, then args, and no file names."""
    hook = _hook()
    assert hook["pass_filenames"] is False and hook["language"] == "python"
    argv = shlex.split(hook["entry"]) + (hook["args"] if args is None else args)
    return subprocess.run(argv, capture_output=True, text=True, env=_path_env())


def test_pre_commit_hook(repo: Path) -> None:
    assert _run_hook().returncode == 0                        # nothing changed since HEAD
    write(repo / "deploy" / "api.yaml", DENY)                  # closes 8443 again
    git(repo, "add", "-A")
    done = _run_hook()
    assert done.returncode == 1, done.stderr
    assert "0 newly allowed and 1 newly blocked" in done.stdout
    assert "HEAD:api.yaml" not in done.stdout and "HEAD:deploy/api.yaml" in done.stdout


def test_pre_commit_hook_args_override_the_base(repo: Path) -> None:
    done = _run_hook(["--base", "main~1", "deploy/"])
    assert done.returncode == 1, done.stderr
    assert "1 newly allowed and 0 newly blocked" in done.stdout


# -- GitHub Action --------------------------------------------------------------------------

def _action() -> dict:
    return yaml.safe_load((ROOT / "action.yml").read_text())


def _step_env(tmp_path: Path, **inputs: str) -> dict[str, str]:
    env = {name: "" for name in github_action.INPUTS}
    env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    env["GITHUB_STEP_SUMMARY"] = str(tmp_path / "summary.md")
    env["GITHUB_OUTPUT"] = str(tmp_path / "output.txt")
    return env


def test_action_hands_every_input_over() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    install, compare = action["runs"]["steps"]
    assert '-m pip install' in install["run"] and '"$GITHUB_ACTION_PATH"' in install["run"]
    assert "-m npdiff.ci.github_action" in compare["run"]
    assert set(compare["env"]) == set(github_action.INPUTS)
    for name, value in compare["env"].items():
        key = name.removeprefix("INPUT_").lower().replace("_", "-")
        assert key in action["inputs"] and value == f"${{{{ inputs.{key} }}}}"
    assert action["outputs"]["exit-code"]["value"] == "${{ steps.npdiff.outputs.exit-code }}"


def test_action_step_as_github_runs_it(repo: Path, tmp_path: Path) -> None:
    """The compare step's own shell line, with the installed npdiff standing in for the venv."""
    runner_temp = tmp_path / "runner"
    python = write(runner_temp / "npdiff-venv" / "bin" / "python", f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    compare = _action()["runs"]["steps"][1]
    env = {**os.environ, **_step_env(tmp_path, base="main~1", path="deploy"), "RUNNER_TEMP": str(runner_temp)}
    done = subprocess.run(["bash", "-c", compare["run"]], capture_output=True, text=True, env=env)
    assert done.returncode == 1, done.stderr
    assert "on   TCP 8443" in done.stdout
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("**npdiff: different**: 1 newly allowed")
    assert "(main~1:deploy/api.yaml:" in summary and "(deploy/api.yaml:" in summary
    assert (tmp_path / "output.txt").read_text() == "exit-code=1\n"


def test_action_base_from_the_pull_request_event(repo: Path, tmp_path: Path) -> None:
    base = git(repo, "rev-parse", "main~1").strip()
    event = write(tmp_path / "event.json", json.dumps({"pull_request": {"base": {"sha": base}}}))
    env = {**_step_env(tmp_path, path="deploy"), "GITHUB_EVENT_PATH": str(event)}
    assert github_action.main(env) == 1
    assert f"({base}:deploy/api.yaml:" in (tmp_path / "summary.md").read_text()


def test_action_head_revision(repo: Path, tmp_path: Path) -> None:
    write(repo / "deploy" / "api.yaml", DENY)                  # the working tree is not read
    assert github_action.main(_step_env(tmp_path, base="main~1", head="main", path="deploy")) == 1
    assert github_action.main(_step_env(tmp_path, base="main", head="main", path="deploy")) == 0


def test_action_fetches_a_base_a_shallow_checkout_lacks(repo: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    base = git(repo, "rev-parse", "main~1").strip()
    git(tmp_path, "-c", "protocol.file.allow=always", "clone", "-q", "--depth=1", f"file://{repo}", "clone")
    clone = tmp_path / "clone"
    monkeypatch.chdir(clone)
    assert subprocess.run(["git", "cat-file", "-e", base], cwd=clone).returncode != 0
    assert github_action.main(_step_env(tmp_path, base=base, path="deploy")) == 1


def test_action_errors_go_to_the_summary(repo: Path, tmp_path: Path) -> None:
    assert github_action.main(_step_env(tmp_path, path="deploy")) == 2
    assert "no base revision" in (tmp_path / "summary.md").read_text()
    (tmp_path / "summary.md").unlink()
    assert github_action.main(_step_env(tmp_path, base="nope", path="deploy")) == 2
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("### npdiff could not compare the policies")
    assert "'nope'" in summary
    assert (tmp_path / "output.txt").read_text() == "exit-code=2\nexit-code=2\n"


def test_action_passes_options_on(repo: Path, tmp_path: Path) -> None:
    seen: list[list[str]] = []

    def fake(argv):
        seen.append(list(argv))
        return CliResult(1, "## npdiff: different\n", "")

    env = _step_env(tmp_path, base="main~1", path="deploy", format="markdown", fail_on="newly-allowed",
                    reports="sarif=out/npdiff.sarif\n\njson=out/npdiff.json\n",
                    args="--timeout 120 --default-namespace 'prod'")
    assert github_action.main(env, runner=fake) == 1
    assert seen == [["diff", "--base", "main~1", "deploy", "-o", "markdown", "--fail-on", "newly-allowed",
                     "--report", "sarif=out/npdiff.sarif", "--report", "json=out/npdiff.json",
                     "--timeout", "120", "--default-namespace", "prod"]]
    assert (tmp_path / "summary.md").read_text() == "## npdiff: different\n"   # markdown as is
