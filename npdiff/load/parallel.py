"""Reading the files of a large input in several processes (`--jobs`).

The files not known already (load/sides.py) are cut into contiguous shares by size. This
process reads the first share, the largest, since it also takes the others' results in;
forked workers read the rest meanwhile (npdiff/processes.py). A worker sends back only
what it read without error from a file that holds nothing but NetworkPolicies: their
policies, objects and warnings, and the warnings about the policies (load/lint.py), which
it finds too. The objects' bodies stay behind, to be read again here
should a report need one (the structural diff of an object that changed). Every other
file, and every file of a worker that failed, is read here in its turn, as if there were
no workers: the result is the same for any number of processes.
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
# This process's share of the bytes against one worker's: a worker also lints and pickles
# what it sends, and this process unpickles it. Measured on the 10,000-policy repository
# of README "Speed", whole diffs alternating with the last value: 2.0 left this process
# waiting for its worker, 2.5 was as quick as before the worker linted, 3.0 quicker.
OWN_WEIGHT = 3.0

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
        self._results: dict[int, Linted | None] | None = None
        self._workers: list[Worker] = []
        self._pending: dict[Worker, list[int]] = {}
        shares = _cut(new, [len(sources[i].data) for i in new], min(jobs, MAX_WORKERS + 1))
        self.own = frozenset(shares[0])
        reuse = Reuse()

        def handle(indices: list[int]) -> Message:
            try:
                return "done", [_linted(_without_bodies(read_clean(sources[i], semantics, reuse))) for i in indices], 0
            except Exception as exc:   # read here instead, where it is reported
                return "raised", repr(exc), 0   # as text: not every exception pickles back

        try:
            for share in shares[1:]:
                worker = Worker(handle, self._workers)
                self._workers.append(worker)
                worker.start(0, share)
                self._pending[worker] = share
        except (OSError, RuntimeError):   # no more processes: the rest is read here
            pass
        except BaseException:   # interrupted while forking: no worker may outlive this
            self.close()
            raise

    def result(self, index: int) -> Linted | None:
        """What a worker read of source `index`, its bodies left to read again, and the
        warnings about its policies; None if it is to be read here. Waits for every worker
        the first time."""
        if self._results is None:
            self._results = self._collect()
        found = self._results.get(index)
        if found is None:
            return None
        read, lint = found
        file = Reread(self._sources[index])
        return FileRead(tuple(SourceObject(o.kind, o.namespace, o.name, o.span, Unread(file, n))
                              for n, o in enumerate(read.objects)), read.policies, read.diagnostics), lint

    def _collect(self) -> dict[int, Linted | None]:
        results: dict[int, Linted | None] = {}
        try:
            waiting = list(self._pending)
            while waiting:
                for worker in ready(waiting):
                    try:
                        _, message = worker.receive()
                    except Exception:   # a message that does not load: as if the worker had failed
                        message = ("raised", None, 0)
                    if message is None:
                        continue
                    waiting.remove(worker)
                    status, value, _ = message
                    if status == "done":
                        results.update(zip(self._pending[worker], value))  # type: ignore[call-overload]
        finally:
            self.close()
        return results

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


def _cut(indices: list[int], sizes: list[int], parts: int) -> list[list[int]]:
    """`indices` cut into `parts` contiguous runs of about equal total size, the first one
    OWN_WEIGHT times the others."""
    total = sum(sizes) or 1
    unit = total / (OWN_WEIGHT + parts - 1)
    bounds = [OWN_WEIGHT * unit + k * unit for k in range(parts - 1)]
    runs: list[list[int]] = [[] for _ in range(parts)]
    done, part = 0, 0
    for index, size in zip(indices, sizes):
        while part < parts - 1 and done >= bounds[part]:
            part += 1
        runs[part].append(index)
        done += size
    return [run for run in runs if run] or [[]]
