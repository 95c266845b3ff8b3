"""And, Or, Not and Implies built through z3's C API: the one place terms are joined in bulk."""

from __future__ import annotations

import z3


def conjunction(terms: list[z3.BoolRef], ctx: z3.Context) -> z3.BoolRef:
    """`z3.And` without its per-argument coercion, which dominates encoding large sets;
    a term repeated (many policies share a selector) is passed once."""
    return _connective(z3.Z3_mk_and, terms, ctx, True)


def disjunction(terms: list[z3.BoolRef], ctx: z3.Context) -> z3.BoolRef:
    """`z3.Or`, likewise."""
    return _connective(z3.Z3_mk_or, terms, ctx, False)


def negation(term: z3.BoolRef) -> z3.BoolRef:
    """`z3.Not` without its sort check and coercion (class search negates thousands of terms)."""
    ctx = term.ctx
    return z3.BoolRef(z3.Z3_mk_not(ctx.ref(), term.as_ast()), ctx)


def implication(premise: z3.BoolRef, conclusion: z3.BoolRef) -> z3.BoolRef:
    """`z3.Implies`, likewise."""
    ctx = premise.ctx
    return z3.BoolRef(z3.Z3_mk_implies(ctx.ref(), premise.as_ast(), conclusion.as_ast()), ctx)


def _connective(make, terms: list[z3.BoolRef], ctx: z3.Context, empty: bool) -> z3.BoolRef:
    # Terms are hash-consed: equal terms share one AST, so its address tells them apart
    # (asking z3 for an id would be a foreign call per term).
    unique = list({t.ast.value: t for t in terms}.values())
    if not unique:
        return z3.BoolVal(empty, ctx)
    args = (z3.Ast * len(unique))(*(t.as_ast() for t in unique))
    return z3.BoolRef(make(ctx.ref(), len(unique), args), ctx)
