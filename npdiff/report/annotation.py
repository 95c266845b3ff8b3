"""Neutral findings for code-scanning style outputs (`-o sarif`, `-o github`).

A result of any command (diff classes, violated invariants, and later audit findings) is
mapped to `Annotation`s: a rule id, a level, a message and the file and line it belongs
to. The SARIF and GitHub writers read only these records.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from npdiff.model.invariant import InvariantResult, InvariantReview, InvariantStatus, VerifyResult
from npdiff.model.result import DiffResult, Verdict
from npdiff.report import records
from npdiff.report.text import flow_text, invariant_text, ref_text, summary_line, verify_summary_line

LEVELS = ("error", "warning", "note")          # most severe first (SARIF's names)


@dataclass(frozen=True)
class Rule:
    """What a kind of annotation means (a SARIF reportingDescriptor)."""

    id: str                     # stable: "npdiff/newly-allowed"
    name: str                   # CamelCase, as SARIF viewers show it
    short: str
    full: str
    level: str                  # default level, one of LEVELS


@dataclass(frozen=True)
class Annotation:
    rule: str                   # a Rule.id
    level: str                  # one of LEVELS
    title: str                  # one short line
    message: str                # the whole finding; may span lines
    file: str | None            # as given on the command line; None: no location
    line: int | None
    fingerprint: str            # identifies the finding across runs (never from line numbers)


@dataclass(frozen=True)
class Annotations:
    """Everything a command found, and what a reader must know about the run."""

    summary: str                            # the verdict line
    rules: tuple[Rule, ...]
    annotations: tuple[Annotation, ...]     # in the result's order
    notices: tuple[str, ...] = ()           # undecided, incomplete listings
    successful: bool = True                 # False when the verdict is undecided


NEWLY_ALLOWED = Rule("npdiff/newly-allowed", "NewlyAllowedFlows",
                     "The change allows flows that were blocked.",
                     "NEW allows a class of flows that OLD blocks; the location is the NEW rule that "
                     "admits them (or the OLD policy that isolated them, when NEW has no policy for them).",
                     "error")
NEWLY_BLOCKED = Rule("npdiff/newly-blocked", "NewlyBlockedFlows",
                     "The change blocks flows that were allowed.",
                     "NEW blocks a class of flows that OLD allows; the location is the NEW policy that "
                     "isolates the pods concerned without a rule that admits the flows.",
                     "warning")
INVARIANT_VIOLATED = Rule("npdiff/invariant-violated", "InvariantViolated",
                          "An invariant about who may talk to whom does not hold.",
                          "A flow violates the invariant; the location is a rule that decides the "
                          "violating flow, or the invariant itself.",
                          "error")
INVARIANT_BROKEN = Rule("npdiff/invariant-broken", "InvariantBroken",
                        "The change breaks an invariant that held before.",
                        "The invariant holds for OLD and is violated by NEW.",
                        "error")
_CLASS_RULES = {records.NEWLY_ALLOWED: NEWLY_ALLOWED, records.NEWLY_BLOCKED: NEWLY_BLOCKED}


def from_diff(result: DiffResult) -> Annotations:
    annotations = [_class_annotation(view) for view in records.class_views(result)]
    rules = [NEWLY_ALLOWED, NEWLY_BLOCKED]
    if result.invariants is not None:
        annotations += _broken(result.invariants)
        rules.append(INVARIANT_BROKEN)
    notices = _diff_notices(result)
    return Annotations(summary_line(result), tuple(rules), tuple(annotations), notices,
                       successful=result.verdict is not Verdict.UNDECIDED)


def from_verify(result: VerifyResult) -> Annotations:
    annotations = tuple(_invariant_annotation(r, INVARIANT_VIOLATED) for r in result.results
                        if r.status is InvariantStatus.VIOLATED)
    notices = tuple(f"{r.invariant.name}: undecided: {r.reason}" for r in result.results
                    if r.status is InvariantStatus.UNDECIDED)
    return Annotations(verify_summary_line(result), (INVARIANT_VIOLATED,), annotations, notices,
                       successful=not notices)


def _class_annotation(view: records.ClassView) -> Annotation:
    rule = _CLASS_RULES[view.kind]
    title = f"{records.KIND_TITLES[view.kind]}: {view.ports}"
    lines = [f"{records.KIND_TITLES[view.kind]} (class {view.number}): from {view.src} to {view.dst} on {view.ports}.",
             f"Deciding rule: {view.anchor_text}.",
             *view.workloads,
             f"e.g. {view.witness}",
             *(f"{side}: {line}" if n == 0 else f"     {line}" for side, lines in (("old", view.old), ("new", view.new))
               for n, line in enumerate(lines))]
    ref = view.anchor
    return Annotation(rule.id, rule.level, title, "\n".join(lines),
                      ref.file if ref else None, ref.line if ref else None, view.fingerprint)


def _diff_notices(result: DiffResult) -> tuple[str, ...]:
    if result.verdict is Verdict.UNDECIDED:
        return (f"undecided: {result.reason}",)
    if not result.complete:
        return (f"The listing is incomplete: {result.reason}. The verdict is exact; "
                "only part of the difference is annotated.",)
    return ()


def _broken(review: InvariantReview) -> list[Annotation]:
    return [_invariant_annotation(c.new, INVARIANT_BROKEN) for c in review.changes if c.change == "broken"]


def _invariant_annotation(r: InvariantResult, rule: Rule) -> Annotation:
    i = r.invariant
    verb = "broken" if rule is INVARIANT_BROKEN else "violated"
    lines = [f"Invariant {i.name} {verb}: {invariant_text(i)}."]
    if r.witness is not None:
        lines.append(f"e.g. {flow_text(r.witness.flow)}")
    if r.decided_by:
        lines.append("decided by " + "; ".join(ref_text(ref) for ref in r.decided_by))
    if r.classes:
        lines.append(f"{len(r.classes)} violating flow class{'es' if len(r.classes) != 1 else ''}"
                     + ("" if r.complete else " (listing incomplete)"))
    file, line = (r.decided_by[0].file, r.decided_by[0].line) if r.decided_by else \
        ((i.span.file, i.span.line) if i.span is not None else (None, None))
    identity = f"{rule.id}\0{i.name}\0{i.kind.value}\0{i.preset or ''}"
    return Annotation(rule.id, rule.level, f"Invariant {verb}: {i.name}", "\n".join(lines), file, line,
                      hashlib.sha256(identity.encode()).hexdigest()[:32])
