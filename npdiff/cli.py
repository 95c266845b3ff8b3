"""The command line: options, environment, printing and exit codes (design.md §4.1).

The only module that reads the environment, writes to the terminal and picks exit codes.
`run()` executes the whole CLI in-process with injectable streams, for tests.
"""

from __future__ import annotations

import functools
import gc
import inspect
import io
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum, IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Optional, TextIO, TypeVar

import typer

from npdiff import __version__
from npdiff.model import Diagnostic, InputError, Semantics, Severity
from npdiff.model.diagnostic import unique_sorted
from npdiff.model.result import DiffResult, Verdict
from npdiff.progress import Progress, Step

if TYPE_CHECKING:
    from npdiff.cache import ResultCache
    from npdiff.load.sources import Input
    from npdiff.model.finding import Finding
    from npdiff.model.invariant import InvariantReview
    from npdiff.model.inventory import Inventory


class ExitStatus(IntEnum):
    OK = 0
    FINDINGS = 1
    ERROR = 2
    UNDECIDED = 3


class Output(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"
    sarif = "sarif"
    github = "github"
    brief = "brief"
    dot = "dot"
    mermaid = "mermaid"


class FailOn(str, Enum):
    """Which differences make `npdiff diff` exit 1 (design.md §4.1)."""

    newly_allowed = "newly-allowed"
    newly_blocked = "newly-blocked"
    any = "any"
    none = "none"


class ReportError(Exception):
    """A --report file could not be written; nothing was written."""


class EndPort(str, Enum):
    range = "range"
    first_port = "first-port"


class Sctp(str, Enum):
    supported = "supported"
    unsupported = "unsupported"


class SelfTraffic(str, Enum):
    allow = "allow"
    policy = "policy"


class Preset(str, Enum):
    default_deny = "default-deny"
    dns = "dns"
    no_cross_namespace = "no-cross-namespace"


@dataclass
class Environment:
    stdin: BinaryIO
    stdout: TextIO
    stderr: TextIO
    colour: bool
    progress: Progress = field(default_factory=lambda: Progress(None))  # draws on a live terminal
    # What a run has built and needs no more, freed with the environment: the console
    # command leaves without freeing anything (main), which spares a large run the time
    # its deallocation takes (0.04 s for the sides of a 10,000-policy diff).
    spent: list[object] = field(default_factory=list)


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


_env: Environment | None = None

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="Prove Kubernetes NetworkPolicy sets equivalent, or list the flows a change "
                       "newly allows and newly blocks.\n\n`npdiff OLD NEW` is short for `npdiff diff OLD NEW`.")

# -- options shared by every command (semantics.md §6) -------------------------------------

IpblockMatchesPods = typer.Option(False, "--ipblock-matches-pods",
                                  help="ipBlock also matches pod addresses (S6.1; Calico-like).")
PodCidr = typer.Option([], "--pod-cidr", metavar="CIDR", help="Pod address range for --ipblock-matches-pods (repeatable).")
LocalNode = typer.Option(True, "--allow-from-local-node/--no-allow-from-local-node",
                         help="Ingress from a pod's own node is always allowed (S6.4).")
SelfOpt = typer.Option(SelfTraffic.allow, "--self-traffic", help="A pod reaching itself (S6.5).")
EndPortOpt = typer.Option(EndPort.range, "--endport", help="How endPort is enforced (S6.7).")
SctpOpt = typer.Option(Sctp.supported, "--sctp", help="Whether SCTP rules are enforced (S6.8).")
DefaultNs = typer.Option("default", "--default-namespace", help="Namespace of policies that name none (S3.1.1).")
StrictCidr = typer.Option(False, "--strict-cidr", help="Reject non-canonical CIDRs instead of warning (W-04).")
Timeout = typer.Option(60.0, "--timeout", min=0.1, max=86400.0,
                       help="Budget of one solver check, in seconds.")
OutputOpt = typer.Option(Output.text, "-o", "--output", help="Output format on standard output.")
ReportOpt = typer.Option([], "--report", metavar="FORMAT=PATH",
                         help="Also write the report in FORMAT to PATH, after the analysis succeeded "
                              "(repeatable; README, \"Output formats\").")
InvariantsOpt = typer.Option(None, "--invariants", metavar="FILE",
                             help="Invariants file (README, \"Verify\"); - for stdin.")
PresetOpt = typer.Option([], "--preset", metavar="NAME",
                         help="A common invariant without a file: default-deny, dns or "
                              "no-cross-namespace (repeatable; README, \"Presets\").")
