"""Turning command-line paths into named byte strings: files, directory trees, stdin and
git revisions (`REV:PATH`, read by `npdiff.load.git`).

Every input is read whole before anything is parsed (`read_input`), so that the result
cache can hash exactly the bytes that would be analysed.

Names are shown as the user wrote the path (`old/a.yaml` for the argument `old`), so
messages and reports are the same on every machine.
"""

from __future__ import annotations

import functools
import os
import stat
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, BinaryIO, NamedTuple

from npdiff.load.codes import E_IO
from npdiff.load.kubectl import is_object_file
from npdiff.model import Diagnostic, Severity

if TYPE_CHECKING:
    from npdiff.load.git import RevisionPath

MAX_BYTES = 64 * 1024 * 1024
POLICY_SUFFIXES = (".yaml", ".yml", ".json")
STDIN_NAME = "<stdin>"
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)   # os.open makes the descriptor non-inheritable


@dataclass(frozen=True)
class Source:
    name: str
    data: bytes

    @cached_property    # asked three times of every file of a diff
    def is_json(self) -> bool:
        """Named .json, or JSON by its first character (`kubectl get -o json | npdiff -`)."""
        return self.name.lower().endswith(".json") or self.data.lstrip()[:1] in (b"{", b"[")


def _error(out: list[Diagnostic], name: str, message: str) -> None:
    out.append(Diagnostic(name, 0, Severity.ERROR, E_IO, "", message))


def _too_large(out: list[Diagnostic], name: str) -> None:
    _error(out, name, f"larger than {MAX_BYTES // (1024 * 1024)} MiB; refusing to read it")


@dataclass(frozen=True)
class Input:
    """What one command-line input read: its sources in order, and the E-IO errors met."""

    sources: tuple[Source, ...] = ()
    problems: tuple[Diagnostic, ...] = ()


def _read_stream(read: Callable[[int], bytes], name: str, out: list[Diagnostic],
                 size: int = MAX_BYTES) -> Source | None:
    # Read one byte past the cap so that an oversized input is refused, never truncated.
    # `size` (a regular file's) spares allocating the whole cap for every small file.
    data = read(min(size, MAX_BYTES) + 1)
    if size < len(data) <= MAX_BYTES:   # the file grew while it was read
        data += read(MAX_BYTES + 1 - len(data))
    if len(data) > MAX_BYTES:
        _too_large(out, name)
        return None
    return Source(name, bytes(data))


def _read_fd(fd: int, count: int) -> bytes:
    """Up to `count` bytes, fewer only at the end of the file (as a buffered stream reads)."""
    chunks = []
    while count > 0 and (chunk := os.read(fd, count)):
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def read_file(path: str, name: str, out: list[Diagnostic]) -> Source | None:
    # os.open and os.read rather than open(): a tree of 10,000 small files is read in half
    # the time without a buffered file object per file.
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        _error(out, name, "no such file or directory")
        return None
    except IsADirectoryError:
        _error(out, name, "is a directory")
        return None
    except OSError as exc:
        _error(out, name, f"cannot read: {exc.strerror or exc}")
        return None
    try:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode):
            if info.st_size > MAX_BYTES:
                _too_large(out, name)
                return None
            data = os.read(fd, info.st_size + 1)
            if len(data) == info.st_size:
                return Source(name, data)
            # Read short, or the file changed since fstat: again from the start, to its end.
            os.lseek(fd, 0, os.SEEK_SET)
            return _read_stream(functools.partial(_read_fd, fd), name, out, info.st_size)
        if stat.S_ISDIR(info.st_mode):
            _error(out, name, "is a directory")
            return None
        return _read_stream(functools.partial(_read_fd, fd), name, out)
    except OSError as exc:
        _error(out, name, f"cannot read: {exc.strerror or exc}")
        return None
    finally:
        os.close(fd)


def read_stdin(stdin: BinaryIO | None, out: list[Diagnostic]) -> Source | None:
    stream = stdin if stdin is not None else sys.stdin.buffer
    try:
        return _read_stream(stream.read, STDIN_NAME, out)
    except OSError as exc:
        _error(out, STDIN_NAME, f"cannot read: {exc.strerror or exc}")
        return None


def is_policy_file(filename: str) -> bool:
    """Read in a directory walk: not hidden, and a policy suffix or a kubectl diff object name."""
    if filename.startswith("."):
        return False
    return filename.lower().endswith(POLICY_SUFFIXES) or is_object_file(filename)


