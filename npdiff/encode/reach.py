"""What changing one pod does to its flows with other pods, under one policy set.

For a workload whose labels or ports change, its pod before and after the change is
pinned on one end of the flow (z3.substitute, once per version); each partner pod is
pinned on the other end with push/pop, with protocol and port left free. A flow the
policies allow with the pod after the change and not before is opened; the reverse is
closed. Partners that share a profile (encode.inventory) share one answer.
"""

from __future__ import annotations

from collections.abc import Sequence

import z3

from npdiff.encode.encoder import Encoder
from npdiff.encode.inventory import end_constraint, label_profile, serves_profile
from npdiff.encode.solver import Answer, check, make_solver
from npdiff.encode.variables import POD, EndpointVars
from npdiff.model import Pod, PolicySet
from npdiff.model.policy import PROTOCOLS

Example = tuple[str, int]   # a protocol and port on which the verdict changed


def pins(encoder: Encoder, end: str, pod: Pod) -> list[tuple[z3.ExprRef, z3.ExprRef]]:
    """Variable, value pairs that make `end` the pod (its named ports as functions of the
    flow's protocol and port on the destination end)."""
    v, universe, ctx = encoder.vars, encoder.universe, encoder.ctx
    ep: EndpointVars = v.src if end == "src" else v.dst
    ns, (labels, ns_labels) = label_profile(pod, universe)
    pairs = [(ep.kind, z3.IntVal(POD, ctx)), (ep.ns, z3.IntVal(ns, ctx))]
    pairs += [(ep.labels[key], z3.IntVal(i, ctx)) for (key, _), i in zip(universe.pod_keys, labels)]
    pairs += [(ep.ns_labels[key], z3.IntVal(i, ctx)) for (key, _), i in zip(universe.ns_keys, ns_labels)]
    if end == "dst":
        for name, declared in zip(universe.port_names, serves_profile(pod, universe)):
            on = [z3.And(v.proto == proto, v.port == port) for proto, port in declared]
            pairs.append((v.serves[name], z3.Or(on, ctx) if on else z3.BoolVal(False, ctx)))
    return pairs


class Partners:
    """The pods a changed pod may meet, as a constraint on either end (built once)."""

    def __init__(self, encoder: Encoder, pods: Sequence[Pod]):
        self.encoder = encoder
        self.pods = list(pods)
        self._terms: dict[str, z3.BoolRef] = {}

    def constraint(self, side: str) -> z3.BoolRef:
        if side not in self._terms:
            v = self.encoder.vars
            ep = v.src if side == "src" else v.dst
            self._terms[side] = z3.And(ep.is_pod, end_constraint(v, self.encoder.universe, self.pods, side))
        return self._terms[side]


class ReachChange:
    """Flows between one changed pod (`end` of the flow) and partner pods on the other end."""

    def __init__(self, encoder: Encoder, policy_set: PolicySet, end: str, before: Pod, after: Pod,
                 partners: Partners):
        self.encoder = encoder
        self.other = "dst" if end == "src" else "src"
        allowed = encoder.allowed(policy_set)
        was = z3.substitute(allowed, *pins(encoder, end, before))
        now = z3.substitute(allowed, *pins(encoder, end, after))
        wf = encoder.vars.well_formed(encoder.universe, encoder.semantics)
        any_partner = partners.constraint(self.other)
        self.solvers = {}
        for change, term in (("opened", z3.And(now, z3.Not(was))), ("closed", z3.And(was, z3.Not(now)))):
            solver = make_solver(encoder.ctx, encoder.semantics.timeout_ms)
            solver.add(wf, term)
            # Most changes touch no partner at all: one check over all of them says so.
            solver.push()
            solver.add(any_partner)
            if check(solver, "a workload change") is Answer.SAT:
                self.solvers[change] = solver
            solver.pop()
        self._answers: dict[tuple, dict[str, Example | None]] = {}

    def with_partner(self, partner: Pod) -> dict[str, Example | None]:
        """For "opened" and "closed": a protocol and port where it happens, or None."""
        key = (label_profile(partner, self.encoder.universe),
               serves_profile(partner, self.encoder.universe) if self.other == "dst" else ())
        if key not in self._answers:
            self._answers[key] = {change: self._example(self.solvers[change], partner)
                                  if change in self.solvers else None for change in ("opened", "closed")}
        return self._answers[key]

    def _example(self, solver: z3.Solver, partner: Pod) -> Example | None:
        solver.push()
        try:
            solver.add([var == value for var, value in pins(self.encoder, self.other, partner)])
            if check(solver, "a workload change") is not Answer.SAT:
                return None
            model = solver.model()
            v = self.encoder.vars
            return (PROTOCOLS[model.eval(v.proto, model_completion=True).as_long()],
                    model.eval(v.port, model_completion=True).as_long())
        finally:
            solver.pop()