NoCacheOpt = typer.Option(False, "--no-cache",
                          help="Neither read nor store results in the result cache (README, \"Cache\"; "
                               "also NPDIFF_NO_CACHE=1).")
CacheDirOpt = typer.Option(None, "--cache-dir", metavar="DIR",
                           help="Directory of the result cache (default: $NPDIFF_CACHE_DIR, "
                                "$XDG_CACHE_HOME/npdiff or ~/.cache/npdiff).")


def _namespace_name(text: str) -> str:
    from npdiff.model import names

    problem = names.dns_label(text)
    if problem:
        raise typer.BadParameter(f"{text!r} {problem}", param_hint="--default-namespace")
    return text


_SEMANTICS_OPTIONS = (
    ("ipblock_matches_pods", bool, IpblockMatchesPods),
    ("pod_cidr", list[str], PodCidr),
    ("allow_from_local_node", bool, LocalNode),
    ("self_traffic", SelfTraffic, SelfOpt),
    ("endport", EndPort, EndPortOpt),
    ("sctp", Sctp, SctpOpt),
    ("default_namespace", str, DefaultNs),
    ("strict_cidr", bool, StrictCidr),
    ("timeout", float, Timeout),
)


def with_semantics(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command the options of semantics.md §6, declared once here: typer sees them
    as the command's own options, and the command receives one `semantics` record."""
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "semantics"]
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kind)
             for name, kind, option in _SEMANTICS_OPTIONS]

    @functools.wraps(command)
    def wrapper(**options: object) -> None:
        values = [options.pop(name) for name, _, _ in _SEMANTICS_OPTIONS]
        command(**options, semantics=_semantics(*values))

    wrapper.__signature__ = signature.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in (*own, *added)}
    return wrapper


def _semantics(ipblock_matches_pods: bool, pod_cidr: list[str], allow_from_local_node: bool,
               self_traffic: SelfTraffic, endport: EndPort, sctp: Sctp, default_namespace: str,
               strict_cidr: bool, timeout: float) -> Semantics:
    return Semantics(ipblock_matches_pods=ipblock_matches_pods, pod_cidrs=tuple(_pod_cidrs(pod_cidr)),
                     allow_from_local_node=allow_from_local_node, self_traffic=self_traffic.value,
                     endport=endport.value, sctp=sctp.value, default_namespace=_namespace_name(default_namespace),
                     strict_cidr=strict_cidr, timeout_ms=int(timeout * 1000))


def _pod_cidrs(texts: list[str]) -> list[str]:
    import ipaddress
    out = []
    for text in texts:
        try:
            out.append(str(ipaddress.ip_network(text, strict=False)))
        except ValueError:
            raise typer.BadParameter(f"not a CIDR: {text!r}", param_hint="--pod-cidr") from None
    return sorted(set(out))


def _environment() -> Environment:
    assert _env is not None
    return _env


def _write_diagnostics(diagnostics: Sequence[Diagnostic]) -> None:
    """Warnings and notes on stderr, at most MAX_SHOWN_PER_CODE of each code: a large
    repository can repeat one warning thousands of times. JSON reports carry them all."""
    env = _environment()
    shown: dict[str, int] = {}
    for d in diagnostics:
        shown[d.code] = shown.get(d.code, 0) + 1
        if shown[d.code] <= MAX_SHOWN_PER_CODE:
            env.stderr.write(f"{d}\n")
    for code, count in sorted(shown.items()):
        if count > MAX_SHOWN_PER_CODE:
            env.stderr.write(f"npdiff: {count - MAX_SHOWN_PER_CODE} more {code} not shown "
                             f"({count} in all; -o json lists every one)\n")


def _load(paths: Sequence, semantics: Semantics, progress: Step | None = None):
    from npdiff.load import load_policy_set

    loaded = load_policy_set(paths, semantics, stdin=_environment().stdin, progress=progress)
    return loaded


def _read(paths: Sequence) -> Input:
    from npdiff.load.sources import read_input

    return read_input(paths, _environment().stdin)


def _parse(read: Input, semantics: Semantics, progress: Step | None = None, shared=None, jobs: int = 1,
           bodies_later: bool = False, started=None):
    from npdiff.load import load_input

    return load_input(read, semantics, progress, shared, jobs, bodies_later, started)


def _progress(output: Output) -> Step | None:
    """Progress only for people: on a terminal, and never beside a machine format."""
    progress = _environment().progress
    return progress.step if progress.active and output is Output.text else None


# -- the result cache (README, "Cache") ---------------------------------------------------------

