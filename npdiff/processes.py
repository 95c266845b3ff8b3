"""Forked worker processes, and how many to use.

A worker is forked with everything its parent holds, is sent pieces (small picklable
values) through a pipe, and sends back one message per piece, in the order sent:
length-prefixed pickles through another. A piece may be sent before the last is answered,
so that the worker never waits for its next one. Only the parent holds the ends of a worker's pipes, so a worker leaves
when its parent goes, however it goes. The analysis runs its pieces here
(analyse/workers.py), and so does reading a large tree of files (load/parallel.py).

Workers are forked where `os.fork` is safe for this program (Linux); z3 stops its timer
threads before a fork (it registers an at-fork handler). Elsewhere everything runs in
one process.
"""

from __future__ import annotations

import os
import pickle
import selectors
import signal
import struct
import sys
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

P = TypeVar("P")
# (status, value, count): "done" with a result or "raised" with an exception, and a count
# the caller adds up (the analysis: unknown solver answers).
Message = tuple[str, object, int]

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


class Worker(Generic[P]):
    """A forked process that answers the pieces it is sent, one at a time, with
    `handle(piece)`: a message (status, value, count) that pickles."""

    def __init__(self, handle: Callable[[P], Message], siblings: list[Worker]):
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
                _serve(handle, to_worker, from_worker)
                status = 0
            finally:
                os._exit(status)  # no exit handlers, no flushing of the parent's buffers
        os.close(to_worker)
        os.close(from_worker)
        _widen(self._results)
        self.pieces: deque[int] = deque()   # the pieces sent and not answered yet, in order
        self.alive = True
        self._buffer = bytearray()

    @property
    def piece(self) -> int | None:
        """The piece the worker answers next; None when it has none."""
        return self.pieces[0] if self.pieces else None

    def fileno(self) -> int:
        return self._results

    def start(self, index: int, piece: P) -> None:
        """Send piece `index`; a RuntimeError if the worker is gone."""
        if not self.alive:
            raise RuntimeError(f"worker {self.pid} stopped unexpectedly")
        try:
            _write(self._commands, pickle.dumps(piece, protocol=pickle.HIGHEST_PROTOCOL))
        except BrokenPipeError:
            self.alive = False
            raise RuntimeError(f"worker {self.pid} stopped unexpectedly") from None
        self.pieces.append(index)

    def receive(self) -> list[tuple[int, Message]]:
        """Read what the worker sent: each piece whose result is now whole, with its result
        (none while the next is partial). A worker that stopped answers every piece it had
        with a RuntimeError."""
        chunk = os.read(self._results, 1 << 20)
        if not chunk:
            self.alive = False
            stopped = RuntimeError(f"worker {self.pid} stopped unexpectedly")
            answered = [(index, ("raised", stopped, 0)) for index in self.pieces]
            self.pieces.clear()
            return answered   # type: ignore[return-value]
        self._buffer += chunk
        answered = []
        while self.pieces and len(self._buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer)
            if len(self._buffer) < _HEADER.size + size:
                break
            # Our own child's pickle, through our own pipe: not untrusted input. Read in
            # place; the view is released before the buffer shrinks.
            with memoryview(self._buffer) as view:
                message = pickle.loads(view[_HEADER.size:_HEADER.size + size])
            del self._buffer[:_HEADER.size + size]
            answered.append((self.pieces.popleft(), message))
        return answered

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


def ready(workers: list[Worker], timeout: float | None = None) -> list[Worker]:
    """The workers with something to read (a result, or their end); waits for one at most
    `timeout` seconds (None: until there is one)."""
    with selectors.DefaultSelector() as waiting:   # no select(): descriptors may pass 1023
        for worker in workers:
            waiting.register(worker, selectors.EVENT_READ)
        return [key.fileobj for key, _ in waiting.select(timeout)]  # type: ignore[misc]


def _serve(handle: Callable[[P], Message], commands: int, results: int) -> None:
    """The worker's loop: a piece in, a message out, until the parent closes the pipe."""
    with os.fdopen(commands, "rb") as incoming:
        while header := incoming.read(_HEADER.size):
            (size,) = _HEADER.unpack(header)
            message = handle(pickle.loads(incoming.read(size)))
            try:
                data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:
                data = pickle.dumps(("raised", RuntimeError(f"worker result not sent: {exc!r}"), message[2]))
            _write(results, data)


def _widen(fd: int) -> None:
    """Let a pipe hold 1 MiB where Linux allows (64 KiB by default), so that a worker
    sends several results before its parent reads them."""
    try:
        import fcntl
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass


def _write(fd: int, data: bytes) -> None:
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]
