"""`npdiff audit -o text`: a summary line, then one finding per paragraph in file order."""

from __future__ import annotations

from npdiff.model.finding import AuditResult, Finding, FindingSeverity
from npdiff.report.text import Painter, _flag

_STYLES = {FindingSeverity.ERROR: "red", FindingSeverity.WARNING: "yellow", FindingSeverity.INFO: "dim"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _finding(f: Finding, paint: Painter) -> list[str]:
    where = f"{f.element.file}:{f.element.line}" if f.element.file else "-"
    return [f"{where}: {paint(f.severity.value, _STYLES[f.severity])} {paint(f.id, 'bold')}: "
             f"{f.element.label()}",
            f"  {f.message}"]


def render(result: AuditResult, colour: bool = False) -> str:
    paint = Painter(colour)
    counts = ", ".join(_plural(result.count(s), s.value) for s in reversed(FindingSeverity) if result.count(s))
    head = _plural(len(result.findings), "finding") + (f" ({counts})" if counts else "")
    out = [f"audit: {head} in {_plural(result.policy_count, 'policy').replace('policys', 'policies')}"]
    if result.undecided:
        out[0] += f"; {len(result.undecided)} check{'s' if len(result.undecided) != 1 else ''} undecided"
    for f in result.findings:
        out += ["", *_finding(f, paint)]
    if result.undecided:
        out += ["", paint("Undecided (nothing is claimed about these elements):", "yellow")]
        for u in result.undecided:
            out.append(f"  {u.element.file}:{u.element.line}: {u.check}: {u.element.label()}: {u.reason}")
    inputs = []
    inputs.append("Namespace objects: " + ("none given (namespace-label-missing not checked)"
                                           if result.namespace_objects is None else str(result.namespace_objects)))
    inputs.append("workloads: " + ("none given (selects-nothing, peer-namespace-scope not checked)"
                                   if result.workload_objects is None else str(result.workload_objects)))
    out += ["", paint("; ".join(inputs), "dim")]
    flags = ", ".join(f"{k}={_flag(v)}" for k, v in result.semantics.flags().items())
    out += ["", paint(f"semantics: {flags}", "dim")]
    return "\n".join(out) + "\n"