R = TypeVar("R")
# Applied to a result after the analysis, so never part of a cache key; every other option is.
_NOT_IN_KEY = frozenset({"output", "report", "fail_on", "no_cache", "cache_dir", "jobs"})


def _result_cache(params: Mapping[str, object]) -> ResultCache | None:
    from npdiff import cache

    if params.get("no_cache") or os.environ.get("NPDIFF_NO_CACHE", "") not in ("", "0"):
        return None
    folder = params.get("cache_dir") or cache.directory(os.environ)
    return cache.ResultCache.open(Path(folder)) if folder else None


def _unknown_answers() -> int:
    # Read without importing the solver (and z3) when no check ran: a cache hit runs none.
    solver = sys.modules.get("npdiff.encode.solver")
    return solver.unknown_answers() if solver is not None else 0


def _cached(command: str, ctx: typer.Context, inputs: Sequence[tuple[str, Input | None]],
            analyse: Callable[[], tuple[tuple[Diagnostic, ...], R]], kind: type,
            decided: Callable[[R], bool]) -> R:
    """The result of `analyse()`, which writes its own diagnostics, or the one it gave an
    earlier run on the same inputs and options, whose diagnostics are written again. Only
    decided answers are stored: never input errors, budgets run out or interrupted runs."""
    from npdiff import cache

    store = _result_cache(ctx.params)
    if store is None or any(read is not None and any(d.severity is Severity.ERROR for d in read.problems)
                            for _, read in inputs):
        return analyse()[1]
    entry = cache.key(command, {k: v for k, v in ctx.params.items() if k not in _NOT_IN_KEY}, inputs)
    hit = store.get(entry)
    if isinstance(hit, tuple) and len(hit) == 2 and isinstance(hit[1], kind):
        _write_diagnostics(hit[0])
        return hit[1]
    unknown = _unknown_answers()
    warnings, result = analyse()
    if decided(result) and _unknown_answers() == unknown:
        store.put(entry, (tuple(warnings), result))
    return result


# -- commands ----------------------------------------------------------------------------------

@app.command("diff")
@with_semantics
def diff_command(
    ctx: typer.Context,
    old: str = typer.Argument(..., metavar="OLD", help="Old policy set: a file, a directory, REV:PATH (git), "
                                                       "or - for stdin; with --base, the working-tree PATH."),
    new: Optional[str] = typer.Argument(None, metavar="NEW", help="New policy set: a file, a directory, "
                                                                  "REV:PATH (git), or - for stdin."),
    base: Optional[str] = typer.Option(None, "--base", metavar="REV",
                                       help="Compare PATH at git revision REV with PATH in the working tree."),
    output: Output = OutputOpt,
    max_classes: int = typer.Option(100, "--max-classes", min=0,
                                    help="Stop listing flow classes after this many per direction; "
                                         "the verdict stays exact (0: the verdict alone)."),
    invariants: Optional[str] = InvariantsOpt,
    preset: list[Preset] = PresetOpt,
    report: list[str] = ReportOpt,
    fail_on: FailOn = typer.Option(FailOn.any, "--fail-on",
                                   help="Which differences exit 1: newly-allowed, newly-blocked, any or "
                                        "none (undecided exits 3 regardless)."),
    cluster: Optional[str] = typer.Option(None, "--cluster", metavar="FILE",
                                          help="Namespaces and workloads of the cluster as it is "
                                               "(kubectl get ns,pods,deploy,sts,ds -A -o yaml), for both "
                                               "sides; - for stdin."),
    inventory_only: bool = typer.Option(False, "--inventory-only",
                                        help="Reason only about pods of the inventory's workloads "
                                             "(from OLD, NEW and --cluster)."),
    plain: bool = typer.Option(False, "--plain", help="Analyse without the per-namespace shortcuts "
                               "(slower; for cross-checking npdiff itself)."),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, metavar="N",
                             help="Processes that read a large input and analyse a large change (0: one "
                                  "per CPU the process may use, at most 8; at most 64; forked on Linux "
                                  "only). The answer is the same for any N."),
    no_cache: bool = NoCacheOpt,
    cache_dir: Optional[Path] = CacheDirOpt,
    *,
    semantics: Semantics,
) -> None:
    """Prove OLD and NEW equivalent (exit 0) or list what NEW newly allows and blocks (exit 1).

    With --base REV, OLD is PATH at git revision REV and NEW is PATH in the working tree.
    With --invariants or --preset, also report the invariants the change breaks (exit 1)
    or repairs."""
    from npdiff.report import formats

    old, new = _sides(old, new, base)
    if old == "-" and new == "-":
        raise typer.BadParameter("only one side can be read from stdin")
    targets = _report_targets(report, formats.DIFF)
    _check_stdin([old, new], invariants)
    if cluster == "-" and (invariants == "-" or "-" in (old, new)):
        raise typer.BadParameter("standard input (-) can be read only once")
    progress = _progress(output)
    from npdiff.load import start_reading
    from npdiff.processes import available_jobs

    workers = jobs or available_jobs()
    old_read = _read([old])
    # Workers read the old side while this process reads the rest (and finds no cached result).
    started = start_reading(old_read, semantics, workers)
    try:
        inputs = [("old", old_read), ("new", _read([new])),
                  ("invariants", _read_invariants(invariants)), ("cluster", _read([cluster]) if cluster else None)]

        def analyse() -> tuple[tuple[Diagnostic, ...], DiffResult]:
            return _diff_analysis(inputs, semantics, progress, workers, started, preset, max_classes, plain,
                                  inventory_only, cluster)

        result = _cached("diff", ctx, inputs, analyse, DiffResult,
                         decided=lambda r: r.verdict is not Verdict.UNDECIDED
                         and not (r.invariants is not None and r.invariants.undecided))
    finally:
        if started is not None:
            started.close()
    _emit(output.value, targets, lambda name, colour: formats.DIFF[name](result, colour))
    raise typer.Exit(_review_exit(_diff_exit(result, fail_on), result.invariants, fail_on))