def _display_prefix(arg: str, rel_parts: tuple[str, ...]) -> str:
    """What names a file of directory `rel_parts` below directory `arg`, as the user wrote
    `arg` (`.` adds nothing), before the file's own name."""
    base = arg.replace(os.sep, "/")
    if base in (".", "./"):
        base = ""
    elif not base.endswith("/"):
        base += "/"
    return base + "".join(part + "/" for part in rel_parts)


class _TreeFile(NamedTuple):
    """A policy file of a directory walk."""

    parts: tuple[str, ...]      # its path relative to the top, the order files are read in
    path: str                   # what to open
    name: str                   # what reports call it


def _tree(top: str, out: list[Diagnostic]) -> list[_TreeFile]:
    """Policy files below `top`, sorted by relative path, hidden entries excluded.

    The directories are visited as os.walk(top, followlinks=True) visits them (top down, in
    listing order), so that of two links to one directory the same one is read."""
    found: list[_TreeFile] = []
    seen: set[str] = set()
    # Linked directories are followed (a repository may link a shared folder in); each real
    # directory is read once, so a link loop cannot recur. Real paths are resolved only at
    # links: below a real directory, a plain entry's real path is the two joined.
    pending: list[tuple[str, str, tuple[str, ...]]] = [(top, os.path.realpath(top), ())]
    while pending:
        path, real, prefix = pending.pop()
        if real in seen:
            continue
        try:
            files, directories = _listing(path)
        except OSError as exc:    # as os.walk: nothing of a directory that fails to list
            _error(out, exc.filename or top, f"cannot list: {exc.strerror or exc}")
            continue
        seen.add(real)
        shown = _display_prefix(top, prefix)
        within = os.path.join(path, "")     # joined to a name, os.path.join(path, name)
        found.extend(_TreeFile(prefix + (name,), within + name, shown + name)
                     for name in files if is_policy_file(name))
        below = []
        # Hidden directories (.git, .github) hold CI and tool configuration, not policies.
        for name, linked in directories:
            if name.startswith("."):
                continue
            child = os.path.join(path, name)
            below.append((child, os.path.realpath(child) if linked else os.path.join(real, name),
                          prefix + (name,)))
        pending.extend(reversed(below))
    found.sort(key=lambda f: f.parts)
    return found


def _listing(path: str) -> tuple[list[str], list[tuple[str, bool]]]:
    """The file names, and the (name, is a link) of the directories (links followed), of
    directory `path` in listing order."""
    files: list[str] = []
    directories: list[tuple[str, bool]] = []
    with os.scandir(path) as entries:
        for entry in entries:
            try:
                is_directory = entry.is_dir()
            except OSError:
                is_directory = False
            if not is_directory:
                files.append(entry.name)
                continue
            try:
                linked = entry.is_symlink()
            except OSError:
                linked = True       # its real path is then resolved in full
            directories.append((entry.name, linked))
    return files, directories


def read_sources(
    paths: Sequence[str | RevisionPath], stdin: BinaryIO | None, out: list[Diagnostic]
) -> list[Source]:
    """Every readable source in argument order; problems go to `out` as E-IO errors.

    An argument that is no path on disk but reads `REV:PATH` is PATH at git revision REV.
    """
    sources: list[Source] = []
    for arg in paths:
        if not isinstance(arg, str) or arg != "-" and not os.path.lexists(arg):
            from npdiff.load import git     # only then: a run on paths does without it

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
            for file in _tree(arg, out):
                source = read_file(file.path, file.name, out)
                if source is not None:
                    sources.append(source)
            continue
        source = read_file(arg, arg, out)
        if source is not None:
            sources.append(source)
    return sources


def read_input(paths: Sequence[str | RevisionPath], stdin: BinaryIO | None) -> Input:
    """`read_sources` as one record: the bytes of every source and the problems met."""
    problems: list[Diagnostic] = []
    sources = read_sources(paths, stdin, problems)
    return Input(tuple(sources), tuple(problems))


def read_one(path: str, stdin: BinaryIO | None) -> Input:
    """A single file (`-`: stdin), never a directory or a revision: an invariants file."""
    problems: list[Diagnostic] = []
    source = read_stdin(stdin, problems) if path == "-" else read_file(path, path, problems)
    return Input(() if source is None else (source,), tuple(problems))
