"""`-o brief`: the verdict, then one line per flow class (`+` newly allowed, `-` newly blocked)."""

from __future__ import annotations

from npdiff.model.invariant import InvariantStatus, VerifyResult
from npdiff.model.result import DiffResult
from npdiff.report import records
from npdiff.report.text import flow_text, summary_line, verify_summary_line

_MARKS = {records.NEWLY_ALLOWED: "+", records.NEWLY_BLOCKED: "-"}


def render_diff(result: DiffResult) -> str:
    lines = [summary_line(result)]
    for view in records.class_views(result):
        where = f" [{view.anchor.file}:{view.anchor.line}]" if view.anchor else ""
        lines.append(f"{_MARKS[view.kind]} {view.src} -> {view.dst} on {view.ports}{where}")
    if not result.complete:
        lines.append(f"! listing incomplete: {result.reason}")
    if result.invariants is not None:
        lines += [f"! invariant {c.new.invariant.name} {c.change}" for c in result.invariants.changes
                  if c.change != "unchanged"]
    return "\n".join(lines) + "\n"


def render_verify(result: VerifyResult) -> str:
    lines = [verify_summary_line(result)]
    for r in result.results:
        line = f"{r.status.value} {r.invariant.name}"
        if r.status is InvariantStatus.VIOLATED and r.witness is not None:
            line += f": e.g. {flow_text(r.witness.flow)}"
        elif r.status is InvariantStatus.UNDECIDED:
            line += f": {r.reason}"
        lines.append(line)
    return "\n".join(lines) + "\n"