def _diff_analysis(inputs: Sequence[tuple[str, Input | None]], semantics: Semantics, progress: Step | None,
                   workers: int, started, preset: Sequence[Preset], max_classes: int, plain: bool,
                   inventory_only: bool, cluster: Optional[str]) -> tuple[tuple[Diagnostic, ...], DiffResult]:
    """The diff's analysis: both sides, checks and cluster loaded, warnings written, the
    result with its inventory and invariants."""
    from npdiff.analyse.diff import diff
    from npdiff.analyse.inventory_lint import inventory_warnings
    from npdiff.analyse.workloads import with_inventory
    from npdiff.model.inventory import Inventory

    from npdiff.load.sides import SharedFiles

    (_, old_read), (_, new_read), (_, invariants_read), (_, cluster_read) = inputs
    shared = SharedFiles()  # a pull request leaves most files as they were: read them once
    # The structural diff reads the bodies of changed files alone: the others need none.
    before, after, checks, dump = _collect(lambda: _parse(old_read, semantics, progress, shared, workers, True,
                                                          started),
                                           lambda: _parse(new_read, semantics, progress, shared, workers, True),
                                           lambda: _load_checks(invariants_read, preset, semantics),
                                           lambda: _load_cluster(cluster_read, cluster, semantics))
    # The cluster is both sides' starting point; an input's own objects replace its objects.
    old_inventory, new_inventory = (dump.inventory.overlay(side.inventory) for side in (before, after))
    warnings = unique_sorted(before.diagnostics, after.diagnostics, checks.diagnostics, dump.diagnostics,
                             inventory_warnings([(before.policy_set, old_inventory),
                                                 (after.policy_set, new_inventory)], inventory_only))
    _write_diagnostics(warnings)
    pods = _inventory_pods(old_inventory, new_inventory) if inventory_only else None
    result = diff(before.policy_set, after.policy_set, semantics, max_classes=max_classes,
                  local=not plain, progress=progress, inventory_pods=pods, jobs=workers)
    if old_inventory != Inventory() or new_inventory != Inventory():
        result = with_inventory(result, old_inventory, new_inventory, before.policy_set, after.policy_set,
                                semantics, inventory_only)
    result = replace(result, warnings=tuple(d for d in warnings if d.severity is not Severity.NOTE))
    if checks.invariants:
        from npdiff.analyse.verify import review
        result = replace(result, invariants=review(before.policy_set, after.policy_set, checks.invariants,
                                                   semantics, max_classes=max_classes))
    _environment().spent.append((shared, before, after))
    return warnings, result


def _sides(old: str, new: Optional[str], base: Optional[str]) -> tuple:
    """OLD and NEW, or with `--base REV PATH`: PATH at REV and PATH in the working tree."""
    if base is None:
        if new is None:
            raise typer.BadParameter("missing NEW (or give --base REV to compare PATH with a git revision)")
        return old, new
    if new is not None:
        raise typer.BadParameter("with --base, give one PATH (the working-tree side), not OLD and NEW")
    if old == "-":
        raise typer.BadParameter("with --base, PATH is a working-tree path, not -")
    from npdiff.load.git import base_path
    return base_path(base, old), old


