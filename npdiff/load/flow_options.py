"""One flow given on the command line (`npdiff eval --from --to --port`) as a model Flow."""

from __future__ import annotations

import ipaddress

import typer

from npdiff.model import Address, Flow, NamedPort, Pod, names
from npdiff.model.policy import PROTOCOLS


def flow_from_options(src: str, dst: str, port: str, src_ns_labels: str, dst_ns_labels: str,
                      named_ports: list[str]) -> Flow:
    number, protocol = _port(port)
    source = _endpoint(src, src_ns_labels, (), "--from")
    for name in named_ports:
        _check(names.port_name(name), f"port name {name!r}", "--named-port")
    ports = tuple(sorted(NamedPort(name, number, protocol) for name in named_ports))
    destination = _endpoint(dst, dst_ns_labels, ports, "--to")
    if isinstance(destination, Address) and named_ports:
        raise typer.BadParameter("only a pod destination can declare named ports", param_hint="--named-port")
    return Flow(src=source, dst=destination, protocol=protocol, port=number)


def _port(text: str) -> tuple[int, str]:
    number, _, protocol = text.partition("/")
    protocol = protocol or "TCP"
    if protocol not in PROTOCOLS:
        raise typer.BadParameter(f"protocol must be one of {', '.join(PROTOCOLS)}", param_hint="--port")
    if not number.isdigit() or not 1 <= int(number) <= 65535:
        raise typer.BadParameter("port must be a number in 1-65535", param_hint="--port")
    return int(number), protocol


def _endpoint(text: str, ns_labels: str, ports: tuple[NamedPort, ...], hint: str) -> Pod | Address:
    try:
        return Address(ip=str(ipaddress.ip_address(text)))
    except ValueError:
        pass
    namespace, _, labels = text.partition("/")
    if not namespace:
        raise typer.BadParameter("expected an IP address or NAMESPACE[/key=value,...]", param_hint=hint)
    _check(names.dns_label(namespace), f"namespace {namespace!r}", hint)
    return Pod(namespace=namespace, labels=_labels(labels, hint),
               namespace_labels=_labels(ns_labels, hint + "-namespace-labels"), ports=ports)


def _labels(text: str, hint: str) -> tuple[tuple[str, str], ...]:
    pairs = {}
    for item in filter(None, text.split(",")):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected key=value, got {item!r}", param_hint=hint)
        _check(names.label_key(key), f"label key {key!r}", hint)
        _check(names.label_value(value), f"label value {value!r}", hint)
        pairs[key] = value
    return tuple(sorted(pairs.items()))


def _check(problem: str | None, what: str, hint: str) -> None:
    if problem:
        raise typer.BadParameter(f"{what} {problem}", param_hint=hint)
