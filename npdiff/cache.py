"""The result cache: analysis results kept on disk under a hash of everything they depend on.

A key is a SHA-256 over the entry format, npdiff's version and source code, z3's installed
version, the command, the options that can change the analysis, and the name and bytes
of every source read. An entry is one file named by its key: a header (magic, key, digest
of the payload) and the pickled value. Pickles run code when loaded, so entries are read
only from a directory that the current user owns and nobody else can write to, only
when the file is the user's own, and only npdiff's model classes are unpickled. A missing,
foreign, truncated or corrupt entry is a miss, never an error; a directory that cannot be
created or written means no cache. The entries used last are kept, at most `MAX_ENTRIES`
of them and `MAX_TOTAL_BYTES` together.

Nothing here prints; the caller passes the environment in.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import secrets
import stat
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import npdiff
from npdiff.load.sources import Input

FORMAT = 1                      # bump when the layout of an entry or of a key changes
MAX_ENTRIES = 64
MAX_TOTAL_BYTES = 256 * 1024 * 1024
STALE_TEMPORARY_SECONDS = 3600  # a temporary file this old was left by a killed run
_MAGIC = b"npdiff-cache\x00"
_SUFFIX = ".entry"
_ALLOWED_MODULES = ("npdiff.model.",)


def directory(environ: Mapping[str, str]) -> Path | None:
    """$NPDIFF_CACHE_DIR, else $XDG_CACHE_HOME/npdiff, else ~/.cache/npdiff (None: no home)."""
    if environ.get("NPDIFF_CACHE_DIR"):
        return Path(environ["NPDIFF_CACHE_DIR"])
    xdg = environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):      # the XDG specification says to ignore a relative path
        return Path(xdg) / "npdiff"
    try:
        return Path.home() / ".cache" / "npdiff"
    except (RuntimeError, KeyError):
        return None


def key(command: str, options: Mapping[str, object], inputs: Sequence[tuple[str, Input | None]]) -> str:
    """The key of `command` run with `options` (name to value; every value has a stable
    repr) on `inputs` (role, what was read; None: not given)."""
    digest = hashlib.sha256()

    def field(data: bytes) -> None:
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)

    for text in (f"npdiff-cache {FORMAT}", npdiff.__version__, _source_digest(), _z3_identity(), command):
        field(text.encode())
    for name in sorted(options):
        field(f"{name}={_stable(options[name])}".encode())
    for role, read in inputs:
        field(role.encode())
        field(b"-" if read is None else str(len(read.sources)).encode())
        for source in read.sources if read is not None else ():
            field(source.name.encode("utf-8", "surrogateescape"))
            field(source.data)
    return digest.hexdigest()


def _stable(value: object) -> str:
    """Enum members by value: their repr names the class, which a refactoring may move."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_stable(v) for v in value) + "]"
    return repr(getattr(value, "value", value))


def _source_digest() -> str:
    """The digest of npdiff's own modules: a development install changes code without
    changing the version, and a stale result would then pass for a proof."""
    digest = hashlib.sha256()
    root = Path(npdiff.__file__).parent
    for folder, folders, files in os.walk(root):
        folders.sort()
        for name in sorted(f for f in files if f.endswith(".py")):
            path = os.path.join(folder, name)
            digest.update(os.path.relpath(path, root).encode() + b"\x00")
            with open(path, "rb") as stream:
                digest.update(hashlib.sha256(stream.read()).digest())
    return digest.hexdigest()


def _z3_identity() -> str:
    """z3's installed version, found without importing z3 (a hit never needs the solver)."""
    import importlib.util

    spec = importlib.util.find_spec("z3")
    if spec is None or not spec.submodule_search_locations:
        return "z3 absent"
    package = list(spec.submodule_search_locations)[0]
    site = os.path.dirname(package)
    try:
        found = sorted(n for n in os.listdir(site)
                       if n.lower().startswith("z3_solver-") and n.endswith((".dist-info", ".egg-info")))
    except OSError:
        found = []
    if found:
        return " ".join(found)
    # Installed without metadata (a build from source): the files themselves identify it.
    marks = []
    for folder, _, files in os.walk(package):
        for name in sorted(files):
            info = os.stat(os.path.join(folder, name))
            marks.append(f"{os.path.relpath(os.path.join(folder, name), package)}:{info.st_size}:{info.st_mtime_ns}")
    return " ".join(sorted(marks))


