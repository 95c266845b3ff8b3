"""What reading one file of NetworkPolicies without error gives, when its objects' bodies
are left unbuilt: they are read again, the general way, only if a report asks for one.

Both ways of reading such a file without building bodies share it: a worker process
(load/parallel.py), whose bodies would cost more to send than to read again, and the
direct reading of the common layout (load/policy_files.py), which never builds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from npdiff.load.codes import Sink
from npdiff.load.objects import objects_of
from npdiff.load.sources import Source
from npdiff.load.yaml_reader import read_documents
from npdiff.model import Diagnostic, NetworkPolicy, SourceObject
from npdiff.model.policy import Later


@dataclass(frozen=True)
class FileRead:
    """A file of NetworkPolicies read without error: its objects (in order), policies and
    warnings (in the order they were found)."""

    objects: tuple[SourceObject, ...]
    policies: tuple[NetworkPolicy, ...]
    diagnostics: tuple[Diagnostic, ...]


class Reread:
    """The bodies of a file's objects, read again (once) when one is first asked for."""

    def __init__(self, source: Source) -> None:
        self._source = source
        self._bodies: list[Any] | None = None

    def body(self, position: int) -> Any:
        if self._bodies is None:
            sink = Sink(self._source.name, [])
            self._bodies = [obj.body for obj in objects_of(read_documents(self._source, sink), sink)]
        return self._bodies[position]


class Unread(Later):
    """The body of the `position`-th object of a file, read again here when asked for."""

    def __init__(self, file: Reread, position: int) -> None:
        self._file = file
        self._position = position

    def value(self) -> Any:
        return self._file.body(self._position)