def _diff_exit(result: DiffResult, fail_on: FailOn = FailOn.any) -> ExitStatus:
    """Undecided exits 3 whatever --fail-on says: nothing was proven either way."""
    if result.verdict is not Verdict.DIFFERENT:
        return ExitStatus.UNDECIDED if result.verdict is Verdict.UNDECIDED else ExitStatus.OK
    # A difference whose listing found no class at all may lie in either direction.
    unknown = not (result.newly_allowed or result.newly_blocked)
    fails = {FailOn.any: True, FailOn.none: False,
             FailOn.newly_allowed: bool(result.newly_allowed) or unknown,
             FailOn.newly_blocked: bool(result.newly_blocked) or unknown}[fail_on]
    return ExitStatus.FINDINGS if fails else ExitStatus.OK


# -- reports: -o on standard output, --report FORMAT=PATH into files --------------------------

def _report_targets(specs: Sequence[str], known: Mapping[str, object]) -> list[tuple[str, Path]]:
    """Parse and check every --report before any work is done."""
    targets: list[tuple[str, Path]] = []
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not path:
            raise typer.BadParameter(f"{spec!r} is not FORMAT=PATH", param_hint="--report")
        if name not in known:
            raise typer.BadParameter(f"unknown format {name!r} in {spec!r}; one of: {', '.join(known)}",
                                     param_hint="--report")
        target = Path(path)
        if path == "-" or target.is_dir():
            raise typer.BadParameter(f"{path!r} is not a file path (-o writes to standard output)",
                                     param_hint="--report")
        if not target.parent.is_dir():
            raise typer.BadParameter(f"the directory of {path!r} does not exist", param_hint="--report")
        if any(target.resolve() == other.resolve() for _, other in targets):
            raise typer.BadParameter(f"{path!r} is given twice", param_hint="--report")
        targets.append((name, target))
    return targets


def _emit(output: str, targets: Sequence[tuple[str, Path]], render: Callable[[str, bool], str]) -> None:
    """Render everything first, write the report files, and print only when they are written."""
    env = _environment()
    stdout = render(output, env.colour)
    _write_atomically([(path, render(name, False)) for name, path in targets])
    env.stdout.write(stdout)


def _write_atomically(files: Sequence[tuple[Path, str]]) -> None:
    """Each file appears whole or not at all: temporary files first, renamed when all are written."""
    import secrets

    written: list[tuple[str, Path]] = []
    current = Path()
    try:
        for current, content in files:
            # Made by hand rather than by tempfile.mkstemp, whose 0600 mode would stay on the report.
            temporary = str(current.parent / f".{current.name}.{secrets.token_hex(4)}.tmp")
            with open(temporary, "x", encoding="utf-8", newline="\n") as stream:
                written.append((temporary, current))
                stream.write(content)
        for temporary, current in written:
            os.replace(temporary, current)
    except OSError as exc:
        for temporary, _ in written:
            if os.path.exists(temporary):
                os.unlink(temporary)
        raise ReportError(f"cannot write report {current}: {exc.strerror or exc}") from None


def _load_cluster(read: Input | None, path: Optional[str], semantics: Semantics):
    from npdiff.load import Loaded, cluster_of
    from npdiff.model import PolicySet

    if read is None or path is None:
        return Loaded(PolicySet(), ())
    return cluster_of(read, path, semantics)


def _inventory_pods(old: Inventory, new: Inventory):
    from npdiff.analyse.workloads import inventory_pods

    if not (old.workloads or new.workloads):
        raise typer.BadParameter("the inputs and --cluster hold no workloads (Pod, Deployment, "
                                 "StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) to restrict to",
                                 param_hint="--inventory-only")
    return inventory_pods(old, new)


# -- invariants ------------------------------------------------------------------------------

def _collect(*loaders: Callable[[], object]) -> list:
    """Run every loader and report the errors of all of them together."""
    errors: list[Diagnostic] = []
    results = []
    for loader in loaders:
        try:
            results.append(loader())
        except InputError as exc:
            errors.extend(exc.diagnostics)
    if errors:
        raise InputError(errors)
    return results


def _check_stdin(paths: Sequence[str], invariants: Optional[str]) -> None:
    if invariants == "-" and "-" in paths:
        raise typer.BadParameter("standard input (-) can be read only once")


def _read_invariants(invariants: Optional[str]) -> Input | None:
    from npdiff.load.sources import read_one

    return None if invariants is None else read_one(invariants, _environment().stdin)


