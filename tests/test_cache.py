"""The result cache: a second run on the same inputs renders the same bytes without
analysing; any change of input, name or analysis option misses; nothing unsafe is read."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import npdiff.analyse.audit
import npdiff.analyse.diff
import npdiff.analyse.verify
import npdiff.load
from npdiff import cache
from npdiff.cli import run
from npdiff.model.result import DiffResult, Verdict

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
FORMATS = ("text", "json", "markdown", "sarif")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("NPDIFF_NO_CACHE", raising=False)
    folder = tmp_path / "cache"
    monkeypatch.setenv("NPDIFF_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def sides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """A change with warnings and differences, named relative to the working directory."""
    shutil.copytree(SAMPLES / "default-deny-forgets-dns", tmp_path / "pr")
    monkeypatch.chdir(tmp_path)
    return "pr/old", "pr/new"


class Calls:
    """Counts the calls of one analysis function, and makes them fail when `broken`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> None:
        self.count = 0
        self.broken = False
        original = getattr(module, name)

        def counted(*args, **kwargs):
            self.count += 1
            if self.broken:
                raise AssertionError("analysed although the result was cached")
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)


@pytest.fixture
def diffs(monkeypatch: pytest.MonkeyPatch) -> Calls:
    return Calls(monkeypatch, npdiff.analyse.diff, "diff")


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.entry")) if folder.is_dir() else []


def without_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("parsed although the result was cached")

    monkeypatch.setattr(npdiff.load, "load_input", refuse)


# -- hits ---------------------------------------------------------------------------------------

def test_a_second_run_renders_every_format_byte_identically_without_analysing(
        store, sides, diffs, monkeypatch, tmp_path):
    args = [*sides, "--preset", "dns"]
    fresh = {f: run([*args, "-o", f, "--no-cache"]) for f in FORMATS}
    assert not entries(store) and diffs.count == len(FORMATS)
    first = run([*args, "-o", "json"])
    assert first.exit_code == 1 and len(entries(store)) == 1
    diffs.broken = True
    without_parsing(monkeypatch)
    for f in FORMATS:
        again = run([*args, "-o", f])
        assert (again.exit_code, again.stdout, again.stderr) == \
            (fresh[f].exit_code, fresh[f].stdout, fresh[f].stderr), f
    assert "W-11" in fresh["text"].stderr     # the warnings are replayed too
    reports = [f"{f}={tmp_path / ('report.' + f)}" for f in FORMATS]
    assert run([*args, *(a for r in reports for a in ("--report", r))]).exit_code == 1
    for f in FORMATS:
        assert (tmp_path / f"report.{f}").read_text() == fresh[f].stdout


def test_fail_on_and_output_apply_to_the_cached_result(store, sides, diffs):
    assert run([*sides, "-o", "brief"]).exit_code == 1
    assert run([*sides, "--fail-on", "newly-allowed"]).exit_code == 0   # only newly blocked flows
    assert run([*sides, "--fail-on", "none", "-o", "sarif"]).exit_code == 0
    assert diffs.count == 1 and len(entries(store)) == 1


def test_audit_and_verify_are_cached_too(store, tmp_path, monkeypatch):
    audits = Calls(monkeypatch, npdiff.analyse.audit, "audit")
    verifies = Calls(monkeypatch, npdiff.analyse.verify, "verify")
    audit = ["audit", str(SAMPLES / "audit/policies")]
    verify = ["verify", str(SAMPLES / "zero-trust/policies"),
              "--invariants", str(SAMPLES / "zero-trust/invariants.yaml")]
    fresh = [run([*audit, "-o", "json"]), run([*verify, "-o", "markdown"])]
    audits.broken = verifies.broken = True
    again = [run([*audit, "-o", "json"]), run([*verify, "-o", "markdown"])]
    assert [(r.exit_code, r.stdout, r.stderr) for r in again] == \
        [(r.exit_code, r.stdout, r.stderr) for r in fresh]
    assert fresh[0].exit_code == 1 and fresh[1].exit_code == 1
    assert len(entries(store)) == 2


def test_workloads_and_a_cluster_dump_are_cached_and_keyed(store, diffs, tmp_path):
    old, new = (str(SAMPLES / "workloads" / side / "policies.yaml") for side in ("old", "new"))
    dump = tmp_path / "cluster.yaml"
    dump.write_bytes(b"\n---\n".join((SAMPLES / "workloads/old" / f).read_bytes()
                                      for f in ("namespaces.yaml", "workloads.yaml")))
    args = [old, new, "--cluster", str(dump), "--inventory-only", "-o", "json"]
    fresh = run(args)
    assert fresh.exit_code == 1 and '"workloads"' in fresh.stdout
    diffs.broken = True
    assert run(args).stdout == fresh.stdout
    dump.write_bytes(dump.read_bytes() + b"\n")
    diffs.broken = False
    run(args)
    assert diffs.count == 2


