"""Errors, warnings and notes about the input, each pinned to file, line and field path."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


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

    def sort_key(self) -> tuple:
        """The order of `order=True`, as a tuple: sorting by it compares in C, not field
        by field in Python (thousands of warnings in a large repository)."""
        return (self.file, self.line, self.severity, self.code, self.path, self.message)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {_clip(self.path)}:" if self.path else ""
        return f"{where}: {self.severity.value} {self.code}:{field} {_clip(self.message)}"


def _clip(text: str, limit: int = 400) -> str:
    """Input values quoted in messages are clipped, so a hostile file cannot make the
    error output many times larger than itself."""
    return text if len(text) <= limit else text[:limit] + f"… ({len(text) - limit} more characters)"


class InputError(Exception):
    """The input cannot be analysed; carries every error found, not just the first."""

    def __init__(self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]):
        self.diagnostics = tuple(sorted(set(diagnostics)))
        super().__init__("\n".join(str(d) for d in self.diagnostics))
