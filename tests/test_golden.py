"""Golden outputs: every sample diffed in every output format, byte for byte.

Regenerate after an intended change with `NPDIFF_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`
and review the diff of tests/golden/.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from npdiff.cli import run

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
SAMPLES = sorted(p.name for p in (ROOT / "samples").iterdir() if (p / "old").is_dir())
UPDATE = bool(os.environ.get("NPDIFF_UPDATE_GOLDEN"))


def _diff(name: str, output: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(ROOT)
    return run(["diff", f"samples/{name}/old", f"samples/{name}/new", "-o", output])


@pytest.mark.parametrize("output", ["text", "json"])
@pytest.mark.parametrize("name", SAMPLES)
def test_sample_golden(name: str, output: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _diff(name, output, monkeypatch)
    assert result.exit_code in (0, 1), result.stderr
    golden = GOLDEN / f"{name}.{'txt' if output == 'text' else 'json'}"
    if UPDATE:
        golden.write_text(result.stdout)
    assert result.stdout == golden.read_text()


@pytest.mark.parametrize("name", SAMPLES)
def test_exit_code_matches_verdict(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _diff(name, "json", monkeypatch)
    verdict = json.loads(result.stdout)["verdict"]
    assert result.exit_code == {"equivalent": 0, "different": 1}[verdict]


def test_expected_verdicts(monkeypatch: pytest.MonkeyPatch) -> None:
    verdicts = {name: json.loads(_diff(name, "json", monkeypatch).stdout)["verdict"] for name in SAMPLES}
    assert verdicts["equivalent-refactor"] == "equivalent"
    assert all(v == "different" for n, v in verdicts.items() if n != "equivalent-refactor")


# The other formats are written by one run per sample through --report, which the
# test of -o against --report (tests/test_outputs.py) shows to be the same text.
REPORT_SUFFIXES = {"markdown": "md", "sarif": "sarif", "github": "github.txt", "brief": "brief.txt",
                   "dot": "dot", "mermaid": "mmd"}
_reports: dict[str, dict[str, str]] = {}


def _all_reports(name: str, directory: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    if name not in _reports:
        monkeypatch.chdir(ROOT)
        targets = {output: directory / f"{name}.{suffix}" for output, suffix in REPORT_SUFFIXES.items()}
        result = run(["diff", f"samples/{name}/old", f"samples/{name}/new", "-o", "brief",
                      *(f"--report={output}={path}" for output, path in targets.items())])
        assert result.exit_code in (0, 1), result.stderr
        _reports[name] = {output: path.read_text() for output, path in targets.items()}
    return _reports[name]


@pytest.mark.parametrize("output", sorted(REPORT_SUFFIXES))
@pytest.mark.parametrize("name", SAMPLES)
def test_sample_golden_report(name: str, output: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _all_reports(name, tmp_path, monkeypatch)[output]
    golden = GOLDEN / f"{name}.{REPORT_SUFFIXES[output]}"
    if UPDATE:
        golden.write_text(text)
    assert text == golden.read_text()


def test_output_is_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    first = _diff("default-deny-forgets-dns", "json", monkeypatch).stdout
    assert _diff("default-deny-forgets-dns", "json", monkeypatch).stdout == first
