"""Policy sets at a git revision: `REV:PATH` sides, read without a checkout.

`main:deploy/` names the tree `deploy/` of revision `main`, as `git show` reads it: PATH
is relative to the repository root unless it starts with `./` or `../` (then relative to
the current directory). The repository is the one holding the current directory. An
argument that exists on disk is always a path, never a revision (`a:b.yaml` is that
file if there is one). Files are chosen as in a directory walk (`sources.is_policy_file`,
hidden entries skipped); symbolic links inside the repository are followed, submodules
are not. One `git ls-tree` and one `git cat-file --batch` read a whole tree.

Sources are named `REV:PATH/FILE` (`main:deploy/api.yaml`), so reports point at the
revision a line belongs to. Every problem (no git, not a repository, unknown revision,
no such path at the revision) is an E-IO error, never an exception.
"""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
from dataclasses import dataclass

from npdiff.load.codes import E_IO
from npdiff.load.sources import MAX_BYTES, Source, is_policy_file
from npdiff.model import Diagnostic, Severity

_FOUND = re.compile(rb"([0-9a-f]{40,64}) (blob|tree|commit|tag) ([0-9]+)")
_NO_OBJECT = (b" missing", b" ambiguous")
_NOT_FOLLOWED = (b"dangling", b"loop", b"notdir", b"symlink")  # followed by a size and a body
_REGULAR, _LINK = (b"100644", b"100755"), b"120000"


@dataclass(frozen=True)
class RevisionPath:
    """PATH at git revision REV. `from_cwd`: PATH is a working-tree path (`--base`)."""

    revision: str
    path: str
    display: str = ""        # the argument as written; "" names it REV:ROOT-RELATIVE-PATH
    from_cwd: bool = False


class GitError(Exception):
    pass


def revision_path(arg: str | RevisionPath) -> RevisionPath | None:
    """`arg` as a revision side, or None when it is a path (or `-`)."""
    if isinstance(arg, RevisionPath):
        return arg
    if arg == "-" or os.path.lexists(arg):
        return None
    revision, colon, path = arg.partition(":")
    if not colon or not revision:
        return None
    return RevisionPath(revision, path, display=arg)


def base_path(revision: str, worktree_path: str) -> RevisionPath:
    """The working-tree path `worktree_path` as it is at `revision` (`--base`)."""
    return RevisionPath(revision, worktree_path, from_cwd=True)


def _git(args: list[str], stdin: bytes | None = None, cwd: str | None = None) -> bytes:
    try:
        done = subprocess.run(["git", *args], input=stdin, capture_output=True, cwd=cwd,
                              check=False)
    except FileNotFoundError:
        raise GitError("git is not installed (needed to read a revision)") from None
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(lines[-1] if lines else f"git {args[0]} failed")
    return done.stdout


def _toplevel() -> str:
    try:
        return os.fsdecode(_git(["rev-parse", "--show-toplevel"]).rstrip(b"\n"))
    except GitError:
        raise GitError("not inside a git repository (a REV:PATH side is read from the "
                       "repository holding the current directory)") from None


def _commit(revision: str) -> str:
    # A leading '-' would be read as an option; a newline would break the batch protocol.
    if revision.startswith("-") or "\n" in revision or "\0" in revision:
        raise GitError(f"invalid revision {revision!r}")
    try:
        return _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"]).decode().strip()
    except GitError:
        raise GitError(f"unknown revision {revision!r}") from None


def _root_relative(side: RevisionPath, toplevel: str) -> str:
    """PATH relative to the repository root ("" for the root itself)."""
    path = side.path.replace(os.sep, "/")
    if side.from_cwd or path in (".", "..") or path.startswith(("./", "../")):
        absolute = (os.path.realpath(side.path) if os.path.isabs(side.path)
                    else os.path.normpath(os.path.join(os.path.realpath(os.getcwd()), side.path)))
        path = os.path.relpath(absolute, os.path.realpath(toplevel)).replace(os.sep, "/")
        if path == ".." or path.startswith("../"):
            raise GitError(f"{side.path!r} is outside the git repository {toplevel}")
    path = posixpath.normpath(path.strip("/")) if path.strip("/") else ""
    return "" if path == "." else path


