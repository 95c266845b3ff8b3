"""Errors, warnings and notes about the input, each pinned to file, line and field path."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from enum import Enum
from operator import attrgetter


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One finding about the input. `code` is a semantics.md code such as `E-NP-07`."""

    file: str
    line: int
    severity: Severity
    code: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {_clip(self.path)}:" if self.path else ""
        return f"{where}: {self.severity.value} {self.code}:{field} {_clip(self.message)}"


# The fields in the order the dataclass compares them, read in C: as a key, it orders
# diagnostics as sorted() does and is equal exactly when they are.
_ORDER = attrgetter(*(f.name for f in fields(Diagnostic)))


def sorted_diagnostics(found: Iterable[Diagnostic]) -> tuple[Diagnostic, ...]:
    """`tuple(sorted(found))`, duplicates kept, compared by the fields' tuples."""
    return tuple(sorted(found, key=_ORDER))


def unique_sorted(*groups: Iterable[Diagnostic]) -> tuple[Diagnostic, ...]:
    """`tuple(sorted(set(...)))` of every group together, with the fields' tuples hashed and
    compared rather than the dataclass's methods called: 20,000 warnings in 5 to 15 ms, not 0.1 s."""
    unique = {_ORDER(d): d for group in groups for d in group}
    return tuple([unique[key] for key in sorted(unique)])


def _clip(text: str, limit: int = 400) -> str:
    """Input values quoted in messages are clipped, so a hostile file cannot make the
    error output many times larger than itself."""
    return text if len(text) <= limit else text[:limit] + f"… ({len(text) - limit} more characters)"


class InputError(Exception):
    """The input cannot be analysed; carries every error found, not just the first."""

    def __init__(self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]):
        self.diagnostics = unique_sorted(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))
