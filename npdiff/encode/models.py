"""Values read from z3 models through the C API.

Class search reads a model after most of its checks and explaining a witness evaluates
hundreds of terms; the Python wrappers (a ModelRef, an expression object per value, a
sort check per call) cost more than the evaluation itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import z3

Value = int | bool


class Model:
    """The model of a solver's last SAT check, owned (reference counted) by this object."""

    __slots__ = ("_ctx", "_ref", "_out")

    def __init__(self, ctx: z3.Context, ref: z3.Model) -> None:
        self._ctx = ctx
        self._ref = ref
        self._out = (z3.Ast * 1)()
        z3.Z3_model_inc_ref(ctx.ref(), ref)

    @classmethod
    def of(cls, solver: z3.Solver) -> Model:
        return cls(solver.ctx, z3.Z3_solver_get_model(solver.ctx.ref(), solver.solver))

    @classmethod
    def pinning(cls, assignment: Sequence[tuple[z3.ExprRef, z3.ExprRef]], ctx: z3.Context) -> Model:
        """A model in which each variable of `assignment` has its value: written directly,
        not solved for (every variable is a constant)."""
        model = cls(ctx, z3.Z3_mk_model(ctx.ref()))
        for var, value in assignment:
            z3.Z3_add_const_interp(ctx.ref(), model._ref, z3.Z3_get_app_decl(ctx.ref(), var.as_ast()), value.as_ast())
        return model

    def __del__(self) -> None:
        if self._ctx.ref() is not None:
            z3.Z3_model_dec_ref(self._ctx.ref(), self._ref)

    def _eval(self, term: z3.ExprRef) -> z3.Ast:
        # The value stays alive until the next call that returns an AST: it is read at once.
        if not z3.Z3_model_eval(self._ctx.ref(), self._ref, term.as_ast(), True, self._out):
            raise AssertionError("a term could not be evaluated under a model")
        return self._out[0]

    def truth(self, term: z3.BoolRef) -> bool:
        """A Boolean term's value; the model must fix it (model completion fills the rest)."""
        value = z3.Z3_get_bool_value(self._ctx.ref(), self._eval(term))
        if value == z3.Z3_L_UNDEF:
            raise AssertionError(f"term not concrete under the model: {term}")
        return value == z3.Z3_L_TRUE

    def number(self, term: z3.ExprRef) -> int:
        """An Int or bit-vector term's value (model completion fills what is unconstrained)."""
        return int(z3.Z3_get_numeral_string(self._ctx.ref(), self._eval(term)))

    def value(self, var: z3.ExprRef, boolean: bool) -> Value:
        return self.truth(var) if boolean else self.number(var)
