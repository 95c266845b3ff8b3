"""The only package that builds z3 terms: atoms, flow variables, policy terms, solver checks."""

from npdiff.encode.encoder import Encoder
from npdiff.encode.solver import Undecided
from npdiff.encode.universe import Universe

__all__ = ["Encoder", "Undecided", "Universe"]