def _load_checks(read: Input | None, presets: Sequence[Preset], semantics: Semantics):
    from npdiff.load.invariants import LoadedInvariants, invariants_of

    if read is None and not presets:
        return LoadedInvariants((), ())
    return invariants_of(read, [p.value for p in presets], semantics)


def _review_exit(code: ExitStatus, review: InvariantReview | None, fail_on: FailOn = FailOn.any) -> ExitStatus:
    """A broken invariant is a finding (unless --fail-on none); an undecided one keeps a clean
    diff from passing."""
    if review is None:
        return code
    if review.count("broken") and fail_on is not FailOn.none:
        return ExitStatus.FINDINGS
    if code is ExitStatus.OK and review.undecided:
        return ExitStatus.UNDECIDED
    return code


@app.command("verify")
@with_semantics
def verify_command(
    ctx: typer.Context,
    policies: list[str] = typer.Argument(..., metavar="POLICIES...", help="Policy files or directories (- for stdin)."),
    invariants: Optional[str] = InvariantsOpt,
    preset: list[Preset] = PresetOpt,
    output: Output = OutputOpt,
    report: list[str] = ReportOpt,
    max_classes: int = typer.Option(100, "--max-classes", min=0,
                                    help="Stop listing violating flow classes after this many per "
                                         "invariant; the status stays exact (0: the status alone)."),
    no_cache: bool = NoCacheOpt,
    cache_dir: Optional[Path] = CacheDirOpt,
    *,
    semantics: Semantics,
) -> None:
    """Prove invariants about who may talk to whom (exit 0), or refute them with a witness (exit 1)."""
    from npdiff.model.invariant import InvariantStatus, VerifyResult
    from npdiff.report import formats

    if invariants is None and not preset:
        raise typer.BadParameter("give --invariants FILE and/or --preset NAME")
    if output.value not in formats.VERIFY:
        raise typer.BadParameter(f"{output.value!r} is for diff only; verify writes one of: "
                                 f"{', '.join(formats.VERIFY)}", param_hint="-o")
    targets = _report_targets(report, formats.VERIFY)
    if policies.count("-") > 1:
        raise typer.BadParameter("standard input (-) can be read only once")
    _check_stdin(policies, invariants)
    progress = _progress(output)
    inputs = [("policies", _read(policies)), ("invariants", _read_invariants(invariants))]

    def analyse() -> tuple[tuple[Diagnostic, ...], VerifyResult]:
        from npdiff.analyse.verify import verify

        (_, policies_read), (_, invariants_read) = inputs
        loaded, checks = _collect(lambda: _parse(policies_read, semantics, progress),
                                  lambda: _load_checks(invariants_read, preset, semantics))
        warnings = unique_sorted(loaded.diagnostics, checks.diagnostics)
        _write_diagnostics(warnings)
        result = verify(loaded.policy_set, checks.invariants, semantics, max_classes=max_classes,
                        progress=progress)
        return warnings, replace(result, warnings=tuple(d for d in warnings if d.severity is not Severity.NOTE))

    result = _cached("verify", ctx, inputs, analyse, VerifyResult,
                     decided=lambda r: r.verdict is not InvariantStatus.UNDECIDED)
    _emit(output.value, targets, lambda name, colour: formats.VERIFY[name](result, colour))
    raise typer.Exit({InvariantStatus.PROVEN: ExitStatus.OK, InvariantStatus.VIOLATED: ExitStatus.FINDINGS,
                      InvariantStatus.UNDECIDED: ExitStatus.UNDECIDED}[result.verdict])


