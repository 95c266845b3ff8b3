"""Reading policy sets and flows: files, directories and stdin into `npdiff.model` values.

Everything read keeps its file and line; every API-server rule of semantics.md §5.1 is
checked, and all errors of all files are collected before `InputError` is raised.
Warnings and notes travel in `Loaded.diagnostics`. Nothing here prints or exits.
"""

from __future__ import annotations

import gc
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, BinaryIO, Iterator, Sequence

from npdiff.load.codes import E_DUP, N_INV, N_SKIP, Sink
from npdiff.load.flows import load_flows, parse_flow
from npdiff.load.inventory import InventoryBuilder
from npdiff.load import parallel
from npdiff.load.lint import dns_warnings, warnings_about
from npdiff.load.networkpolicy import KIND, policy_of, source_object
from npdiff.load.objects import objects_of
from npdiff.load.policy_files import read_policy_file
from npdiff.load.reuse import Reuse
from npdiff.load.sides import SharedFiles
from npdiff.load.sources import Input, Source, read_input
from npdiff.load.yaml_reader import read_documents
from npdiff.model import (
    Diagnostic, InputError, NetworkPolicy, PolicySet, Semantics, Severity, SourceObject, Span,
)
from npdiff.model.diagnostic import sorted_diagnostics
from npdiff.model.inventory import INVENTORY_KINDS, Inventory

if TYPE_CHECKING:
    from npdiff.load.git import RevisionPath
    from npdiff.progress import Step

__all__ = ["Loaded", "cluster_of", "load_cluster", "load_flows", "load_input", "load_policy_set",
           "parse_flow"]


@dataclass(frozen=True)
class Loaded:
    policy_set: PolicySet                   # policies sorted by (namespace, name)
    diagnostics: tuple[Diagnostic, ...]     # warnings and notes, sorted
    inventory: Inventory = Inventory()      # the Namespaces and workloads of the input


def _duplicates(policies: list[NetworkPolicy], found: list[Diagnostic], named: PolicySet) -> None:
    first: dict[str, NetworkPolicy] = {}
    for policy in policies:
        earlier = first.setdefault(policy.key, policy)
        if earlier is not policy:
            span = policy.span or Span("", 0)
            there = f"{named.file_of(earlier.span)}:{earlier.span.line}" if earlier.span else "None"
            found.append(Diagnostic(named.file_of(span), span.line, Severity.ERROR, E_DUP, "metadata.name",
                                    f"policy {policy.key} is defined twice: here and at {there}"))


def _skipped_notes(skipped: Counter[str], first_seen: dict[str, Span]) -> list[Diagnostic]:
    notes = []
    for kind, count in sorted(skipped.items()):
        span = first_seen[kind]
        noun = "object" if count == 1 else "objects"
        notes.append(Diagnostic(span.file, span.line, Severity.NOTE, N_SKIP, "",
                                f"skipped {count} {kind} {noun}"))
    return notes


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    # Loading allocates millions of small acyclic containers; the cycle collector would
    # rescan them over and over (a quarter of the time on large repositories).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_policy_set(
    paths: Sequence[str | RevisionPath], semantics: Semantics, stdin: BinaryIO | None = None,
    progress: Step | None = None,
) -> Loaded:
    """Every NetworkPolicy in `paths` (files, directories, `REV:PATH`, `-` for stdin).

    Raises InputError carrying every error found in every source.
    """
    return load_input(read_input(paths, stdin), semantics, progress)


def load_input(read: Input, semantics: Semantics, progress: Step | None = None,
               shared: SharedFiles | None = None, jobs: int = 1, bodies_later: bool = False,
               started: parallel.Shares | None = None) -> Loaded:
    """Every NetworkPolicy in sources already read; InputError as `load_policy_set`.
    `shared` holds files the other side of a diff read already (load/sides.py). Up to
    `jobs` processes read a large input (load/parallel.py), or the workers `started`
    reading it earlier (`start_reading`), and with `bodies_later` files in the common
    layout are read without building their objects' bodies, which are read again if asked
    for (load/policy_files.py): for a caller that asks for few, as the structural diff
    does. The result is the same either way."""
    with _without_cycle_collection():
        return _load(read, semantics, progress, shared, jobs, bodies_later, started)


def start_reading(read: Input, semantics: Semantics, jobs: int) -> parallel.Shares | None:
    """Workers that start reading a large input now, while the caller does something
    else, for `load_input(read, ..., started=)` with no files known already; None where
    they would not pay. The caller closes them if it does not load the input after all."""
    return parallel.shares(read.sources, list(range(len(read.sources))), semantics, jobs)


def load_cluster(path: str, semantics: Semantics, stdin: BinaryIO | None = None) -> Loaded:
    """The Namespaces and workloads of a cluster dump (`--cluster`); its policies, if any,
    are left out with a note: policies come from the sides compared."""
    return cluster_of(read_input([path], stdin), path, semantics)


def cluster_of(read: Input, path: str, semantics: Semantics) -> Loaded:
    """`load_cluster` of the dump at `path`, already read."""
    loaded = load_input(read, semantics)
    notes = list(loaded.diagnostics)
    policies = loaded.policy_set.policies
    if policies:
        span = policies[0].span or Span(path, 0)
        notes.append(Diagnostic(span.file, span.line, Severity.NOTE, N_INV, "",
                                f"--cluster: {len(policies)} NetworkPolicy objects not analysed "
                                "(policies come from OLD and NEW)"))
    return Loaded(PolicySet(), tuple(sorted(notes)), loaded.inventory)


