"""Independent pieces of an analysis, run in forked worker processes, their results taken in order.

Workers are forked once, when the first piece starts, with every policy already read;
each is then sent pieces (small picklable values) and sends back results. A piece must
build its own solver contexts, so that what it finds does not depend on what ran before
it in the same process: the results are then the same for any number of workers, one
included, where pieces run here, in order.

Workers are forked where `os.fork` is safe for this program (Linux); z3 stops its timer
threads before a fork (it registers an at-fork handler). Elsewhere pieces run here.
"""

from __future__ import annotations

import os
import pickle
import selectors
import signal
import struct
import sys
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from npdiff.encode import solver

P = TypeVar("P")
R = TypeVar("R")

MAX_JOBS = 8        # the default's ceiling
MAX_WORKERS = 64    # any --jobs beyond is taken as this
_HEADER = struct.Struct("!Q")  # the length of the pickle that follows


def forking() -> bool:
    return sys.platform.startswith("linux")


def available_jobs() -> int:
    """Workers for `--jobs 0` (the default): the CPUs this process may use (its affinity,
    and a cgroup's CPU quota, as in a container with a CPU limit), up to MAX_JOBS; one
    where pieces are not forked."""
    if not forking():
        return 1
    return max(1, min(MAX_JOBS, len(os.sched_getaffinity(0)), _cgroup_cpus()))


def _cgroup_cpus(path: str = "/sys/fs/cgroup/cpu.max") -> int:
    """The CPUs a cgroup (v2) quota allows, rounded up; MAX_JOBS where there is none."""
    try:
        with open(path) as limits:
            quota, period = limits.read().split()[:2]
        return -(-int(quota) // int(period))
    except (OSError, ValueError):   # no cgroup v2, or "max": no quota
        return MAX_JOBS


def in_order(count: int, piece: Callable[[int], P], run: Callable[[P], R], jobs: int) -> Iterator[R]:
    """`run(piece(i))` for i in range(count), yielded in order. `piece(i)` is called here
    when piece i starts; with `jobs` > 1 up to that many pieces (at most MAX_WORKERS) run
    at once in workers, no further than twice that ahead of the one yielded. Closing the
    iterator early stops the workers. An exception raised by a piece is raised here, in
    its turn; a worker that stops unexpectedly is a RuntimeError."""
    workers: list[_Worker] = []
    busy: dict[int, _Worker] = {}      # piece index -> the worker running it
    done: dict[int, tuple[str, object, int]] = {}
    started = 0
    try:
        if jobs > 1 and count > 1 and forking():
            try:
                for _ in range(min(jobs, count, MAX_WORKERS)):
                    workers.append(_Worker(run, workers))
            except OSError:   # no more processes or memory: work with those there are
                pass
        if not workers:
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
                for worker in _ready(list(busy.values())):
                    finished, message = worker.receive()
                    if message is not None:
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


class _Worker(Generic[P, R]):
    """A forked process that runs the pieces it is sent, one at a time."""

    def __init__(self, run: Callable[[P], R], siblings: list[_Worker]):
        to_worker, self._commands = os.pipe()
        self._results, from_worker = os.pipe()
        try:
            self.pid = os.fork()
        except OSError:
            for fd in (to_worker, self._commands, self._results, from_worker):
                os.close(fd)
            raise
        if self.pid == 0:  # never returns to the caller's stack
            status = 1
            try:
                # Only the parent holds the ends of a worker's pipes, so that each worker
                # sees the end of its commands when the parent goes, however it goes.
                for fd in (self._commands, self._results,
                           *(end for sibling in siblings for end in (sibling._commands, sibling._results))):
                    os.close(fd)
                _serve(run, to_worker, from_worker)
                status = 0
            finally:
                os._exit(status)  # no exit handlers, no flushing of the parent's buffers
        os.close(to_worker)
        os.close(from_worker)
        self.piece: int | None = None
        self._buffer = bytearray()

    def fileno(self) -> int:
        return self._results

    def start(self, index: int, piece: P) -> None:
        self.piece = index
        try:
            _write(self._commands, pickle.dumps(piece, protocol=pickle.HIGHEST_PROTOCOL))
        except BrokenPipeError:
            raise RuntimeError(f"analysis worker {self.pid} stopped unexpectedly") from None

    def receive(self) -> tuple[int, tuple[str, object, int] | None]:
        """Read what the worker sent; its piece and result once the result is whole."""
        index = self.piece
        assert index is not None
        chunk = os.read(self._results, 1 << 20)
        if not chunk:
            self.piece = None
            return index, ("raised", RuntimeError(f"analysis worker {self.pid} stopped unexpectedly"), 0)
        self._buffer += chunk
        if len(self._buffer) < _HEADER.size:
            return index, None
        (size,) = _HEADER.unpack_from(self._buffer)
        if len(self._buffer) < _HEADER.size + size:
            return index, None
        # Our own child's pickle, through our own pipe: not untrusted input.
        message = pickle.loads(bytes(self._buffer[_HEADER.size:_HEADER.size + size]))
        del self._buffer[:_HEADER.size + size]
        self.piece = None
        return index, message

    def stop(self) -> None:
        for fd in (self._commands, self._results):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)


def _ready(workers: list[_Worker]) -> list[_Worker]:
    with selectors.DefaultSelector() as waiting:   # no select(): descriptors may pass 1023
        for worker in workers:
            waiting.register(worker, selectors.EVENT_READ)
        return [key.fileobj for key, _ in waiting.select()]  # type: ignore[misc]


def _serve(run: Callable[[P], R], commands: int, results: int) -> None:
    """The worker's loop: a piece in, a result out, until the parent closes the pipe."""
    with os.fdopen(commands, "rb") as incoming:
        while header := incoming.read(_HEADER.size):
            (size,) = _HEADER.unpack(header)
            piece = pickle.loads(incoming.read(size))
            before = solver.unknown_answers()
            try:
                message: tuple[str, object, int] = ("done", run(piece), 0)
            except Exception as exc:  # handed to the parent, which raises it in turn
                message = ("raised", exc, 0)
            message = (message[0], message[1], solver.unknown_answers() - before)
            try:
                data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:
                data = pickle.dumps(("raised", RuntimeError(f"worker result not sent: {exc!r}"), message[2]))
            _write(results, data)


def _write(fd: int, data: bytes) -> None:
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]