@app.command("eval")
@with_semantics
def eval_command(
    policies: list[str] = typer.Argument(..., metavar="POLICIES...", help="Policy files or directories (- for stdin)."),
    flows: Optional[str] = typer.Option(None, "--flows", help="JSON Lines file of flows (design.md §4.2), - for stdin."),
    src: Optional[str] = typer.Option(None, "--from", help="Source: an IP address, or NAMESPACE[/key=value,...]."),
    dst: Optional[str] = typer.Option(None, "--to", help="Destination: an IP address, or NAMESPACE[/key=value,...]."),
    port: Optional[str] = typer.Option(None, "--port", help="Destination port, PORT or PORT/PROTOCOL (default TCP)."),
    from_ns_labels: str = typer.Option("", "--from-namespace-labels", help="key=value,... of the source's namespace."),
    to_ns_labels: str = typer.Option("", "--to-namespace-labels", help="key=value,... of the destination's namespace."),
    named_port: list[str] = typer.Option([], "--named-port",
                                         help="A port name the destination declares on the flow's port (repeatable)."),
    output: Output = OutputOpt,
    *,
    semantics: Semantics,
) -> None:
    """Decide concrete flows: from a JSON Lines file (--flows) or one flow (--from, --to, --port)."""
    from npdiff.analyse.evaluate import evaluate
    from npdiff.load import load_flows
    from npdiff.report import json_format, text

    if output not in (Output.text, Output.json):
        raise typer.BadParameter(f"eval writes text or json, not {output.value!r}", param_hint="-o")
    if flows is None and (src is None or dst is None or port is None):
        raise typer.BadParameter("give --flows FILE, or --from, --to and --port for one flow")
    if flows is not None and (src or dst or port):
        raise typer.BadParameter("give either --flows or --from/--to/--port, not both")
    if flows == "-" and "-" in policies or policies.count("-") > 1:
        raise typer.BadParameter("standard input (-) can be read only once")
    loaded = _load(policies, semantics)
    _write_diagnostics(loaded.diagnostics)
    if flows is not None:
        flow_list = load_flows(flows, stdin=_environment().stdin)
    else:
        from npdiff.load.flow_options import flow_from_options
        flow_list = [flow_from_options(src, dst, port, from_ns_labels, to_ns_labels, named_port)]
    decisions = evaluate(loaded.policy_set, flow_list, semantics)
    env = _environment()
    if output is Output.json:
        env.stdout.write(json_format.render_decisions(decisions))
    else:
        env.stdout.write(text.render_decisions(decisions, colour=env.colour))
    raise typer.Exit(ExitStatus.OK)


@app.command("audit")
@with_semantics
def audit_command(
    ctx: typer.Context,
    policies: list[str] = typer.Argument(..., metavar="POLICIES...", help="Policy files or directories (- for stdin)."),
    output: Output = OutputOpt,
    fail_on: list[str] = typer.Option(["warning"], "--fail-on", metavar="ID|SEVERITY",
                                      help="Exit 1 on findings with this id, or of this severity or "
                                           "above (info, warning, error); repeatable or comma-separated."),
    no_cache: bool = NoCacheOpt,
    cache_dir: Optional[Path] = CacheDirOpt,
    *,
    semantics: Semantics,
) -> None:
    """Find redundant, shadowed and ineffective rules and policies, and the classic pitfalls."""
    from npdiff.model.finding import AuditResult
    from npdiff.report import audit_json, audit_text

    failing = _fail_on(fail_on)
    if policies.count("-") > 1:
        raise typer.BadParameter("standard input (-) can be read only once")
    inputs = [("policies", _read(policies))]

    def analyse() -> tuple[tuple[Diagnostic, ...], AuditResult]:
        from npdiff.analyse.audit import audit
        from npdiff.analyse.audit_inventory import audit_inventory

        loaded = _parse(inputs[0][1], semantics)
        _write_diagnostics(loaded.diagnostics)
        result = audit(loaded.policy_set, semantics, audit_inventory(loaded.inventory))
        return loaded.diagnostics, replace(result, warnings=tuple(d for d in loaded.diagnostics
                                                                 if d.severity is not Severity.NOTE))

    result = _cached("audit", ctx, inputs, analyse, AuditResult, decided=lambda r: not r.undecided)
    env = _environment()
    env.stdout.write(audit_json.render(result) if output is Output.json
                     else audit_text.render(result, colour=env.colour))
    if any(failing(f) for f in result.findings):
        raise typer.Exit(ExitStatus.FINDINGS)
    raise typer.Exit(ExitStatus.UNDECIDED if result.undecided else ExitStatus.OK)


def _fail_on(values: list[str]) -> Callable[[Finding], bool]:
    """`--fail-on` as a predicate on findings; an unknown word is a usage error."""
    from npdiff.model.finding import FINDING_IDS, FindingSeverity

    words = [w.strip() for v in values for w in v.split(",") if w.strip()]
    severities = {s.value: s for s in FindingSeverity}
    for word in words:
        if word not in severities and word not in FINDING_IDS:
            raise typer.BadParameter(f"{word!r} is neither a severity ({', '.join(severities)}) nor a "
                                     "finding id (README, \"Audit\")", param_hint="--fail-on")
    floor = min((severities[w].rank for w in words if w in severities), default=None)
    ids = {w for w in words if w in FINDING_IDS}
    return lambda f: f.id in ids or (floor is not None and f.severity.rank >= floor)


def _version_callback(value: bool) -> None:
    if value:
        _environment().stdout.write(f"npdiff {__version__}\n")
        raise typer.Exit(ExitStatus.OK)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                       help="Show the version and exit.")) -> None:
    """npdiff: semantic diff of Kubernetes NetworkPolicies."""


