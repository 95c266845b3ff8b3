"""Reading the files of a large input in several processes (`--jobs`).

The files not known already (load/sides.py) are read by this process from the first on,
and by forked workers (npdiff/processes.py) in pieces of CHUNK files from the last one
back, until the two meet: however fast each process turns out to be, neither waits for
the other but at the very end. This process hands out the pieces, AHEAD per worker,
between its own files, and takes in the results that have come meanwhile.

A worker sends back only what it read without error from a file that holds nothing but
NetworkPolicies: their policies, objects and warnings, and the warnings about the
policies (load/lint.py), which it finds too. The objects' bodies stay behind, to be read
again here should a report need one (the structural diff of an object that changed).
Every other file, and every file of a worker that failed, is read here in its turn, as if
there were no workers: the result is the same for any number of processes.
"""

from __future__ import annotations

from npdiff.load.codes import Sink
from npdiff.load.file_read import FileRead, Reread, Unread
from npdiff.load.lint import warnings_about
from npdiff.load.networkpolicy import KIND, policy_of, source_object
from npdiff.load.objects import objects_of
from npdiff.load.policy_files import read_policy_file
from npdiff.load.reuse import Reuse
from npdiff.load.sources import Source
from npdiff.load.yaml_reader import read_documents
from npdiff.model import Diagnostic, Semantics, Severity, SourceObject
from npdiff.processes import MAX_WORKERS, Message, Worker, forking, ready

MIN_FILES = 2000       # fewer new files are read here: a fork would cost more than it saves
CHUNK = 32             # files in a piece of a worker's: a message of about 20 KB
AHEAD = 2              # pieces a worker holds at once, so that it never waits for the next
# The files the workers are given at first, together: the caller may do other work before
# it reads a file itself (cli.py starts the old side's workers before reading the new side).
HEAD_START = 1 / 8

# What a worker read of a file, and the warnings about its policies (load/lint.py): found
# there, where the work is shared, rather than here.
Linted = tuple[FileRead, tuple[Diagnostic, ...]]


def read_clean(source: Source, semantics: Semantics, reuse: Reuse) -> FileRead | None:
    """What `source` holds if it is NetworkPolicies alone, read without an error; None
    otherwise (the caller reads it the usual way)."""
    direct = read_policy_file(source)
    if direct is not None:
        return direct
    found: list[Diagnostic] = []
    sink = Sink(source.name, found)
    objects, policies = [], []
    for obj in objects_of(read_documents(source, sink), sink):
        if obj.kind != KIND:
            return None
        objects.append(source_object(obj, source.name, semantics))
        policy = policy_of(obj, sink, semantics, reuse)
        if policy is None:
            return None
        policies.append(policy)
    if any(d.severity is Severity.ERROR for d in found):
        return None
    return FileRead(tuple(objects), tuple(policies), tuple(found))


class Shares:
    """The new files of an input, read by this process and `jobs - 1` workers."""

    def __init__(self, sources: tuple[Source, ...], new: list[int], semantics: Semantics, jobs: int) -> None:
        """`new`: indices of the sources to read (in order)."""
        self._sources = sources
        self._new = new
        self._place = {index: place for place, index in enumerate(new)}
        self._reached = 0            # the place in `new` of the file this process is at
        self._back = len(new)        # new[_back:] are the workers'
        self._chunk = max(1, min(CHUNK, len(new) // (4 * jobs)))
        self._results: dict[int, Linted | None] = {}
        self._workers: list[Worker] = []
        reuse = Reuse()

        def handle(indices: list[int]) -> Message:
            try:
                return "done", [_linted(_without_bodies(read_clean(sources[i], semantics, reuse))) for i in indices], 0
            except Exception as exc:   # read here instead, where it is reported
                return "raised", repr(exc), 0   # as text: not every exception pickles back

        count = min(jobs - 1, MAX_WORKERS)
        head_start = max(AHEAD, round(len(new) * HEAD_START / count / self._chunk))   # pieces
        try:
            for _ in range(count):
                self._workers.append(Worker(handle, self._workers))
                self._hand_out(head_start)
        except (OSError, RuntimeError):   # no more processes: the rest is read here
            pass
        except BaseException:   # interrupted while forking: no worker may outlive this
            self.close()
            raise

    def result(self, index: int) -> Linted | None:
        """What a worker read of source `index`, its bodies left to read again, and the
        warnings about its policies; None if it is to be read here. Sources are asked for
        in order: one the workers have not taken is this process's from then on."""
        place = self._place.get(index)
        if place is None:
            return None
        if place < self._back:
            self._reached = place
            if place % self._chunk == 0:
                self._take_in(wait=False)
                self._hand_out()
            return None
        while index not in self._results and any(w.pieces for w in self._workers):
            self._take_in(wait=True)
        found = self._results.pop(index, None)
        if found is None:
            return None
        read, lint = found
        file = Reread(self._sources[index])
        return FileRead(tuple(SourceObject(o.kind, o.namespace, o.name, o.span, Unread(file, n))
                              for n, o in enumerate(read.objects)), read.policies, read.diagnostics), lint

    def _hand_out(self, ahead: int = AHEAD) -> None:
        """Pieces from the back to each worker that holds fewer than `ahead`, while the
        files left between this process and the workers' could make two pieces."""
        for worker in self._workers:
            while worker.alive and len(worker.pieces) < ahead and self._back - self._reached > 2 * self._chunk:
                first = self._back - self._chunk
                try:
                    worker.start(first, self._new[first:self._back])
                except RuntimeError:   # gone: its files stay this process's
                    break
                self._back = first

    def _take_in(self, wait: bool) -> None:
        """The results that have come (with `wait`, at least one piece's)."""
        timeout = None if wait else 0
        # Everything there is, so that no worker waits on a full pipe to send its next result.
        while busy := [worker for worker in self._workers if worker.pieces]:
            found = ready(busy, timeout)
            if not found:
                return
            for worker in found:
                try:
                    answered = worker.receive()
                except Exception:   # a message that does not load: as if the worker had failed
                    answered = [(first, ("raised", None, 0)) for first in worker.pieces]
                    worker.pieces.clear()
                for first, (status, value, _) in answered:
                    indices = self._new[first:first + self._chunk]
                    if status == "done":
                        self._results.update(zip(indices, value))  # type: ignore[call-overload]
                    else:
                        self._results.update((i, None) for i in indices)
            timeout = 0

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()
        self._workers = []


def _linted(read: FileRead | None) -> Linted | None:
    return None if read is None else (read, tuple(warnings_about(read.policies)))


def _without_bodies(read: FileRead | None) -> FileRead | None:
    """What a worker sends: bodies cost more to send than to read again."""
    return None if read is None else FileRead(
        tuple(SourceObject(o.kind, o.namespace, o.name, o.span, None) for o in read.objects), read.policies,
        read.diagnostics)


def shares(sources: tuple[Source, ...], new: list[int], semantics: Semantics, jobs: int) -> Shares | None:
    """Workers reading part of `new` (indices into `sources`), or None where reading them
    all here is as quick."""
    if jobs < 2 or len(new) < MIN_FILES or not forking():
        return None
    return Shares(sources, new, semantics, jobs)
