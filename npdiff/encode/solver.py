"""The one place that creates solvers: fixed seeds, a budget per check, three-valued answers.

A solver's models and unsat cores depend on everything its context made before, in order
(z3 numbers terms as they are made, and reuses the numbers of terms released): a change
that makes or releases terms in another order changes witnesses, even where it changes no
term. The C API calls here and in models.py make and keep what the wrappers did."""

from __future__ import annotations

from enum import Enum

import z3


class Undecided(Exception):
    """A check returned unknown or ran out of its budget; the question stays open."""


_unknown_answers = 0


def unknown_answers() -> int:
    """How many checks in this process answered unknown. Some callers turn an unknown answer
    into a shorter explanation rather than an undecided verdict; the result cache must still
    not keep an answer that another run, given more time, could make longer."""
    return _unknown_answers


def count_unknown_answers(count: int) -> None:
    """Add unknown answers given in another process (analyse/workers.py) to this one's count."""
    global _unknown_answers
    _unknown_answers += count


def undecided(what: str, solver: z3.Solver) -> Undecided:
    """The exception for an unknown answer to the question `what`, counted."""
    global _unknown_answers
    _unknown_answers += 1
    return Undecided(f"{what}: solver answered unknown ({solver.reason_unknown()})")


class Answer(Enum):
    SAT = "sat"
    UNSAT = "unsat"


def make_solver(ctx: z3.Context, timeout_ms: int) -> z3.Solver:
    """A solver in the analysis' own context, so no earlier analysis can change its answers."""
    solver = z3.SimpleSolver(ctx=ctx)
    solver.set("random_seed", 0)
    solver.set("timeout", int(timeout_ms))
    return solver


def preprocessed(ctx: z3.Context, *terms: z3.BoolRef) -> list[z3.BoolRef]:
    """The same constraints, rewritten by z3's simplifier with the values that facts fix
    (`has_ip`, a pinned kind) written into the rest; every fact stays, so models are the
    same. The simple solver does no such preprocessing itself, and on a whole large set
    a first check took 23 s instead of 0.4 s without it."""
    goal = z3.Goal(ctx=ctx)
    goal.add(*terms)
    (result,) = z3.Then("simplify", "propagate-values", ctx=ctx)(goal)
    # Every formula of a goal is Boolean: read without the wrappers' sort dispatch.
    ref, handle = ctx.ref(), result.goal
    return [z3.BoolRef(z3.Z3_goal_formula(ref, handle, i), ctx) for i in range(z3.Z3_goal_size(ref, handle))]


def check(solver: z3.Solver, what: str, assumptions: list[z3.BoolRef] | None = None) -> Answer:
    """Run one check; `what` names the question for the undecided message. The C API is
    called directly: `Solver.check` casts every assumption through the Python wrappers,
    and class search checks thousands of times."""
    count = len(assumptions) if assumptions else 0
    args = (z3.Ast * count)(*(a.as_ast() for a in assumptions)) if count else None
    result = z3.Z3_solver_check_assumptions(solver.ctx.ref(), solver.solver, count, args)
    if result == z3.Z3_L_TRUE:
        return Answer.SAT
    if result == z3.Z3_L_FALSE:
        return Answer.UNSAT
    raise undecided(what, solver)


def assert_all(solver: z3.Solver, *terms: z3.BoolRef) -> None:
    """`solver.add(*terms)` for Boolean terms, without the wrappers' per-term sort check."""
    ctx, handle = solver.ctx.ref(), solver.solver
    for term in terms:
        z3.Z3_solver_assert(ctx, handle, term.as_ast())


def core_of(solver: z3.Solver) -> set[int]:
    """The unsat core of the solver's last check, as the addresses of its assumptions'
    ASTs (`term.ast.value`: equal terms share one AST), read without an expression object
    per literal."""
    ctx = solver.ctx.ref()
    core = z3.Z3_solver_get_unsat_core(ctx, solver.solver)
    z3.Z3_ast_vector_inc_ref(ctx, core)
    try:
        return {z3.Z3_ast_vector_get(ctx, core, i).value for i in range(z3.Z3_ast_vector_size(ctx, core))}
    finally:
        z3.Z3_ast_vector_dec_ref(ctx, core)
