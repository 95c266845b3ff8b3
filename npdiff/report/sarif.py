"""`-o sarif`: SARIF 2.1.0 for code scanning, one result per annotation.

Each result points at the file and line of its deciding rule, with a stable rule id and a
partial fingerprint that does not depend on line numbers, so re-runs match earlier alerts.
A clean run has `"results": []`.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePath
from urllib.parse import quote

from npdiff import __version__
from npdiff.load.sources import STDIN_NAME
from npdiff.model.invariant import VerifyResult
from npdiff.model.result import DiffResult
from npdiff.report.annotation import Annotation, Annotations, from_diff, from_verify

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "npdiffFinding/v1"


def render_diff(result: DiffResult) -> str:
    return render(from_diff(result))


def render_verify(result: VerifyResult) -> str:
    return render(from_verify(result))


def render(found: Annotations) -> str:
    rule_index = {rule.id: n for n, rule in enumerate(found.rules)}
    run = {
        "tool": {"driver": {
            "name": "npdiff",
            "version": __version__,
            "rules": [{
                "id": rule.id,
                "name": rule.name,
                "shortDescription": {"text": rule.short},
                "fullDescription": {"text": rule.full},
                "defaultConfiguration": {"level": rule.level},
            } for rule in found.rules],
        }},
        "invocations": [{
            "executionSuccessful": found.successful,
            "toolExecutionNotifications": [{"level": "warning", "message": {"text": text}}
                                           for text in found.notices],
        }],
        "results": [_result(a, rule_index[a.rule]) for a in found.annotations],
        "properties": {"summary": found.summary},
    }
    document = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _result(a: Annotation, rule_index: int) -> dict:
    out: dict = {
        "ruleId": a.rule,
        "ruleIndex": rule_index,
        "level": a.level,
        "message": {"text": a.message},
    }
    if a.file and a.file != STDIN_NAME:
        region = {"startLine": a.line} if a.line else {}
        out["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": artifact_uri(a.file)},
                                                  **({"region": region} if region else {})}}]
    out["partialFingerprints"] = {FINGERPRINT_KEY: a.fingerprint}
    return out


_REVISION_FILE = re.compile(r"[^:/\s][^:\s]*:([^/:][^:]*)")


def artifact_uri(path: str) -> str:
    """A relative path stays relative (as given on the command line); an absolute one becomes file://.
    A file read at a git revision (`REV:deploy/api.yaml`) is named by its path in the
    repository, which is what code scanning places alerts on."""
    revision = _REVISION_FILE.fullmatch(path)
    if revision:
        path = revision.group(1)
    pure = PurePath(path)
    if pure.is_absolute():
        return "file://" + quote(pure.as_posix())
    return quote(pure.as_posix())
