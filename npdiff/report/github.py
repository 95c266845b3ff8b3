"""`-o github`: GitHub Actions workflow commands (`::error file=…,line=…,title=…::message`).

The verdict comes first as a plain log line, then the annotations, most severe first.
GitHub shows at most 10 annotations of each level per step, so each level is capped and
one `::notice::` line says how many more there are.
"""

from __future__ import annotations

from collections.abc import Sequence

from npdiff.load.sources import STDIN_NAME
from npdiff.model.invariant import VerifyResult
from npdiff.model.result import DiffResult
from npdiff.report.annotation import LEVELS, Annotation, Annotations, from_diff, from_verify

PER_LEVEL = 10                                  # GitHub's limit per level and step
_COMMANDS = {"error": "error", "warning": "warning", "note": "notice"}


def render_diff(result: DiffResult) -> str:
    return render(from_diff(result))


def render_verify(result: VerifyResult) -> str:
    return render(from_verify(result))


def render(found: Annotations) -> str:
    lines = [f"npdiff: {found.summary}"]
    # The run's own notices: an undecided run is a warning, an incomplete listing a notice.
    level = "note" if found.successful else "warning"
    notices = [Annotation("npdiff/run", level, "npdiff", text, None, None, "") for text in found.notices]
    shown: list[Annotation] = []
    hidden: dict[str, int] = {}
    for level in LEVELS:
        of_level = [a for a in (*notices, *found.annotations) if a.level == level]
        room = PER_LEVEL - 1 if level == "note" else PER_LEVEL   # keep one notice for the overflow line
        shown += of_level[:room]
        if len(of_level) > room:
            hidden[level] = len(of_level) - room
    lines += [command(a) for a in shown]
    if hidden:
        lines.append(f"::notice title=npdiff::{escape_data(overflow_text(hidden))}")
    return "\n".join(lines) + "\n"


def overflow_text(hidden: dict[str, int]) -> str:
    total = sum(hidden.values())
    parts = ", ".join(f"{count} {_COMMANDS[level]}{'s' if count != 1 else ''}"
                      for level, count in hidden.items())
    return (f"{total} more annotation{'s' if total != 1 else ''} not shown ({parts}): GitHub shows at most "
            f"{PER_LEVEL} of each level per step; see -o markdown, -o sarif or -o json for all")


def command(a: Annotation) -> str:
    properties: list[tuple[str, str]] = []
    if a.file and a.file != STDIN_NAME:
        properties.append(("file", a.file))
        if a.line:
            properties.append(("line", str(a.line)))
    properties.append(("title", a.title))
    return f"::{_COMMANDS[a.level]} {_properties(properties)}::{escape_data(a.message)}"


def _properties(properties: Sequence[tuple[str, str]]) -> str:
    return ",".join(f"{key}={escape_property(value)}" for key, value in properties)


def escape_data(text: str) -> str:
    """Escaping of a command's message, as the Actions toolkit does it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escaping of a property value: the message's, and also `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