class _ModelUnpickler(pickle.Unpickler):
    """Builds only npdiff's model values: an entry cannot name any other callable."""

    def find_class(self, module: str, name: str) -> object:
        # A class defined in a model module, named plainly: not a name dotted through other
        # objects, nor anything a model module merely imports (a function, a module).
        if not module.startswith(_ALLOWED_MODULES) or name.startswith("_") or "." in name:
            raise pickle.UnpicklingError(f"{module}.{name} is not a model class")
        found = super().find_class(module, name)
        if not isinstance(found, type) or found.__module__ != module:
            raise pickle.UnpicklingError(f"{module}.{name} is not a model class")
        return found


def _private(info: os.stat_result) -> bool:
    """Owned by the current user and writable by nobody else."""
    if not hasattr(os, "getuid"):   # Windows: permissions are ACLs, and %LOCALAPPDATA% is private
        return True
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


class ResultCache:
    """Entries in one directory; use `open`, which refuses a directory others can write to."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def open(cls, folder: Path) -> ResultCache | None:
        """The cache in `folder`, created if need be (mode 0700); None when it cannot be made,
        is not a directory, or is not private to the current user."""
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = os.stat(folder)
        except OSError:
            return None
        if not stat.S_ISDIR(info.st_mode) or not _private(info):
            return None
        return cls(folder)

    def _path(self, entry: str) -> Path:
        return self.folder / f"{entry}{_SUFFIX}"

    def get(self, entry: str) -> object | None:
        """The value stored under `entry`, or None for a miss (absent, foreign or damaged)."""
        path = self._path(entry)
        try:
            with open(path, "rb") as stream:
                info = os.fstat(stream.fileno())
                if not stat.S_ISREG(info.st_mode) or not _private(info):
                    return None
                data = stream.read()
        except OSError:
            return None
        header = _MAGIC + bytes.fromhex(entry)
        start = len(header) + 32
        if not data.startswith(header) or hashlib.sha256(data[start:]).digest() != data[len(header):start]:
            return None
        try:
            value = _ModelUnpickler(io.BytesIO(data[start:])).load()
        except Exception:   # an entry written by another npdiff: a miss like any other
            return None
        try:
            os.utime(path)  # marks it used, for pruning
        except OSError:
            pass
        return value

    def put(self, entry: str, value: object) -> bool:
        """Store `value` under `entry` atomically, then prune; False when it could not be stored."""
        try:
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
            return False
        data = _MAGIC + bytes.fromhex(entry) + hashlib.sha256(payload).digest() + payload
        temporary = self.folder / f".{entry}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
            with open(fd, "wb") as stream:
                stream.write(data)
            os.replace(temporary, self._path(entry))
        except OSError:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            return False
        self.prune()
        return True

    def prune(self, keep: int = MAX_ENTRIES, total: int = MAX_TOTAL_BYTES) -> None:
        """Keep the entries used last, at most `keep` of them and `total` bytes together;
        remove temporary files a killed run left."""
        entries: list[tuple[float, int, str]] = []
        now = time.time()
        try:
            with os.scandir(self.folder) as found:
                for item in found:
                    try:
                        info = item.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if item.name.endswith(_SUFFIX):
                        entries.append((info.st_mtime, info.st_size, item.path))
                    elif item.name.endswith(".tmp") and now - info.st_mtime > STALE_TEMPORARY_SECONDS:
                        _remove(item.path)
        except OSError:
            return
        kept = size = 0
        for _, entry_size, path in sorted(entries, reverse=True):
            size += entry_size
            kept += 1
            if kept > keep or size > total:
                _remove(path)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass

