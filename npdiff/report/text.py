"""`-o text`: the verdict first, then each flow class in words, with witness and rules."""

from __future__ import annotations

from collections.abc import Sequence

from npdiff.model import Address, Flow, Pod
from npdiff.model.result import (
    DiffResult, DirectionDecision, DirectionStatus, EndpointRegion, FlowClass, FlowDecision,
    RuleRef, ValueConstraint, Verdict,
)

_COLOURS = {"green": "32", "red": "31", "yellow": "33", "bold": "1", "dim": "2"}


class Painter:
    def __init__(self, colour: bool):
        self.colour = colour

    def __call__(self, text: str, style: str) -> str:
        if not self.colour:
            return text
        return f"\033[{_COLOURS[style]}m{text}\033[0m"


# -- regions -------------------------------------------------------------------------------

def constraint_text(c: ValueConstraint) -> str:
    values = ", ".join(c.values)
    if c.op == "in":
        return f"{c.key}={c.values[0]}" if len(c.values) == 1 else f"{c.key} in ({values})"
    if c.op == "not-in":
        return f"{c.key}!={c.values[0]}" if len(c.values) == 1 else f"{c.key} notin ({values})"
    if c.op == "exists":
        return c.key
    if c.op == "absent":
        return f"!{c.key}"
    return f"(!{c.key} or {c.key} in ({values}))"


def region_text(r: EndpointRegion) -> str:
    if r.kind == "any":
        return "anything (any pod, node or address)"
    if r.kind == "address":
        if r.addresses:
            return "addresses " + ", ".join(r.addresses)
        return f"any {r.family} address" if r.family else "any address"
    parts = ["pods"]
    if r.labels:
        parts.append("with " + ", ".join(constraint_text(c) for c in r.labels))
    if r.namespace is None:
        parts.append("in any namespace")
    elif r.namespace.op == "in":
        names = ", ".join(r.namespace.values)
        parts.append(f"in namespace {names}" if len(r.namespace.values) == 1 else f"in namespaces {names}")
    elif len(r.namespace.values) > 3 and len(r.named_namespaces_in) < len(r.namespace.values):
        named = ", ".join(r.named_namespaces_in)
        parts.append(f"in namespace {named} or one no policy names" if named
                     else "in a namespace no policy names")
    else:
        parts.append("in any namespace but " + ", ".join(r.namespace.values))
    if r.namespace_labels:
        parts.append("labelled " + ", ".join(constraint_text(c) for c in r.namespace_labels))
    for name, serves in r.named_ports:
        parts.append(f"declaring port '{name}' on it" if serves else f"not declaring port '{name}' on it")
    if r.addresses:
        parts.append("with addresses " + ", ".join(r.addresses))
    return " ".join(parts)


def ports_text(protocols: Sequence[str], ports: Sequence[tuple[int, int]]) -> str:
    spans = ", ".join("all ports" if (lo, hi) == (1, 65535) else str(lo) if lo == hi else f"{lo}-{hi}"
                      for lo, hi in ports)
    return f"{'/'.join(protocols)} {spans}"


# -- flows and decisions ---------------------------------------------------------------------

def endpoint_text(ep: Pod | Address) -> str:
    if isinstance(ep, Address):
        return f"{ep.ip} (own node)" if ep.local_node else ep.ip
    labels = ",".join(f"{k}={v}" for k, v in ep.labels)
    ns_labels = ",".join(f"{k}={v}" for k, v in ep.namespace_labels)
    ns = f"{ep.namespace}[{ns_labels}]" if ns_labels else ep.namespace
    text = f"{ns}/{ep.name or 'pod'}{{{labels}}}"
    if ep.ports:
        text += " ports " + ",".join(f"{p.name}={p.port}/{p.protocol}" for p in ep.ports)
    if ep.ip:
        text += f" ip {ep.ip}"
    return text


def flow_text(flow: Flow) -> str:
    return f"{endpoint_text(flow.src)} -> {endpoint_text(flow.dst)} on {flow.protocol} {flow.port}"


def ref_text(ref: RuleRef) -> str:
    what = ref.policy if ref.rule is None else f"{ref.policy} {ref.direction}[{ref.rule}]"
    return f"{what} ({ref.file}:{ref.line})"


