"""Points and cubes over the flow's dimensions, and the witness flow a point stands for.

A point gives every dimension one value; a cube gives each dimension a set of values
(categorical dimensions) or an inclusive interval (port, addresses). A dimension missing
from a cube is unconstrained.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import z3

from npdiff.encode.models import Model
from npdiff.encode.terms import conjunction, disjunction
from npdiff.encode.universe import ABSENT, Universe
from npdiff.encode.variables import ADDRESS, POD, FlowVars
from npdiff.model import Address, Flow, NamedPort, Pod, Semantics
from npdiff.model.policy import PROTOCOLS

Interval = tuple[int, int]
DimValue = frozenset | Interval
INTERVAL_DIMS = ("port", "src.ip4", "src.ip6", "dst.ip4", "dst.ip6")


@dataclass(frozen=True)
class Cube:
    dims: tuple[tuple[str, DimValue], ...]

    def get(self, dim: str) -> DimValue | None:
        return dict(self.dims).get(dim)

    def replace(self, dim: str, value: DimValue | None) -> Cube:
        items = dict(self.dims)
        if value is None:
            items.pop(dim, None)
        else:
            items[dim] = value
        return Cube(tuple(sorted(items.items(), key=lambda kv: kv[0])))


def dimension_vars(v: FlowVars) -> dict[str, z3.ExprRef]:
    dims: dict[str, z3.ExprRef] = {"proto": v.proto, "port": v.port, "v6": v.v6}
    for ep in (v.src, v.dst):
        dims[f"{ep.side}.kind"] = ep.kind
        dims[f"{ep.side}.ns"] = ep.ns
        dims[f"{ep.side}.ip4"] = ep.ip4
        dims[f"{ep.side}.ip6"] = ep.ip6
        for key, var in ep.labels.items():
            dims[f"{ep.side}.label[{key}]"] = var
        for key, var in ep.ns_labels.items():
            dims[f"{ep.side}.nslabel[{key}]"] = var
    for name, var in v.serves.items():
        dims[f"dst.serves[{name}]"] = var
    return dims


def point_of(model: Model, dimensions: dict[str, z3.ExprRef], boolean: frozenset[str]) -> dict[str, int | bool]:
    """The value in `model` of every dimension (`Encoder.dimensions`); `boolean` names the
    Bool ones."""
    return {dim: model.value(var, dim in boolean) for dim, var in dimensions.items()}


def dim_term(var: z3.ExprRef, value: DimValue) -> z3.BoolRef:
    """One dimension of a cube: `var` lies in the interval or the value set."""
    if isinstance(value, tuple):
        lo, hi = value
        if z3.is_bv(var):
            width = var.size()
            return z3.And(z3.UGE(var, z3.BitVecVal(lo, width, var.ctx)), z3.ULE(var, z3.BitVecVal(hi, width, var.ctx)))
        return z3.And(var >= lo, var <= hi)
    return one_of(var, value)


def equals(var: z3.ExprRef, value: int | bool) -> z3.BoolRef:
    """`var == value` for an Int or Bool variable, built without z3's Python coercion
    (class search builds many thousands of these)."""
    ctx = var.ctx
    ref = ctx.ref()
    if isinstance(value, bool):
        constant = z3.Z3_mk_true(ref) if value else z3.Z3_mk_false(ref)
    else:
        constant = z3.Z3_mk_int64(ref, value, z3.Z3_get_sort(ref, var.as_ast()))
    # An AST just returned lives until the next call that returns one: it is used at once.
    return z3.BoolRef(z3.Z3_mk_eq(ref, var.as_ast(), constant), ctx)


def differs(var: z3.ExprRef, value: int) -> z3.BoolRef:
    """`var != value` for an Int variable, likewise."""
    ctx = var.ctx
    ref = ctx.ref()
    args = (z3.Ast * 2)(var.as_ast(), z3.Z3_mk_int64(ref, value, z3.Z3_get_sort(ref, var.as_ast())))
    return z3.BoolRef(z3.Z3_mk_distinct(ref, 2, args), ctx)


def at_least(var: z3.ExprRef, value: int) -> z3.BoolRef:
    """`var >= value` for an Int variable, likewise."""
    ctx = var.ctx
    ref = ctx.ref()
    return z3.BoolRef(z3.Z3_mk_ge(ref, var.as_ast(), z3.Z3_mk_int64(ref, value, z3.Z3_get_sort(ref, var.as_ast()))),
                      ctx)


def at_most(var: z3.ExprRef, value: int) -> z3.BoolRef:
    """`var <= value` for an Int variable, likewise."""
    ctx = var.ctx
    ref = ctx.ref()
    return z3.BoolRef(z3.Z3_mk_le(ref, var.as_ast(), z3.Z3_mk_int64(ref, value, z3.Z3_get_sort(ref, var.as_ast()))),
                      ctx)


def one_of(var: z3.ExprRef, values) -> z3.BoolRef:
    """`var` takes one of `values` (false when there are none). Runs of consecutive
    integers become one range ("every namespace but one" is two ranges, not 200 equations)."""
    ordered = sorted(values)
    if ordered and not isinstance(ordered[0], bool):
        terms = [equals(var, lo) if hi == lo else _range(var, lo, hi) for lo, hi in _runs(ordered)]
    else:
        terms = [equals(var, v) for v in ordered]
    return terms[0] if len(terms) == 1 else disjunction(terms, var.ctx)


def _runs(ordered: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for value in ordered:
        if runs and value == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def _range(var: z3.ExprRef, lo: int, hi: int) -> z3.BoolRef:
    return conjunction([at_least(var, lo), at_most(var, hi)], var.ctx)


def endpoint_dims(side: str, point: dict[str, int | bool], universe: Universe,
                  semantics: Semantics) -> list[str]:
    """The dimensions that matter for one end, given its kind in the point."""
    dims = [f"{side}.kind"]
    family = "ip6" if point["v6"] else "ip4"
    if point[f"{side}.kind"] == POD:
        dims.append(f"{side}.ns")
        dims += [f"{side}.label[{k}]" for k, _ in universe.pod_keys]
        dims += [f"{side}.nslabel[{k}]" for k, _ in universe.ns_keys]
        if semantics.ipblock_matches_pods:
            dims.append(f"{side}.{family}")
        if side == "dst":
            dims += [f"dst.serves[{n}]" for n in universe.port_names]
    else:
        dims.append(f"{side}.{family}")
    return dims


def domain(dim: str, universe: Universe) -> tuple:
    """All values of a categorical dimension, in the order widening tries them."""
    if dim == "proto":
        return tuple(range(len(PROTOCOLS)))
    if dim == "v6" or ".serves[" in dim:
        return (False, True)
    if dim.endswith(".kind"):
        return (POD, ADDRESS)
    if dim.endswith(".ns"):
        return tuple(range(universe.other_namespace + 1))
    key = dim[dim.index("[") + 1:-1]
    keys = dict(universe.ns_keys if ".nslabel[" in dim else universe.pod_keys)
    return tuple(range(len(keys[key]) + 2))


def cuts_for(dim: str, universe: Universe) -> tuple[tuple[int, ...], int]:
    """Atom starts and the largest value of an interval dimension."""
    if dim == "port":
        return universe.port_cuts, 65535
    if dim.endswith("ip4"):
        return universe.v4_cuts, 2 ** 32 - 1
    return universe.v6_cuts, 2 ** 128 - 1


def fresh_value(taken: tuple[str, ...], base: str = "other") -> str:
    """A label value (or namespace name) that no policy mentions."""
    candidate, n = base, 0
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def witness_flow(point: dict[str, int | bool], universe: Universe, semantics: Semantics) -> Flow:
    """The concrete flow a point stands for: names and values picked so that it is real."""
    v6 = bool(point["v6"])
    protocol = PROTOCOLS[int(point["proto"])]
    port = int(point["port"])

    def endpoint(side: str) -> Pod | Address:
        ip_value = int(point[f"{side}.{'ip6' if v6 else 'ip4'}"])
        ip = str(ipaddress.IPv6Address(ip_value) if v6 else ipaddress.IPv4Address(ip_value))
        if point[f"{side}.kind"] != POD:
            return Address(ip=ip)
        ns_index = int(point[f"{side}.ns"])
        if ns_index < universe.other_namespace:
            namespace = universe.namespaces[ns_index]
        else:
            namespace = fresh_value(universe.namespaces, f"other-ns-{side}")
        labels = _labels(point, f"{side}.label", universe.pod_keys)
        ns_labels = _labels(point, f"{side}.nslabel", universe.ns_keys)
        ports: tuple[NamedPort, ...] = ()
        if side == "dst":
            ports = tuple(NamedPort(n, port, protocol) for n in universe.port_names
                          if point[f"dst.serves[{n}]"])
        return Pod(namespace=namespace, labels=labels, namespace_labels=ns_labels, ports=ports,
                   ip=ip if semantics.ipblock_matches_pods else None)

    return Flow(src=endpoint("src"), dst=endpoint("dst"), protocol=protocol, port=port)


def _labels(point: dict[str, int | bool], prefix: str,
            keys: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[tuple[str, str], ...]:
    labels = []
    for key, values in keys:
        index = int(point[f"{prefix}[{key}]"])
        if index == ABSENT:
            continue
        labels.append((key, values[index - 1] if index <= len(values) else fresh_value(values)))
    return tuple(labels)


_NICE_ADDRESSES = {
    "ip4": [int(ipaddress.IPv4Address(a)) for a in ("203.0.113.7", "198.51.100.7", "192.0.2.7", "10.0.0.7")],
    "ip6": [int(ipaddress.IPv6Address(a)) for a in ("2001:db8::7", "fd00::7")],
}


def readable_point(point: dict[str, int | bool], cube: Cube) -> dict[str, int | bool]:
    """Move a witness's addresses to documentation addresses where the cube allows it.

    Every point of a cube is inside the difference, so this keeps the witness real while
    sparing the reader addresses such as 0.0.0.0.
    """
    out = dict(point)
    for dim in ("src.ip4", "src.ip6", "dst.ip4", "dst.ip6"):
        allowed = cube.get(dim)
        lo, hi = allowed if isinstance(allowed, tuple) else (0, 2 ** 128)
        for candidate in _NICE_ADDRESSES[dim[-3:]]:
            if lo <= candidate <= hi:
                out[dim] = candidate
                break
    return out