def _batch(requests: list[bytes]) -> list[tuple[str, bytes, bytes] | None]:
    """(object id, type, body) per request in order; None when git finds no such object
    (symbolic links are followed inside the repository)."""
    if not requests:
        return []
    data = _git(["cat-file", "--batch", "--follow-symlinks"], stdin=b"".join(r + b"\n" for r in requests))
    answers: list[tuple[str, bytes, bytes] | None] = []
    pos = 0
    for _ in requests:
        end = data.index(b"\n", pos)
        header = data[pos:end]
        pos = end + 1
        found = _FOUND.fullmatch(header)
        if found:
            size = int(found.group(3))
            answers.append((found.group(1).decode(), found.group(2), data[pos:pos + size]))
            pos += size + 1
        elif header.endswith(_NO_OBJECT):
            answers.append(None)
        elif header.split(b" ", 1)[0] in _NOT_FOLLOWED:
            pos += int(header.split(b" ")[1]) + 1
            answers.append(None)
        else:
            raise GitError(f"unexpected answer from git cat-file: {header[:80]!r}")
    return answers


def _label(side: RevisionPath, root_path: str) -> str:
    return side.display or f"{side.revision}:{root_path}"


def _child(label: str, rel: str) -> str:
    return label + rel if label.endswith((":", "/")) else f"{label}/{rel}"


def _tree_entries(oid: str) -> list[tuple[bytes, int, str, str]]:
    """(mode, size, object id, relative path) of the files below tree `oid` that a walk reads."""
    entries = []
    for record in _git(["ls-tree", "--full-tree", "-r", "-z", "-l", oid]).split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, object_id, size = meta.split()
        rel = os.fsdecode(raw_path)
        parts = rel.split("/")
        if kind != b"blob" or any(p.startswith(".") for p in parts[:-1]):
            continue
        if (mode in _REGULAR or mode == _LINK) and is_policy_file(parts[-1]):
            entries.append((mode, int(size), object_id.decode(), rel))
    return sorted(entries, key=lambda e: e[3].split("/"))


def _read(side: RevisionPath, out: list[Diagnostic]) -> list[Source]:
    toplevel = _toplevel()
    commit = _commit(side.revision)
    root_path = _root_relative(side, toplevel)
    label = _label(side, root_path)
    if "\n" in root_path:
        raise GitError("a path with a line break cannot be read from a revision")
    answer = _batch([f"{commit}:{root_path}".encode("utf-8", "surrogateescape")])[0]
    if answer is None or answer[1] not in (b"blob", b"tree"):
        raise GitError(f"no such path {root_path or '.'!r} at revision {side.revision!r}")
    tree_oid, kind, body = answer
    if kind == b"blob":
        if len(body) > MAX_BYTES:
            raise GitError(f"larger than {MAX_BYTES // (1024 * 1024)} MiB; refusing to read it")
        return [Source(label, body)]
    wanted = []
    requests = []
    for mode, size, object_id, rel in _tree_entries(tree_oid):
        name = _child(label, rel)
        if mode == _LINK:
            if "\n" in rel:
                out.append(_diagnostic(name, "a linked path with a line break cannot be read"))
                continue
            full = posixpath.join(root_path, rel) if root_path else rel
            requests.append(f"{commit}:{full}".encode("utf-8", "surrogateescape"))
        elif size > MAX_BYTES:
            out.append(_diagnostic(name, f"larger than {MAX_BYTES // (1024 * 1024)} MiB; "
                                         "refusing to read it"))
            continue
        else:
            requests.append(object_id.encode())
        wanted.append(name)
    sources = []
    for name, found in zip(wanted, _batch(requests)):
        if found is None or found[1] != b"blob":
            out.append(_diagnostic(name, f"symbolic link at revision {side.revision!r} leads "
                                         "to no file inside the repository"))
        elif len(found[2]) > MAX_BYTES:
            out.append(_diagnostic(name, f"larger than {MAX_BYTES // (1024 * 1024)} MiB; "
                                         "refusing to read it"))
        else:
            sources.append(Source(name, found[2]))
    return sources


def _diagnostic(name: str, message: str) -> Diagnostic:
    return Diagnostic(name, 0, Severity.ERROR, E_IO, "", message)


def read_revision(side: RevisionPath, out: list[Diagnostic]) -> list[Source]:
    """The policy files of `side`, in walk order; problems go to `out` as E-IO errors."""
    try:
        return _read(side, out)
    except GitError as exc:
        out.append(_diagnostic(side.display or f"{side.revision}:{side.path}", str(exc)))
        return []
