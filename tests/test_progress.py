"""Progress: drawn on a terminal's standard error for text output only, erased before the
report, and never on a pipe or beside a machine format."""

from __future__ import annotations

import io
from pathlib import Path

from npdiff.cli import Environment, execute, run
from npdiff.progress import Progress

from gitrepo import DENY, OPEN_PORT, write


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _sides(tmp_path: Path) -> list[str]:
    write(tmp_path / "old" / "api.yaml", DENY)
    write(tmp_path / "new" / "api.yaml", OPEN_PORT)
    return [str(tmp_path / "old"), str(tmp_path / "new")]


def _execute(argv: list[str], terminal: io.StringIO) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdin=io.BytesIO(), stdout=out, stderr=err, colour=False,
                      progress=Progress(terminal, delay=0, interval=0))
    return execute(argv, env), out.getvalue(), err.getvalue()


def test_waits_throttles_and_erases() -> None:
    clock, terminal = Clock(), FakeTerminal()
    progress = Progress(terminal, clock=clock, delay=0.5, interval=0.1)
    progress.step("reading policies", 1, 10)
    assert terminal.getvalue() == ""                      # short runs stay silent
    clock.now += 0.6
    progress.step("reading policies", 2, 10)
    progress.step("reading policies", 3, 10)              # within the interval: skipped
    clock.now += 0.2
    progress.step("listing newly allowed flows, classes found:", 4)
    progress.clear()
    assert terminal.getvalue() == ("\r\x1b[Knpdiff: reading policies 2/10"
                                   "\r\x1b[Knpdiff: listing newly allowed flows, classes found: 4"
                                   "\r\x1b[K")


def test_nothing_on_a_pipe() -> None:
    pipe = io.StringIO()
    progress = Progress(pipe, delay=0, interval=0)
    progress.step("reading policies", 1, 1)
    progress.clear()
    assert not progress.active and pipe.getvalue() == ""


def test_diff_on_a_terminal(tmp_path: Path) -> None:
    terminal = FakeTerminal()
    code, out, err = _execute(_sides(tmp_path), terminal)
    assert code == 1
    drawn = terminal.getvalue()
    assert "npdiff: reading policies 1/1" in drawn
    assert "npdiff: listing newly allowed flows, classes found: 1" in drawn
    assert drawn.endswith("\r\x1b[K")
    plain = run(_sides(tmp_path))
    assert (out, err) == (plain.stdout, plain.stderr)     # the report itself is unchanged


def test_never_beside_a_machine_format(tmp_path: Path) -> None:
    terminal = FakeTerminal()
    code, out, _ = _execute([*_sides(tmp_path), "-o", "json"], terminal)
    assert code == 1 and out.startswith("{")
    assert terminal.getvalue() == ""


def test_verify_on_a_terminal(tmp_path: Path) -> None:
    terminal = FakeTerminal()
    write(tmp_path / "p" / "api.yaml", DENY)
    code, _, _ = _execute(["verify", str(tmp_path / "p"), "--preset", "dns"], terminal)
    assert code == 0
    assert "npdiff: checking invariants 1/1" in terminal.getvalue()
