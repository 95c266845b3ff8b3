"""Turning command-line paths into named byte strings: files, directory trees, stdin and
git revisions (`REV:PATH`, read by `npdiff.load.git`).

Names are shown as the user wrote the path (`old/a.yaml` for the argument `old`), so
messages and reports are the same on every machine.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Sequence

from npdiff.load.codes import E_IO
from npdiff.load.kubectl import is_object_file
from npdiff.model import Diagnostic, Severity

if TYPE_CHECKING:
    from npdiff.load.git import RevisionPath

MAX_BYTES = 64 * 1024 * 1024
POLICY_SUFFIXES = (".yaml", ".yml", ".json")
STDIN_NAME = "<stdin>"


@dataclass(frozen=True)
class Source:
    name: str
    data: bytes

    @property
    def is_json(self) -> bool:
        """Named .json, or JSON by its first character (`kubectl get -o json | npdiff -`)."""
        return self.name.lower().endswith(".json") or self.data.lstrip()[:1] in (b"{", b"[")


def _error(out: list[Diagnostic], name: str, message: str) -> None:
    out.append(Diagnostic(name, 0, Severity.ERROR, E_IO, "", message))


def _too_large(out: list[Diagnostic], name: str) -> None:
    _error(out, name, f"larger than {MAX_BYTES // (1024 * 1024)} MiB; refusing to read it")


def _read_stream(stream: BinaryIO, name: str, out: list[Diagnostic],
                 expected: int = MAX_BYTES) -> Source | None:
    # Read one byte past the cap so that an oversized input is refused, never truncated.
    # Asking for the expected size first spares a cap-sized buffer per file (a third of
    # the reading time in a large tree); the rest is read only if the file has grown.
    data = stream.read(expected + 1)
    if len(data) > expected and expected < MAX_BYTES:
        data += stream.read(MAX_BYTES - expected)
    if len(data) > MAX_BYTES:
        _too_large(out, name)
        return None
    return Source(name, bytes(data))


def read_file(path: str, name: str, out: list[Diagnostic]) -> Source | None:
    try:
        with open(path, "rb") as stream:
            info = os.fstat(stream.fileno())
            regular = stat.S_ISREG(info.st_mode)
            if regular and info.st_size > MAX_BYTES:
                _too_large(out, name)
                return None
            return _read_stream(stream, name, out, info.st_size if regular else MAX_BYTES)
    except FileNotFoundError:
        _error(out, name, "no such file or directory")
    except IsADirectoryError:
        _error(out, name, "is a directory")
    except OSError as exc:
        _error(out, name, f"cannot read: {exc.strerror or exc}")
    return None


def read_stdin(stdin: BinaryIO | None, out: list[Diagnostic]) -> Source | None:
    stream = stdin if stdin is not None else sys.stdin.buffer
    try:
        return _read_stream(stream, STDIN_NAME, out)
    except OSError as exc:
        _error(out, STDIN_NAME, f"cannot read: {exc.strerror or exc}")
        return None


def is_policy_file(filename: str) -> bool:
    """Read in a directory walk: not hidden, and a policy suffix or a kubectl diff object name."""
    if filename.startswith("."):
        return False
    return filename.lower().endswith(POLICY_SUFFIXES) or is_object_file(filename)


def _display(arg: str, rel_parts: tuple[str, ...]) -> str:
    """A file below directory `arg`, named as the user wrote `arg` (`.` adds nothing)."""
    base = arg.replace(os.sep, "/")
    if base in (".", "./"):
        return "/".join(rel_parts)
    if not base.endswith("/"):
        base += "/"
    return base + "/".join(rel_parts)


def _tree(top: str, out: list[Diagnostic]) -> list[tuple[str, ...]]:
    """Relative paths (as parts) of policy files below `top`, hidden entries excluded."""
    found: list[tuple[str, ...]] = []

    def on_error(exc: OSError) -> None:
        _error(out, exc.filename or top, f"cannot list: {exc.strerror or exc}")

    seen: set[str] = set()
    # Linked directories are followed (a repository may link a shared folder in); each real
    # directory is read once, so a link loop cannot recur.
    for dirpath, dirnames, filenames in os.walk(top, onerror=on_error, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        # Hidden directories (.git, .github) hold CI and tool configuration, not policies.
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        rel = os.path.relpath(dirpath, top)
        prefix = () if rel == os.curdir else tuple(rel.split(os.sep))
        for filename in filenames:
            if not is_policy_file(filename):
                continue
            found.append(prefix + (filename,))
    return sorted(found)


def read_sources(
    paths: Sequence[str | RevisionPath], stdin: BinaryIO | None, out: list[Diagnostic]
) -> list[Source]:
    """Every readable source in argument order; problems go to `out` as E-IO errors.

    An argument that is no path on disk but reads `REV:PATH` is PATH at git revision REV.
    """
    from npdiff.load import git

    sources: list[Source] = []
    for arg in paths:
        revision = git.revision_path(arg)
        if revision is not None:
            sources.extend(git.read_revision(revision, out))
            continue
        assert isinstance(arg, str)
        if arg == "-":
            source = read_stdin(stdin, out)
            if source is not None:
                sources.append(source)
            continue
        if not os.path.exists(arg):
            _error(out, arg, "no such file or directory")
            continue
        if os.path.isdir(arg):
            for parts in _tree(arg, out):
                source = read_file(os.path.join(arg, *parts), _display(arg, parts), out)
                if source is not None:
                    sources.append(source)
            continue
        source = read_file(arg, arg, out)
        if source is not None:
            sources.append(source)
    return sources