def direction_text(d: DirectionDecision) -> str | None:
    side = "destination" if d.direction == "ingress" else "source"
    if d.status is DirectionStatus.NOT_A_POD:
        return None
    if d.status is DirectionStatus.NOT_ISOLATED:
        return f"{d.direction}: no policy isolates the {side}: allowed by default"
    if d.status is DirectionStatus.LOCAL_NODE:
        return f"{d.direction}: allowed from the pod's own node (S6.4)"
    if d.status is DirectionStatus.ALLOWED:
        return f"{d.direction}: allowed by " + "; ".join(ref_text(r) for r in d.allowed_by)
    return (f"{d.direction}: denied: isolated by " + "; ".join(ref_text(r) for r in d.isolated_by)
            + ", and no rule matches")


def decision_lines(d: FlowDecision) -> list[str]:
    lines = [t for t in (direction_text(d.egress), direction_text(d.ingress)) if t]
    return lines or ["neither end is a pod: no policy applies"]


# -- documents ---------------------------------------------------------------------------------

def render_diff(result: DiffResult, colour: bool = False) -> str:
    paint = Painter(colour)
    out: list[str] = []
    counts = f"old: {_policies(result.old_count)}, new: {_policies(result.new_count)}"
    if result.verdict is Verdict.EQUIVALENT:
        out.append(paint("equivalent", "green") + f": the change allows and blocks exactly the same flows ({counts})")
    elif result.verdict is Verdict.UNDECIDED:
        out.append(paint("undecided", "yellow") + f": {result.reason} ({counts})")
    else:
        out.append(paint("different", "red") + f": {len(result.newly_allowed)} newly allowed and "
                   f"{len(result.newly_blocked)} newly blocked flow classes ({counts})")
    if result.changes:
        out += ["", paint("Changed objects", "bold")]
        marks = {"added": "+", "removed": "-", "modified": "~"}
        for c in result.changes:
            line = f"  {marks[c.change]} {c.kind} {c.namespace}/{c.name} ({c.file}:{c.line})"
            if c.fields:
                line += ": " + ", ".join(c.fields)
            out.append(line)
    for title, classes, style in (("Newly allowed", result.newly_allowed, "green"),
                                  ("Newly blocked", result.newly_blocked, "red")):
        if classes:
            out += ["", paint(f"{title} ({len(classes)})", style)]
            for number, flow_class in enumerate(classes, 1):
                out += _class_lines(number, flow_class)
    if result.verdict is Verdict.DIFFERENT:
        out += ["", paint("Classes range over every pod that could exist, so some may need a pod, "
                          "label or namespace that is not deployed today (S1.3.2).", "dim")]
    if result.verdict is Verdict.DIFFERENT and not result.complete:
        out += ["", paint("The listing is incomplete", "yellow") + f": {result.reason}. "
                "The verdict is exact; the classes above are only part of the difference."]
    flags = ", ".join(f"{k}={_flag(v)}" for k, v in result.semantics.flags().items())
    out += ["", paint(f"semantics: {flags}", "dim")]
    return "\n".join(out) + "\n"


def _policies(count: int) -> str:
    return f"{count} {'policy' if count == 1 else 'policies'}"


def _flag(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(value) or "-"
    return str(value)


def _class_lines(number: int, c: FlowClass) -> list[str]:
    lines = [
        f"  {number}. from {region_text(c.src)}",
        f"     to   {region_text(c.dst)}",
        f"     on   {ports_text(c.protocols, c.ports)}",
        f"     e.g. {flow_text(c.witness)}",
    ]
    for side, d in (("old", c.old), ("new", c.new)):
        verdict = "allowed" if d.allowed else "blocked"
        details = decision_lines(d)
        lines.append(f"     {side}: {verdict}; {details[0]}")
        lines += [f"          {' ' * len(verdict)}  {more}" for more in details[1:]]
    return lines


def render_decisions(decisions: Sequence[FlowDecision], colour: bool = False) -> str:
    paint = Painter(colour)
    out = []
    for d in decisions:
        verdict = paint("ALLOW", "green") if d.allowed else paint("DENY ", "red")
        out.append(f"{verdict} {flow_text(d.flow)}")
        out += [f"      {line}" for line in decision_lines(d)]
    return "\n".join(out) + "\n" if out else ""