# -- entry points ---------------------------------------------------------------------------------

_COMMANDS = {"audit", "diff", "eval", "verify"}
MAX_SHOWN_ERRORS = 200
MAX_SHOWN_PER_CODE = 20
_ROOT_FLAGS = {"--help", "-h", "--version"}


def _with_default_command(argv: list[str]) -> list[str]:
    """`npdiff OLD NEW` means `npdiff diff OLD NEW`."""
    if not argv or argv[0] in _COMMANDS or argv[0] in _ROOT_FLAGS:
        return argv
    return ["diff", *argv]


def _prog_name() -> str:
    """`kubectl npdiff` when kubectl runs the plugin (`kubectl-npdiff`), else `npdiff`."""
    return "kubectl npdiff" if os.path.basename(sys.argv[0]).startswith("kubectl-npdiff") else "npdiff"


def execute(argv: Sequence[str], env: Environment, prog_name: str = "npdiff") -> int:
    global _env
    previous, _env = _env, env
    try:
        command = typer.main.get_command(app)
        try:
            code = command.main(args=_with_default_command(list(argv)), prog_name=prog_name,
                                standalone_mode=False)
        except typer.Exit as exc:
            code = exc.exit_code
        except typer.TyperException as exc:
            message = exc.format_message()
            env.stderr.write(f"{message}\n" if message.startswith("Usage:") else f"npdiff: {message}\n")
            return ExitStatus.ERROR
        except typer.Abort:
            env.stderr.write("npdiff: aborted\n")
            return ExitStatus.ERROR
        except InputError as exc:
            for d in exc.diagnostics[:MAX_SHOWN_ERRORS]:
                env.stderr.write(f"{d}\n")
            if len(exc.diagnostics) > MAX_SHOWN_ERRORS:
                env.stderr.write(f"… and {len(exc.diagnostics) - MAX_SHOWN_ERRORS} more\n")
            errors = sum(1 for d in exc.diagnostics if d.severity is Severity.ERROR)
            env.stderr.write(f"npdiff: {errors} error{'s' if errors != 1 else ''} in the input; nothing analysed\n")
            return ExitStatus.ERROR
        except ReportError as exc:
            env.stderr.write(f"npdiff: {exc}\n")
            return ExitStatus.ERROR
        except RecursionError:
            env.stderr.write("npdiff: input nested too deeply\n")
            return ExitStatus.ERROR
        except Exception as exc:  # an internal error: never a traceback, never a verdict
            if os.environ.get("NPDIFF_DEBUG"):
                raise
            env.stderr.write(f"npdiff: internal error: {type(exc).__name__}: {exc}\n"
                             "Set NPDIFF_DEBUG=1 for a traceback, and please report it.\n")
            return ExitStatus.ERROR
        return int(code or 0)
    finally:
        env.progress.clear()
        _env = previous


def wants_colour(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org) or TERM=dumb."""
    return stream.isatty() and not environ.get("NO_COLOR") and environ.get("TERM") != "dumb"


def run(argv: Sequence[str], stdin: bytes | None = None, colour: bool = False) -> CliResult:
    """Run the CLI in-process; stdout and stderr are captured as text."""
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdin=io.BytesIO(stdin or b""), stdout=out, stderr=err, colour=colour)
    code = execute(argv, env)
    return CliResult(code, out.getvalue(), err.getvalue())


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: buffers output so that a failure never leaves half a report."""
    # One run per process, building millions of long-lived acyclic objects: the cycle
    # collector would rescan them again and again (a fifth of a large diff's time) and
    # find nothing to free. Peak memory is the same without it.
    gc.disable()
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdin=sys.stdin.buffer, stdout=out, stderr=err,
                      colour=wants_colour(sys.stdout, os.environ),
                      progress=Progress(sys.stderr if os.environ.get("TERM") != "dumb" else None))
    code = execute(list(sys.argv[1:] if argv is None else argv), env, prog_name=_prog_name())
    for stream, text in ((sys.stderr, err.getvalue()), (sys.stdout, out.getvalue())):
        try:
            stream.write(text)
            stream.flush()
        except BrokenPipeError:
            pass   # the reader left (`npdiff ... | head`): what it read is all it wanted
    if argv is None and sys.gettrace() is None and sys.getprofile() is None:
        # The console command, with nothing watching: everything is written and nothing
        # is left to close, so tearing down the interpreter would only free, one by one,
        # the millions of objects a large run built (0.3 s at 10,000 policies). Workers
        # were reaped when their pieces were done (npdiff/processes.py).
        os._exit(code)
    sys.exit(code)
