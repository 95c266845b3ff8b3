"""Independent pieces of an analysis, run in forked worker processes (npdiff/processes.py),
their results taken in order.

Workers are forked once, when the first piece starts, with every policy already read. A
piece must build its own solver contexts, so that what it finds does not depend on what
ran before it in the same process: the results are then the same for any number of
workers, one included, where pieces run here, in order. Unknown solver answers given in
a worker are counted here (the result cache must not keep what they decided).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from npdiff.encode import solver
from npdiff.processes import MAX_WORKERS, Message, Worker, forking, ready

P = TypeVar("P")
R = TypeVar("R")


def in_order(count: int, piece: Callable[[int], P], run: Callable[[P], R], jobs: int,
             meanwhile: Callable[[], None] | None = None) -> Iterator[R]:
    """`run(piece(i))` for i in range(count), yielded in order. `piece(i)` is called here
    when piece i starts; with `jobs` > 1 up to that many pieces (at most MAX_WORKERS) run
    at once in workers, no further than twice that ahead of the one yielded. Closing the
    iterator early stops the workers. An exception raised by a piece is raised here, in
    its turn; a worker that stops unexpectedly is a RuntimeError.
    `meanwhile()`, work of this process that the pieces do not need, is called once: while
    the first pieces run in workers, or before the pieces when they run here."""
    workers: list[Worker] = []
    busy: dict[int, Worker] = {}      # piece index -> the worker running it
    done: dict[int, Message] = {}
    started = 0
    try:
        if jobs > 1 and count > 1 and forking():
            try:
                for _ in range(min(jobs, count, MAX_WORKERS)):
                    workers.append(Worker(_counted(run), workers))
            except OSError:   # no more processes or memory: work with those there are
                pass
        if not workers:
            if meanwhile is not None:
                meanwhile()
            for index in range(count):
                yield run(piece(index))
            return
        for index in range(count):
            while index not in done:
                for worker in workers:
                    if started < min(count, index + 2 * len(workers)) and worker.piece is None:
                        worker.start(started, piece(started))
                        busy[started] = worker
                        started += 1
                if meanwhile is not None:
                    meanwhile()
                    meanwhile = None
                for worker in ready(list(busy.values())):
                    for finished, message in worker.receive():
                        done[finished] = message
                        del busy[finished]
            status, value, unknown = done.pop(index)
            solver.count_unknown_answers(unknown)
            if status == "raised":
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]
    finally:
        for worker in workers:
            worker.stop()


def _counted(run: Callable[[P], R]) -> Callable[[P], Message]:
    """`run` as a worker answers: its result or exception, and the unknown answers it met."""
    def handle(piece: P) -> Message:
        before = solver.unknown_answers()
        try:
            message: Message = ("done", run(piece), 0)
        except Exception as exc:  # handed to the parent, which raises it in turn
            message = ("raised", exc, 0)
        return message[0], message[1], solver.unknown_answers() - before
    return handle
