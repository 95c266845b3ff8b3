"""`-o markdown`: a pull-request comment.

The verdict first, then a table per direction (from, to, ports, example flow, deciding
rule), then the witnesses, both sides' decisions and the changed objects folded in
`<details>`. The comment is kept under `MAX_CHARS` (GitHub's limit is 65,536): classes that
do not fit are left out with an explicit "… N more classes not shown" line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from npdiff.model.invariant import InvariantReview, InvariantStatus, VerifyResult
from npdiff.model.result import DiffResult, ObjectChange, Verdict
from npdiff.report import records
from npdiff.report.text import (
    GLANCE_AFTER, at_a_glance, flow_text, invariant_text, ref_name, semantics_line, summary_line,
    verify_summary_line,
)

MAX_CHARS = 60_000
MAX_CHANGES = 50                    # changed objects listed; the rest are counted
MARKER = "<!-- npdiff -->"          # lets a CI job find and update its own comment
_SPECIAL = "\\`*_[]<>|~#"
_CHANGE_MARKS = {"added": "+", "removed": "-", "modified": "~"}


def escape(text: str) -> str:
    """Plain text safe in a Markdown paragraph or table cell."""
    return "".join(f"\\{ch}" if ch in _SPECIAL else ch for ch in text.replace("\n", " "))


def code(text: str) -> str:
    """An inline code span safe in a table cell."""
    body = text.replace("|", "\\|").replace("\n", " ")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    if not longest:
        return f"`{body}`"
    fence = "`" * (longest + 1)
    return f"{fence} {body} {fence}"


def _headline(summary: str) -> str:
    verdict, _, rest = summary.partition(": ")
    return f"**npdiff: {verdict}**: {escape(rest)}"


def render_diff(result: DiffResult) -> str:
    views = records.class_views(result)
    document = _diff_document(result, views, len(views))
    if len(document) <= MAX_CHARS:
        return document
    low, high = 0, len(views) - 1
    while low < high:                   # the most classes that fit; the length grows with them
        middle = (low + high + 1) // 2
        if len(_diff_document(result, views, middle)) <= MAX_CHARS:
            low = middle
        else:
            high = middle - 1
    return _diff_document(result, views, low)


def _diff_document(result: DiffResult, views: Sequence[records.ClassView], shown: int) -> str:
    out = [_headline(summary_line(result)), ""]
    if result.verdict is Verdict.DIFFERENT and not result.complete:
        out += [f"> **The listing is incomplete**: {escape(result.reason)}. The verdict is exact; "
                "the classes below are only part of the difference.", ""]
    visible = views[:shown]
    if result.verdict is Verdict.DIFFERENT:
        for kind, title in records.KIND_TITLES.items():
            total = sum(1 for v in views if v.kind == kind)
            rows = [v for v in visible if v.kind == kind]
            out += [f"### {title} ({total})", ""]
            if total > GLANCE_AFTER:
                classes = result.newly_allowed if kind == records.NEWLY_ALLOWED else result.newly_blocked
                out += [f"- **{count}** {'class' if count == 1 else 'classes'}: {escape(key)}"
                        for count, key in at_a_glance(classes, kind == records.NEWLY_ALLOWED)] + [""]
            out += _table(rows) if rows else ["_none_" if not total else "_not shown (size limit)_"]
            out.append("")
        if shown < len(views):
            missing = len(views) - shown
            out += [f"**… {missing} more class{'es' if missing != 1 else ''} not shown** "
                    "(the comment would exceed GitHub's size limit); run `npdiff -o json` for all of them.", ""]
    if result.invariants is not None:
        out += _review(result.invariants)
    details = _details(visible, result.changes)
    if details:
        summary = "Example flows, both sides' decisions, changed objects" if visible else "Changed objects"
        out += ["<details>", f"<summary>{summary}</summary>", "",
                *details, "</details>", ""]
    if result.verdict is Verdict.DIFFERENT:
        out += ["<sub>Classes range over every pod that could exist, so some may need a pod, label or "
                "namespace that is not deployed today (S1.3.2). "
                f"{escape(semantics_line(result.semantics))}</sub>", ""]
    out.append(MARKER)
    return "\n".join(out) + "\n"


def _table(views: Sequence[records.ClassView]) -> list[str]:
    rows = ["| # | from | to | ports | e.g. | deciding rule |", "|---:|---|---|---|---|---|"]
    for v in views:
        rule = "–" if v.anchor is None else \
            f"{code(ref_name(v.anchor))} ({escape(f'{v.anchor.file}:{v.anchor.line}')})" + \
            (" in OLD" if v.anchor_side == "old" else "")
        rows.append(f"| {v.number} | {escape(v.src)} | {escape(v.dst)} | {escape(v.ports)} | "
                    f"{code(v.witness)} | {rule} |")
    return rows


def _details(views: Sequence[records.ClassView], changes: Sequence[ObjectChange]) -> list[str]:
    out: list[str] = []
    for v in views:
        body = [f"from {v.src}", f"to   {v.dst}", f"on   {v.ports}", *v.workloads, f"e.g. {v.witness}",
                *(f"{side}: {line}" if n == 0 else f"     {line}"
                  for side, lines in (("old", v.old), ("new", v.new)) for n, line in enumerate(lines))]
        out += [f"**{records.KIND_TITLES[v.kind]} {v.number}**", "", *_fenced(body), ""]
    if changes:
        out += ["**Changed objects**", ""]
        for c in changes[:MAX_CHANGES]:
            line = f"- {code(_CHANGE_MARKS[c.change])} {c.kind} {code(f'{c.namespace}/{c.name}')} " \
                   f"({escape(f'{c.file}:{c.line}')})"
            if c.fields:
                line += ": " + ", ".join(code(f) for f in c.fields)
            out.append(line)
        if len(changes) > MAX_CHANGES:
            out.append(f"- … {len(changes) - MAX_CHANGES} more changed objects")
        out.append("")
    return out


def _fenced(lines: Sequence[str]) -> list[str]:
    """A code block whose fence is longer than any run of backticks inside it."""
    longest = max((len(run) for run in re.findall(r"`+", "\n".join(lines))), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}text", *lines, fence]


def _review(review: InvariantReview) -> list[str]:
    out = [f"### Invariants: {review.count('broken')} broken, {review.count('repaired')} repaired, "
           f"{review.count('unchanged')} unchanged", ""]
    for c in review.changes:
        if c.change == "unchanged":
            continue
        explained = c.new if c.change == "broken" else c.old
        line = f"- **{c.change}** {code(c.new.invariant.name)}: {escape(invariant_text(c.new.invariant))}"
        if explained.witness is not None:
            line += f"; e.g. {code(flow_text(explained.witness.flow))}"
        out.append(line)
    return out + [""]


def render_verify(result: VerifyResult) -> str:
    out = [_headline(verify_summary_line(result)), "",
           "| invariant | status | claim | e.g. |", "|---|---|---|---|"]
    for r in result.results:
        example = code(flow_text(r.witness.flow)) if r.status is InvariantStatus.VIOLATED and r.witness else \
            escape(r.reason) if r.status is InvariantStatus.UNDECIDED else ""
        out.append(f"| {code(r.invariant.name)} | {r.status.value} | {escape(invariant_text(r.invariant))} | {example} |")
    out += ["", f"<sub>{escape(semantics_line(result.semantics))}</sub>", "", MARKER]
    return "\n".join(out) + "\n"
