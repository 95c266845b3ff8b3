"""Independent pieces of an analysis, run in forked worker processes, their results taken in order.

A piece is worth a process when its solver work dwarfs a fork (a few milliseconds): the
child starts with every policy already read, and only its result, a small picklable
value, travels back. Each piece must build its own solver context, so that what it finds
does not depend on what ran before it in the same process: the results are then the same
for any number of workers, one included, where pieces run here, in order.

Workers are forked where `os.fork` is safe for this program (Linux); z3 stops its timer
threads before a fork (it registers an at-fork handler). Elsewhere pieces run here.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from npdiff.encode import solver

P = TypeVar("P")
R = TypeVar("R")

MAX_JOBS = 8


def available_jobs() -> int:
    """Workers for `--jobs 0` (the default): the CPUs this process may run on, up to MAX_JOBS,
    or one where pieces cannot be forked."""
    if not sys.platform.startswith("linux"):
        return 1
    return max(1, min(MAX_JOBS, len(os.sched_getaffinity(0))))


def in_order(pieces: Sequence[P], run: Callable[[P], R], jobs: int) -> Iterator[R]:
    """`run(piece)` for each piece, yielded in the pieces' order. With `jobs` > 1 up to that
    many pieces run at once, ahead of the one yielded; closing the iterator early stops
    the pieces still running. An exception raised by a piece is raised here, in its turn."""
    if jobs <= 1 or len(pieces) <= 1 or not sys.platform.startswith("linux"):
        for piece in pieces:
            yield run(piece)
        return
    running: dict[int, tuple[int, int, bytearray]] = {}   # fd -> (piece index, pid, bytes read)
    done: dict[int, tuple[str, object, int]] = {}
    launched = 0
    try:
        for index in range(len(pieces)):
            while index not in done:
                while launched < len(pieces) and len(running) < jobs:
                    fd, pid = _fork(run, pieces[launched])
                    running[fd] = (launched, pid, bytearray())
                    launched += 1
                _collect(running, done)
            status, value, unknown = done.pop(index)
            solver.count_unknown_answers(unknown)
            if status == "raised":
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]
    finally:
        for fd, (_, pid, _) in running.items():
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(fd)


def _fork(run: Callable[[P], R], piece: P) -> tuple[int, int]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: never returns to the caller's stack
        os.close(read_end)
        status = 1
        try:
            before = solver.unknown_answers()
            try:
                result: tuple[str, object, int] = ("done", run(piece), 0)
            except BaseException as exc:  # handed to the parent, which raises it in turn
                result = ("raised", exc, 0)
            result = (result[0], result[1], solver.unknown_answers() - before)
            try:
                data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:
                data = pickle.dumps(("raised", RuntimeError(f"worker result not sent: {exc!r}"), result[2]))
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
            status = 0
        finally:
            os._exit(status)  # no exit handlers, no flushing of the parent's buffers
    os.close(write_end)
    return read_end, pid


def _collect(running: dict[int, tuple[int, int, bytearray]], done: dict[int, tuple[str, object, int]]) -> None:
    """Read from the workers until at least one has finished, and record its result."""
    while True:
        ready, _, _ = select.select(list(running), [], [])
        finished = False
        for fd in ready:
            index, pid, data = running[fd]
            chunk = os.read(fd, 1 << 20)
            if chunk:
                data += chunk
                continue
            del running[fd]
            os.close(fd)
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) != 0 or not data:
                done[index] = ("raised", RuntimeError(f"analysis worker {pid} failed (exit status {status})"), 0)
            else:
                done[index] = pickle.loads(bytes(data))
            finished = True
        if finished:
            return
