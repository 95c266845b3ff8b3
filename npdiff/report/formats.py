"""Which output formats each command has, and the renderer of each (for `-o` and `--report`)."""

from __future__ import annotations

from collections.abc import Callable

from npdiff.model.invariant import VerifyResult
from npdiff.model.result import DiffResult
from npdiff.report import brief, dot, github, json_format, markdown, mermaid, sarif, text

DIFF: dict[str, Callable[[DiffResult, bool], str]] = {
    "text": lambda result, colour: text.render_diff(result, colour=colour),
    "json": lambda result, colour: json_format.render_diff(result),
    "markdown": lambda result, colour: markdown.render_diff(result),
    "sarif": lambda result, colour: sarif.render_diff(result),
    "github": lambda result, colour: github.render_diff(result),
    "brief": lambda result, colour: brief.render_diff(result),
    "dot": lambda result, colour: dot.render_diff(result),
    "mermaid": lambda result, colour: mermaid.render_diff(result),
}

VERIFY: dict[str, Callable[[VerifyResult, bool], str]] = {
    "text": lambda result, colour: text.render_verify(result, colour=colour),
    "json": lambda result, colour: json_format.render_verify(result),
    "markdown": lambda result, colour: markdown.render_verify(result),
    "sarif": lambda result, colour: sarif.render_verify(result),
    "github": lambda result, colour: github.render_verify(result),
    "brief": lambda result, colour: brief.render_verify(result),
}

NAMES = tuple(DIFF)     # every format, in the order help texts list them
