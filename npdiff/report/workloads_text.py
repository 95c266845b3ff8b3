"""Text for workloads: the workloads of a class, changed workloads, and the closing note."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from npdiff.model.inventory import ClassWorkloads, InventorySummary, WorkloadChange, WorkloadMatch
from npdiff.model.result import DiffResult, EndpointRegion, FlowClass, Verdict

MAX_LISTED = 8   # workloads per end in text; JSON lists them all

Paint = Callable[[str, str], str]


def match_text(m: WorkloadMatch, with_ports: bool) -> str:
    text = m.ref
    if with_ports and m.ports:
        text += " (" + ", ".join(str(p) for p in m.ports) + ")"
    if m.version:
        text += f" [as in {m.version.upper()}]"
    return text


def _end_text(matches: Sequence[WorkloadMatch], region: EndpointRegion, hypothetical: bool,
              with_ports: bool) -> str | None:
    if region.kind == "address":
        return None
    if hypothetical:
        return "no workload: hypothetical (needs a pod that no workload provides)"
    shown = [match_text(m, with_ports) for m in matches[:MAX_LISTED]]
    if len(matches) > MAX_LISTED:
        shown.append(f"… and {len(matches) - MAX_LISTED} more")
    text = ", ".join(shown)
    return text + ", or an address" if region.kind == "any" else text


def class_workload_lines(c: FlowClass) -> list[str]:
    w: ClassWorkloads | None = c.workloads
    if w is None:
        return []
    ends = [("from", _end_text(w.src, c.src, "src" in w.hypothetical, False)),
            ("to  ", _end_text(w.dst, c.dst, "dst" in w.hypothetical, True))]
    lines = []
    for word, text in ends:
        if text is not None:
            lead = "     workloads " if not lines else "               "
            lines.append(f"{lead}{word} {text}")
    return lines


def change_lines(summary: InventorySummary | None, paint: Paint) -> list[str]:
    if summary is None or not summary.changes:
        return []
    marks = {"added": "+", "removed": "-", "changed": "~"}
    out = ["", paint("Changed workloads", "bold")]
    for c in summary.changes:
        name = f"{c.namespace}/{c.name}" if c.namespace else c.name
        line = f"  {marks[c.change]} {c.kind.lower()} {name} ({c.file}:{c.line})"
        if c.fields:
            line += ": " + "; ".join(f"{field} {_value(before)} -> {_value(after)}"
                                     for field, (before, after) in zip(c.fields, c.values))
        out.append(line)
        if c.change == "changed" and c.namespace:
            out += [f"      {text}" for text in reach_lines(c)]
    return out


_REACH_WORDS = (("to", "opened", "now reaches"), ("to", "closed", "no longer reaches"),
                ("from", "opened", "now reached from"), ("from", "closed", "no longer reached from"))


def reach_lines(c: WorkloadChange) -> list[str]:
    """What the workload's own change does to its flows with the other workloads."""
    if c.reach_reason:
        return [f"its effect is undecided: {c.reach_reason}"]
    if not c.reach:
        return ["under NEW's policies, no flow with another workload changes"]
    lines = []
    for direction, change, words in _REACH_WORDS:
        items = [f"{d.partner} ({d.protocol} {d.port})" for d in c.reach
                 if d.direction == direction and d.change == change]
        if items:
            shown = items[:MAX_LISTED] + ([f"… and {len(items) - MAX_LISTED} more"] if len(items) > MAX_LISTED else [])
            lines.append(f"{words} " + ", ".join(shown))
    return lines


def _value(value: str | None) -> str:
    return "(none)" if value is None else repr(value) if value == "" else value


def closing_note(result: DiffResult) -> str | None:
    """What the verdict and classes range over, when an inventory says more than the
    symbolic note (or, for an equivalence under --inventory-only, that it is not a proof
    about every pod)."""
    summary = result.inventory
    if summary is None or not (summary.old_workloads or summary.new_workloads):
        return None
    if summary.only and result.verdict is Verdict.EQUIVALENT:
        return ("Equivalent for the pods of the inventory's workloads (--inventory-only, OLD's and NEW's "
                "versions) and every address; pods that no workload provides were not considered.")
    if result.verdict is not Verdict.DIFFERENT:
        return None
    if summary.only:
        return ("Classes range over the pods of the inventory's workloads (--inventory-only, OLD's and "
                "NEW's versions) and every address; regions are told in the policies' vocabulary.")
    classes = (*result.newly_allowed, *result.newly_blocked)
    hypothetical = sum(1 for c in classes if c.workloads is not None and c.workloads.hypothetical)
    if hypothetical:
        verb = "needs" if hypothetical == 1 else "need"
        which = (f"{hypothetical} of {len(classes)} {verb} a pod that no workload of the inventory "
                 "provides (hypothetical)")
    else:
        which = "each has a workload of the inventory on every pod end"
    return (f"Classes range over every pod that could exist (S1.3.2); {which}. "
            "--inventory-only restricts the analysis to the workloads.")
