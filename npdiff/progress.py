"""The progress line of a long run: one line on a terminal's standard error, redrawn in place.

The CLI makes the only `Progress` and decides whether it shows anything (standard error
is a terminal and the output is for people); lower layers receive just its `step`
method as an optional `Step` callback and never write themselves. Nothing is drawn for
the first half second, so short runs stay silent, and the line is erased before the
report is written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

# step(stage, done, total): `done` items of `stage` so far, out of `total` if it is known.
Step = Callable[[str, int, "int | None"], None]

_ERASE = "\r\x1b[K"
WIDTH = 78


class Progress:
    def __init__(self, stream: TextIO | None, clock: Callable[[], float] = time.monotonic,
                 delay: float = 0.5, interval: float = 0.1) -> None:
        """Draws on `stream` when it is a terminal; `None` (or a pipe or file) draws nothing."""
        self.stream = stream if stream is not None and stream.isatty() else None
        self.clock = clock
        self.delay = delay
        self.interval = interval
        self.started = clock()
        self.drawn_at: float | None = None

    @property
    def active(self) -> bool:
        return self.stream is not None

    def step(self, stage: str, done: int, total: int | None = None) -> None:
        if self.stream is None:
            return
        now = self.clock()
        if now - self.started < self.delay:
            return
        if self.drawn_at is not None and now - self.drawn_at < self.interval and done != total:
            return
        count = f" {done}/{total}" if total else f" {done}" if done else ""
        line = f"npdiff: {stage}{count}"
        self.stream.write(_ERASE + line[:WIDTH])
        self.stream.flush()
        self.drawn_at = now

    def clear(self) -> None:
        """Erase the line, if one was drawn, so that what follows starts on a clean line."""
        if self.stream is not None and self.drawn_at is not None:
            self.stream.write(_ERASE)
            self.stream.flush()
            self.drawn_at = None