def test_the_hit_path_imports_neither_z3_nor_the_analysis(store, sides):
    assert run(list(sides)).exit_code == 1
    script = ("import sys; from npdiff.cli import run; r = run(sys.argv[1:]); "
              "print(r.exit_code, sorted(m for m in sys.modules if m == 'z3' or m.startswith('npdiff.analyse')))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(npdiff.__file__).parents[1]),
                                                                      os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", script, *sides], capture_output=True, text=True, env=env,
                          check=True)
    assert done.stdout.split("\n")[0] == "1 []"


# -- misses -------------------------------------------------------------------------------------

def test_one_changed_byte_misses(store, sides, diffs):
    run(list(sides))
    target = Path(sides[1]) / "default-deny.yaml"
    target.write_bytes(target.read_bytes() + b"\n")    # the same policies, one byte more
    assert run(list(sides)).exit_code == 1
    assert diffs.count == 2 and len(entries(store)) == 2


def test_another_display_name_misses(store, sides, diffs):
    run(list(sides))
    shutil.copytree(sides[1], "renamed")
    result = run([sides[0], "renamed"])
    assert diffs.count == 2 and "renamed/default-deny.yaml" in result.stderr


@pytest.mark.parametrize("option", [["--sctp", "unsupported"], ["--max-classes", "3"], ["--plain"],
                                    ["--preset", "dns"], ["--default-namespace", "orders"]])
def test_an_analysis_option_misses(store, sides, diffs, option):
    run(list(sides))
    run([*sides, *option])
    run([*sides, *option, "-o", "json"])
    assert diffs.count == 2


def test_an_invariants_file_is_part_of_the_key(store, sides, diffs):
    invariants = Path("inv.yaml")
    invariants.write_bytes((SAMPLES / "zero-trust/presets.yaml").read_bytes())
    run([*sides, "--invariants", "inv.yaml"])
    invariants.write_bytes(invariants.read_bytes() + b"\n# a comment\n")
    run([*sides, "--invariants", "inv.yaml"])
    assert diffs.count == 2


def test_stdin_bytes_are_part_of_the_key(store, sides, diffs):
    data = b"\n---\n".join(p.read_bytes() for p in sorted(Path(sides[1]).iterdir()))
    first = run([sides[0], "-"], stdin=data)
    assert run([sides[0], "-"], stdin=data).stdout == first.stdout
    run([sides[0], "-"], stdin=data.replace(b"orders-api", b"orders-apx"))
    assert diffs.count == 2


def test_key_covers_every_analysis_option_and_no_rendering_option():
    from npdiff.cli import _NOT_IN_KEY

    # --jobs changes how fast, never what (tests/test_pairwise.py)
    assert _NOT_IN_KEY == {"output", "report", "fail_on", "no_cache", "cache_dir", "jobs"}


# -- never stored -------------------------------------------------------------------------------

def test_no_cache_never_writes(store, sides, diffs, monkeypatch):
    run([*sides, "--no-cache"])
    assert not store.exists()
    monkeypatch.setenv("NPDIFF_NO_CACHE", "1")
    run(list(sides))
    run(list(sides))
    assert not store.exists() and diffs.count == 3


def test_cache_dir_option(store, sides, tmp_path):
    run([*sides, "--cache-dir", str(tmp_path / "elsewhere")])
    assert len(entries(tmp_path / "elsewhere")) == 1 and not store.exists()


def test_input_errors_are_not_stored(store, sides):
    (Path(sides[1]) / "broken.yaml").write_text("kind: NetworkPolicy\nmetadata: [\n")
    assert run(list(sides)).exit_code == 2
    assert run([sides[0], "missing"]).exit_code == 2
    assert not entries(store)


def test_undecided_results_are_not_stored(store, sides, monkeypatch):
    monkeypatch.setattr(npdiff.analyse.diff, "diff",
                        lambda *a, **k: DiffResult(Verdict.UNDECIDED, reason="budget"))
    assert run(list(sides)).exit_code == 3
    assert not entries(store)


def test_a_result_after_an_unknown_answer_is_not_stored(store, sides, monkeypatch):
    """An explanation cut short by a budget keeps its verdict; another run may explain more."""
    from npdiff.encode import solver

    original = npdiff.analyse.diff.diff

    def with_unknown(*args, **kwargs):
        try:
            raise solver.undecided("an explanation", type("S", (), {"reason_unknown": lambda s: "timeout"})())
        except solver.Undecided:
            pass
        return original(*args, **kwargs)

    monkeypatch.setattr(npdiff.analyse.diff, "diff", with_unknown)
    assert run(list(sides)).exit_code == 1
    assert not entries(store)


