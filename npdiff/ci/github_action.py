"""The GitHub Action (`action.yml`): compare a pull request's base with its head, write the
report to the job summary, and fail as npdiff's exit code says.

`action.yml` runs `python -m npdiff.ci.github_action` with the action's inputs in
environment variables, so tests run exactly this against a local repository:

  INPUT_PATH      policy file or directory, relative to the repository root (default `.`)
  INPUT_BASE      base revision (default: the pull request's base commit, read from the
                  event in GITHUB_EVENT_PATH); fetched from `origin` if the checkout lacks it
  INPUT_HEAD      head revision (default: the checked-out working tree)
  INPUT_FORMAT    format of the job summary (default SUMMARY_FORMAT)
  INPUT_FAIL_ON   passed on as `--fail-on` when set
  INPUT_REPORTS   one `FORMAT=PATH` per line, each passed on as `--report`
  INPUT_ARGS      more npdiff options, split as a shell would split them (no shell runs)
  GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, GITHUB_EVENT_PATH   as GitHub sets them

npdiff runs in-process; the report goes to the log and, once, to the job summary; the
step output `exit-code` is npdiff's exit code, which is also this program's.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence

from npdiff.cli import CliResult, run

INPUTS = ("INPUT_PATH", "INPUT_BASE", "INPUT_HEAD", "INPUT_FORMAT", "INPUT_FAIL_ON",
          "INPUT_REPORTS", "INPUT_ARGS")
SUMMARY_FORMAT = "markdown"
INPUT_ERROR = 2

Runner = Callable[[Sequence[str]], CliResult]


class ActionError(Exception):
    pass


def _input(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name, "").strip()


def _event_base(environ: Mapping[str, str]) -> str:
    path = environ.get("GITHUB_EVENT_PATH", "")
    if not path:
        return ""
    try:
        with open(path, encoding="utf-8") as stream:
            event = json.load(stream)
    except (OSError, ValueError) as exc:
        raise ActionError(f"cannot read the event in {path}: {exc}") from None
    pull_request = event.get("pull_request") if isinstance(event, dict) else None
    base = pull_request.get("base", {}).get("sha", "") if isinstance(pull_request, dict) else ""
    return base if isinstance(base, str) else ""


def base_revision(environ: Mapping[str, str]) -> str:
    base = _input(environ, "INPUT_BASE") or _event_base(environ)
    if not base:
        raise ActionError("no base revision: set the action's `base` input, or run it on a "
                          "pull_request event")
    return base


def summary_format(environ: Mapping[str, str]) -> str:
    return _input(environ, "INPUT_FORMAT") or SUMMARY_FORMAT


def arguments(environ: Mapping[str, str], base: str, head: str) -> list[str]:
    """npdiff's arguments: `base` against `head` ("" for the working tree), and the options."""
    path = _input(environ, "INPUT_PATH") or "."
    sides = [f"{base}:{path}", f"{head}:{path}"] if head else ["--base", base, path]
    argv = ["diff", *sides, "-o", summary_format(environ)]
    fail_on = _input(environ, "INPUT_FAIL_ON")
    if fail_on:
        argv += ["--fail-on", fail_on]
    for report in _input(environ, "INPUT_REPORTS").splitlines():
        if report.strip():
            argv += ["--report", report.strip()]
    try:
        argv += shlex.split(_input(environ, "INPUT_ARGS"))
    except ValueError as exc:
        raise ActionError(f"cannot split the `args` input: {exc}") from None
    return argv


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False)


def ensure_commit(revision: str) -> str:
    """`revision`, fetched from `origin` if a shallow checkout lacks it; returns what to use."""
    if revision.startswith("-"):
        raise ActionError(f"invalid revision {revision!r}")
    if _git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").returncode == 0:
        return revision
    fetched = _git("fetch", "--quiet", "--no-tags", "--depth=1", "origin", revision)
    if fetched.returncode != 0:
        raise ActionError(f"revision {revision!r} is not in the checkout and cannot be "
                          f"fetched from origin: {fetched.stderr.strip()}")
    if _git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").returncode == 0:
        return revision
    return _git("rev-parse", "FETCH_HEAD").stdout.strip()


def _fenced(text: str, language: str = "text") -> str:
    fence = "````" if "```" in text else "```"
    return f"{fence}{language}\n{text.rstrip()}\n{fence}\n"


def summary(result: CliResult, summary_format: str) -> str:
    """The job summary: the report, or the errors when there is none."""
    if result.exit_code == INPUT_ERROR or not result.stdout:
        return "### npdiff could not compare the policies\n\n" + _fenced(result.stderr)
    if summary_format == "markdown":
        return result.stdout if result.stdout.endswith("\n") else result.stdout + "\n"
    return "### npdiff\n\n" + _fenced(result.stdout)


def _append(path: str, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(text)


def main(environ: Mapping[str, str] | None = None, runner: Runner = run) -> int:
    environ = os.environ if environ is None else environ
    try:
        base = ensure_commit(base_revision(environ))
        head = _input(environ, "INPUT_HEAD")
        argv = arguments(environ, base, ensure_commit(head) if head else "")
    except ActionError as exc:
        result = CliResult(INPUT_ERROR, "", f"npdiff action: {exc}\n")
    else:
        result = runner(argv)
    sys.stderr.write(result.stderr)
    sys.stdout.write(result.stdout)
    sys.stdout.flush()
    _append(environ.get("GITHUB_STEP_SUMMARY", ""), summary(result, summary_format(environ)))
    _append(environ.get("GITHUB_OUTPUT", ""), f"exit-code={result.exit_code}\n")
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