@dataclass
class _Found:
    """What the sources of one input hold, gathered in their order."""

    diagnostics: list[Diagnostic]
    inventory: InventoryBuilder
    policies: list[NetworkPolicy] = field(default_factory=list)
    objects: list[SourceObject] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)     # kinds not analysed
    first_seen: dict[str, Span] = field(default_factory=dict)  # where each skipped kind was first met
    aliases: dict[str, str] = field(default_factory=dict)      # PolicySet.aliases, as files are taken


def _load(read: Input, semantics: Semantics, progress: Step | None, shared: SharedFiles | None,
          jobs: int = 1, bodies_later: bool = False, started: parallel.Shares | None = None) -> Loaded:
    into = _Found(list(read.problems), InventoryBuilder(semantics))
    sources = read.sources
    elsewhere = started
    try:
        if elsewhere is None:
            elsewhere = parallel.shares(sources, [i for i, s in enumerate(sources)
                                                  if shared is None or not shared.knows(s.data, s.is_json)],
                                        semantics, jobs)
        _read_sources(sources, semantics, progress, shared, elsewhere, into, bodies_later)
    finally:
        if elsewhere is not None:
            elsewhere.close()
    found, policies, objects, inventory = into.diagnostics, into.policies, into.objects, into.inventory
    skipped, first_seen = into.skipped, into.first_seen
    aliases = tuple(sorted((taken, own) for taken, own in into.aliases.items() if taken != own))
    named = PolicySet(aliases=aliases)   # names the files of this side's policies
    _duplicates(policies, found, named)
    inventory.duplicates(found)
    errors = [d for d in found if d.severity is Severity.ERROR]
    if errors:
        raise InputError(errors)
    policies.sort(key=lambda p: (p.namespace, p.name))
    found.extend(_named(dns_warnings(policies, semantics), named))
    found.extend(_skipped_notes(skipped, first_seen))
    workloads = inventory.inventory(found)
    objects.sort(key=lambda o: (o.key, o.span))
    return Loaded(
        PolicySet(tuple(policies), tuple(objects), tuple(sorted(skipped.items())), aliases),
        sorted_diagnostics(found),
        workloads,
    )


def _named(found: list[Diagnostic], named: PolicySet) -> list[Diagnostic]:
    """Findings about policies, each in this side's file (their spans may name the other
    side's copy, load/sides.py)."""
    if not named.aliases:
        return found
    return [replace(d, file=named.file_of(Span(d.file, d.line))) for d in found]


def _read_sources(sources: tuple[Source, ...], semantics: Semantics, progress: Step | None,
                  shared: SharedFiles | None, elsewhere: parallel.Shares | None, into: _Found,
                  bodies_later: bool = False) -> None:
    """Each source in turn into `into`: taken from `shared` or from a worker when they
    hold it, else read here (directly when `bodies_later` and it is in the common layout)."""
    found, policies, objects, inventory = into.diagnostics, into.policies, into.objects, into.inventory
    reuse = Reuse()
    own = frozenset(source.name for source in sources) if shared is not None else frozenset()
    for number, source in enumerate(sources, 1):
        if progress is not None:
            progress("reading policies", number, len(sources))
        if shared is not None and (known := shared.get(source.data, source.is_json, source.name, into.aliases,
                                                       own)) is not None:
            objects.extend(known.objects)
            policies.extend(known.policies)
            found.extend(known.warnings)
            continue
        if elsewhere is not None and (linted := elsewhere.result(number - 1)) is not None:
            clean, lint = linted
            objects.extend(clean.objects)
            policies.extend(clean.policies)
            found.extend(clean.diagnostics)
            found.extend(lint)
            if shared is not None and not clean.diagnostics:
                shared.keep(source.data, source.is_json, source.name, list(clean.objects), list(clean.policies),
                            list(lint))
            continue
        if bodies_later and (direct := read_policy_file(source)) is not None:
            objects.extend(direct.objects)
            policies.extend(direct.policies)
            lint = _lint(direct.policies, found)
            if shared is not None:
                shared.keep(source.data, source.is_json, source.name, list(direct.objects), list(direct.policies),
                            lint)
            continue
        sink = Sink(source.name, found)
        reported, first_object, first_policy, pure = len(found), len(objects), len(policies), True
        for obj in objects_of(read_documents(source, sink), sink):
            pure = pure and obj.kind == KIND
            if obj.kind in INVENTORY_KINDS:
                # Workloads are compared as workloads (analyse.workloads), not as objects.
                inventory.add(obj, sink)
                continue
            objects.append(source_object(obj, source.name, semantics))
            if obj.kind != KIND and obj.kind.lower() == KIND.lower():
                # A misspelt kind would otherwise drop the policy silently from the set.
                sink.error(obj.body.key_line("kind"), "E-NP-16", "kind",
                           f"unknown kind {obj.kind!r}; did you mean {KIND}?")
                continue
            if obj.kind != KIND:
                into.skipped[obj.kind] += 1
                into.first_seen.setdefault(obj.kind, Span(source.name, obj.line))
                continue
            policy = policy_of(obj, sink, semantics, reuse)
            if policy is not None:
                policies.append(policy)
        clean = len(found) == reported
        lint = _lint(policies[first_policy:], found)
        if shared is not None and pure and clean:
            shared.keep(source.data, source.is_json, source.name, objects[first_object:], policies[first_policy:],
                        lint)


def _lint(policies: Sequence[NetworkPolicy], found: list[Diagnostic]) -> list[Diagnostic]:
    """The warnings about a file's policies (load/lint.py), added to `found` too: a file the
    other side shares takes them renamed, rather than its policies linted again."""
    lint = warnings_about(policies)
    found.extend(lint)
    return lint
