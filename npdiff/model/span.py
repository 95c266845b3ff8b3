"""Where a thing was written: file and 1-based line."""

from __future__ import annotations

from dataclasses import dataclass

from npdiff.model.pickling import by_constructor


@by_constructor
@dataclass(frozen=True, order=True, slots=True)
class Span:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"
