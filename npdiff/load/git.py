"""Policy sets at a git revision: `REV:PATH` sides, read without a checkout.

`main:deploy/` names the tree `deploy/` of revision `main`, as `git show` reads it: PATH
is relative to the repository root unless it starts with `./` or `../` (then relative to
the current directory). The repository is the one holding the current directory. An
argument that exists on disk is always a path, never a revision (`a:b.yaml` is that
file if there is one). Files are chosen as in a directory walk (`sources.is_policy_file`,
hidden entries skipped); symbolic links inside the repository are followed as the walk
follows them on disk (a linked directory is read once), submodules are not. One
`git ls-tree` and one `git cat-file --batch` read a tree, plus two calls per link.

Sources are named `REV:PATH/FILE` (`main:deploy/api.yaml`), so reports point at the
revision a line belongs to. Every problem (no git, not a repository, unknown revision,
no such path at the revision) is an E-IO error, never an exception; except that with
`--base REV PATH`, a PATH of the working tree that REV lacks is an empty old side (note
N-NEW): the change adds it.
"""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
from dataclasses import dataclass, field

from npdiff.load.codes import E_IO, N_NEW
from npdiff.load.sources import MAX_BYTES, Source, is_policy_file
from npdiff.model import Diagnostic, Severity

_FOUND = re.compile(rb"([0-9a-f]{40,64}) (blob|tree|commit|tag) ([0-9]+)")
_NO_OBJECT = (b" missing", b" ambiguous")
_NOT_FOLLOWED = (b"dangling", b"loop", b"notdir", b"symlink")  # followed by a size and a body
_REGULAR, _LINK = (b"100644", b"100755"), b"120000"
MAX_LINK_DEPTH = 8
_TOO_LARGE = f"larger than {MAX_BYTES // (1024 * 1024)} MiB; refusing to read it"


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
    """(object id, type, body) per request in order; None when git finds no such object.
    Symbolic links are followed inside the repository; one that cannot be followed is
    answered ("", what git says of it, b""): the path exists, as a link that leads nowhere."""
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
            answers.append(("", header.split(b" ", 1)[0], b""))
        else:
            raise GitError(f"unexpected answer from git cat-file: {header[:80]!r}")
    return answers


def _label(side: RevisionPath, root_path: str) -> str:
    return side.display or f"{side.revision}:{root_path}"


def _child(label: str, rel: str) -> str:
    return label + rel if label.endswith((":", "/")) else f"{label}/{rel}"


def _tree_entries(oid: str) -> list[tuple[bytes, int, str, str]]:
    """(mode, size, object id, relative path) of the policy files and the links below tree
    `oid`, hidden entries left out as a directory walk leaves them out."""
    entries = []
    for record in _git(["ls-tree", "--full-tree", "-r", "-z", "-l", oid]).split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, object_id, size = meta.split()
        rel = os.fsdecode(raw_path)
        parts = rel.split("/")
        if kind != b"blob" or any(p.startswith(".") for p in parts):
            continue
        if mode == _LINK or (mode in _REGULAR and is_policy_file(parts[-1])):
            entries.append((mode, int(size), object_id.decode(), rel))
    return entries


def _within(path: str, top: str) -> bool:
    return top == "" or path == top or path.startswith(top + "/")


@dataclass
class _Walk:
    """The files below one tree, following symbolic links as the directory walk does: a
    linked directory is read once, and not at all when it lies inside the walked tree."""

    commit: str
    root: str                    # repository path of the tree the side names
    label: str
    out: list[Diagnostic]
    followed: set[str] = field(default_factory=set)

    def files(self, tree: str, directory: str, prefix: str, depth: int) -> list[tuple[str, str]]:
        """(path relative to the side, object id) of every policy file below `tree`."""
        found = []
        for mode, size, object_id, rel in _tree_entries(tree):
            if mode == _LINK:
                found.extend(self._link(object_id, posixpath.join(directory, rel), prefix + rel, depth))
            elif size > MAX_BYTES:
                self.out.append(_diagnostic(_child(self.label, prefix + rel), _TOO_LARGE))
            else:
                found.append((prefix + rel, object_id))
        return found

    def _link(self, object_id: str, path: str, rel: str, depth: int) -> list[tuple[str, str]]:
        name = _child(self.label, rel)
        wanted = is_policy_file(rel.rsplit("/", 1)[-1])
        link = _batch([object_id.encode()])[0]
        text = os.fsdecode(link[2]) if link is not None else "/"
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), text))
        answer = None
        # An absolute link, or one leaving the repository, leads nowhere at a revision.
        if not (text.startswith("/") or target == ".." or target.startswith("../") or "\n" in target):
            answer = _batch([f"{self.commit}:{target}".encode("utf-8", "surrogateescape")])[0]
        if answer is None or answer[1] not in (b"blob", b"tree"):
            if wanted:
                self.out.append(_diagnostic(name, "symbolic link leads to no file inside the repository"))
            return []
        target_id, kind, body = answer
        if kind == b"blob":
            if wanted and len(body) > MAX_BYTES:
                self.out.append(_diagnostic(name, _TOO_LARGE))
                return []
            return [(rel, target_id)] if wanted else []
        if _within(target, self.root) or _within(self.root, target) or target in self.followed:
            return []
        if depth >= MAX_LINK_DEPTH:
            self.out.append(_diagnostic(name, "too many levels of linked directories"))
            return []
        self.followed.add(target)
        return self.files(target_id, target, rel + "/", depth + 1)


def _read(side: RevisionPath, out: list[Diagnostic]) -> list[Source]:
    toplevel = _toplevel()
    commit = _commit(side.revision)
    root_path = _root_relative(side, toplevel)
    if "\n" in root_path:
        raise GitError("a path with a line break cannot be read from a revision")
    label = _label(side, root_path)
    answer = _batch([f"{commit}:{root_path}".encode("utf-8", "surrogateescape")])[0]
    if answer is None and side.from_cwd and os.path.exists(side.path):
        # `--base REV PATH` of a change that adds PATH (its first policies): nothing before.
        out.append(Diagnostic(label, 0, Severity.NOTE, N_NEW, "",
                              f"{root_path or '.'!r} is not in revision {side.revision!r}: "
                              "the old side is empty"))
        return []
    if answer is None or answer[1] not in (b"blob", b"tree"):
        raise GitError(f"no such path {root_path or '.'!r} at revision {side.revision!r}")
    object_id, kind, body = answer
    if kind == b"tree":
        return _read_tree(commit, root_path, object_id, label, out)
    if len(body) > MAX_BYTES:
        raise GitError(_TOO_LARGE)
    return [Source(label, body)]


def _read_tree(commit: str, root_path: str, tree: str, label: str,
               out: list[Diagnostic]) -> list[Source]:
    entries = sorted(_Walk(commit, root_path, label, out).files(tree, root_path, "", 0),
                     key=lambda entry: entry[0].split("/"))
    bodies = _batch([object_id.encode() for _, object_id in entries])
    return [Source(_child(label, rel), found[2])
            for (rel, _), found in zip(entries, bodies) if found is not None and found[1] == b"blob"]


def _diagnostic(name: str, message: str) -> Diagnostic:
    return Diagnostic(name, 0, Severity.ERROR, E_IO, "", message)


def read_revision(side: RevisionPath, out: list[Diagnostic]) -> list[Source]:
    """The policy files of `side`, in walk order; problems go to `out` as E-IO errors."""
    try:
        return _read(side, out)
    except GitError as exc:
        out.append(_diagnostic(side.display or f"{side.revision}:{side.path}", str(exc)))
        return []
