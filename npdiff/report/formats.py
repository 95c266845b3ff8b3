"""Which output formats each command has, and the renderer of each (for `-o` and `--report`).

A renderer's module is imported when it first renders: a run writes one or two of the
eight formats, and importing the others cost a large diff 20 ms.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TypeVar

from npdiff.model.invariant import VerifyResult
from npdiff.model.result import DiffResult

R = TypeVar("R")


def _renderer(module: str, function: str, coloured: bool = False) -> Callable[[R, bool], str]:
    """`npdiff.report.<module>.<function>(result)`, given `colour=` only if `coloured`."""
    def render(result: R, colour: bool) -> str:
        found = getattr(importlib.import_module(f"npdiff.report.{module}"), function)
        return found(result, colour=colour) if coloured else found(result)
    return render


DIFF: dict[str, Callable[[DiffResult, bool], str]] = {
    "text": _renderer("text", "render_diff", coloured=True),
    "json": _renderer("json_format", "render_diff"),
    "markdown": _renderer("markdown", "render_diff"),
    "sarif": _renderer("sarif", "render_diff"),
    "github": _renderer("github", "render_diff"),
    "brief": _renderer("brief", "render_diff"),
    "dot": _renderer("dot", "render_diff"),
    "mermaid": _renderer("mermaid", "render_diff"),
}

VERIFY: dict[str, Callable[[VerifyResult, bool], str]] = {
    "text": _renderer("text", "render_verify", coloured=True),
    "json": _renderer("json_format", "render_verify"),
    "markdown": _renderer("markdown", "render_verify"),
    "sarif": _renderer("sarif", "render_verify"),
    "github": _renderer("github", "render_verify"),
    "brief": _renderer("brief", "render_verify"),
}

NAMES = tuple(DIFF)     # every format, in the order help texts list them