def test_an_interrupted_run_stores_nothing(store, sides, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(npdiff.analyse.diff, "diff", interrupted)
    assert run(list(sides)).exit_code == 130    # interrupted, as a shell reports SIGINT
    assert not entries(store)


# -- damaged or foreign entries -----------------------------------------------------------------

@pytest.mark.parametrize("damage", [
    lambda data: data[: len(data) // 2],
    lambda data: b"",
    lambda data: data[:-1] + bytes([data[-1] ^ 1]),
    lambda data: b"garbage" * 10,
])
def test_a_damaged_entry_is_a_miss(store, sides, diffs, damage):
    expected = run(list(sides))
    (entry,) = entries(store)
    entry.write_bytes(damage(entry.read_bytes()))
    again = run(list(sides))
    assert (again.exit_code, again.stdout, again.stderr) == (expected.exit_code, expected.stdout, expected.stderr)
    assert diffs.count == 2
    assert run(list(sides)).stdout == expected.stdout and diffs.count == 2   # stored again whole


def test_an_entry_naming_other_code_is_never_unpickled(store, sides, diffs, tmp_path):
    run(list(sides))
    (entry,) = entries(store)
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Exploit(str(marker)))
    header = entry.read_bytes()[: len(b"npdiff-cache\x00") + 32]
    entry.write_bytes(header + hashlib.sha256(payload).digest() + payload)
    assert run(list(sides)).exit_code == 1
    assert not marker.exists() and diffs.count == 2


class _Exploit:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
@pytest.mark.parametrize("mode", [0o777, 0o770, 0o722])
def test_a_directory_others_can_write_is_neither_read_nor_written(store, sides, diffs, mode):
    run(list(sides))
    store.chmod(mode)
    run(list(sides))
    (entry,) = entries(store)
    entry.unlink()
    run(list(sides))
    assert diffs.count == 3 and not entries(store)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_an_entry_others_can_write_is_not_read(store, sides, diffs):
    run(list(sides))
    (entry,) = entries(store)
    entry.chmod(0o666)
    run(list(sides))
    assert diffs.count == 2


def test_an_unusable_directory_means_no_cache_and_no_message(store, sides, diffs, tmp_path):
    expected = run([*sides, "--no-cache"])
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    for folder in (blocker, blocker / "below"):
        result = run([*sides, "--cache-dir", str(folder)])
        assert (result.exit_code, result.stdout, result.stderr) == \
            (expected.exit_code, expected.stdout, expected.stderr)


# -- the store ----------------------------------------------------------------------------------

def test_prune_keeps_the_entries_used_last(tmp_path):
    store = cache.ResultCache.open(tmp_path / "c")
    assert store is not None
    keys = [hashlib.sha256(bytes([i])).hexdigest() for i in range(5)]
    for age, key in enumerate(keys):
        assert store.put(key, ("warnings", age))
        os.utime(store._path(key), (1000 + age, 1000 + age))
    assert store.get(keys[0]) == ("warnings", 0)     # used now: the newest
    store.prune(keep=2)
    assert [k for k in keys if store._path(k).exists()] == [keys[0], keys[4]]
    store.prune(total=store._path(keys[0]).stat().st_size)
    assert [k for k in keys if store._path(k).exists()] == [keys[0]]
    (tmp_path / "c" / ".stale.tmp").write_text("")
    os.utime(tmp_path / "c" / ".stale.tmp", (0, 0))
    store.prune()
    assert not (tmp_path / "c" / ".stale.tmp").exists()


def test_the_default_directory():
    assert cache.directory({"NPDIFF_CACHE_DIR": "/x"}) == Path("/x")
    assert cache.directory({"XDG_CACHE_HOME": "/xdg"}) == Path("/xdg/npdiff")
    assert cache.directory({"XDG_CACHE_HOME": "relative"}) == Path.home() / ".cache/npdiff"
    assert cache.directory({}) == Path.home() / ".cache/npdiff"


def _global(module: str, name: str) -> bytes:
    """A pickle (protocol 4) of the object `module`.`name`, as an entry could name it."""
    def text(s: str) -> bytes:
        return b"\x8c" + bytes([len(s)]) + s.encode()
    return b"\x80\x04" + text(module) + text(name) + b"\x93."


@pytest.mark.parametrize(("module", "name"), [
    ("npdiff.model.pickling", "fields"),                     # imported there, not a model class
    ("npdiff.model.pickling", "TypeVar"),                    # a class, but typing's
    ("npdiff.model.pickling", "by_constructor"),             # a function
    ("npdiff.model.policy", "dataclass.__builtins__.get"),   # dotted through other objects
    ("npdiff.model.policy", "Any"),                          # a name a model module imports
    ("os", "system"),
])
def test_entries_build_model_classes_only(module, name):
    import io

    from npdiff.cache import _ModelUnpickler

    with pytest.raises(pickle.UnpicklingError):
        _ModelUnpickler(io.BytesIO(_global(module, name))).load()
    assert _ModelUnpickler(io.BytesIO(_global("npdiff.model.policy", "NetworkPolicy"))).load().__name__ == "NetworkPolicy"
