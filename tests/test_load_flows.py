"""Flows in JSON Lines (design.md §4.2): conversion to model values and errors with lines."""

from __future__ import annotations

import io
import json

import pytest

from npdiff.load import load_flows, parse_flow
from npdiff.model import Address, Flow, InputError, NamedPort, Pod

WEB = {"namespace": "prod", "labels": {"tier": "fe", "app": "web"},
       "namespace_labels": {"env": "prod"},
       "ports": [{"name": "metrics", "port": 9090}, {"name": "http", "port": 8080,
                                                    "protocol": "TCP"}],
       "ip": "10.0.1.5", "name": "web-0", "workload": "web"}


def flow(**fields) -> dict:
    base = {"src": {"ip": "203.0.113.7"}, "dst": WEB, "protocol": "TCP", "port": 8080}
    base.update(fields)
    return base


def problems(obj: object) -> list[tuple[str, int, str]]:
    with pytest.raises(InputError) as info:
        parse_flow(obj, "flows.jsonl", 7)
    return [(d.code, d.line, d.path) for d in info.value.diagnostics]


def test_pod_and_address_endpoints():
    result = parse_flow(flow(), "f", 1)
    assert result == Flow(Address("203.0.113.7"), Pod(
        "prod", (("app", "web"), ("tier", "fe")), (("env", "prod"),),
        (NamedPort("http", 8080, "TCP"), NamedPort("metrics", 9090, "TCP")), "10.0.1.5"),
        "TCP", 8080)
    assert result.dst.name == "web-0" and result.dst.workload == "web"


def test_defaults_and_minimal_pods():
    result = parse_flow({"src": {"namespace": "dev"}, "dst": {"ip": "2001:DB8::7"}, "port": 53},
                        "f", 1)
    assert result == Flow(Pod("dev"), Address("2001:db8::7"), "TCP", 53)


def test_local_node_source():
    result = parse_flow(flow(src={"ip": "192.168.0.10", "local_node": True}), "f", 1)
    assert result.src == Address("192.168.0.10", local_node=True)
    assert problems(flow(src=WEB, dst={"ip": "10.0.0.1", "local_node": True})) == [
        ("E-FLOW", 7, "dst.local_node")]
    assert problems(flow(src={"ip": "10.0.0.1", "local_node": True}, dst={"ip": "10.0.0.2"})) == [
        ("E-FLOW", 7, "src.local_node")]


def test_metadata_name_label_follows_the_namespace():
    pod = parse_flow(flow(dst={"namespace": "prod", "namespace_labels": {
        "kubernetes.io/metadata.name": "other"}}), "f", 1).dst
    assert pod.namespace_labels == (("kubernetes.io/metadata.name", "prod"),)


@pytest.mark.parametrize("obj, expected", [
    (flow(protocol="tcp"), [("E-FLOW", 7, "protocol")]),
    (flow(port=0), [("E-FLOW", 7, "port")]),
    (flow(port=65536), [("E-FLOW", 7, "port")]),
    (flow(port="80"), [("E-FLOW", 7, "port")]),
    (flow(port=True), [("E-FLOW", 7, "port")]),
    ({"src": {"ip": "1.2.3.4"}, "dst": WEB}, [("E-FLOW", 7, "port")]),
    (flow(src={"ip": "1.2.3"}), [("E-FLOW", 7, "src.ip")]),
    (flow(src={"ip": "10.0.0.0/8"}), [("E-FLOW", 7, "src.ip")]),
    (flow(src={}), [("E-FLOW", 7, "src")]),
    (flow(src=None), [("E-FLOW", 7, "src")]),
    (flow(dst=[]), [("E-FLOW", 7, "dst")]),
    (flow(colour="red"), [("E-FLOW", 7, "colour")]),
    (flow(dst={**WEB, "hostNetwork": True}), [("E-FLOW", 7, "dst.hostNetwork")]),
    (flow(dst={**WEB, "namespace": "Prod"}), [("E-FLOW", 7, "dst.namespace")]),
    (flow(dst={**WEB, "namespace": ""}), [("E-FLOW", 7, "dst.namespace")]),
    (flow(dst={**WEB, "labels": {"app": 1}}), [("E-FLOW", 7, "dst.labels[app]")]),
    (flow(dst={**WEB, "labels": {"-x": "y"}}), [("E-FLOW", 7, "dst.labels[-x]")]),
    (flow(dst={**WEB, "labels": ["app"]}), [("E-FLOW", 7, "dst.labels")]),
    (flow(dst={**WEB, "ports": [{"name": "HTTP", "port": 80}]}), [("E-FLOW", 7, "dst.ports[0].name")]),
    (flow(dst={**WEB, "ports": [{"name": "http", "port": 0}]}), [("E-FLOW", 7, "dst.ports[0].port")]),
    (flow(dst={**WEB, "ports": [{"name": "http", "port": 80, "protocol": "udp"}]}),
     [("E-FLOW", 7, "dst.ports[0].protocol")]),
    (flow(dst={**WEB, "ports": [{"port": 80}]}), [("E-FLOW", 7, "dst.ports[0].name")]),
    (flow(dst={**WEB, "ip": "x"}), [("E-FLOW", 7, "dst.ip")]),
    (flow(src={"ip": "1.2.3.4", "local_node": "yes"}), [("E-FLOW", 7, "src.local_node")]),
    ([1, 2], [("E-FLOW", 7, "")]),
])
def test_invalid_flows(obj, expected):
    assert problems(obj) == expected


def test_several_problems_in_one_flow():
    assert problems(flow(protocol="icmp", port=-1, src={"ip": "nope"})) == [
        ("E-FLOW", 7, "port"), ("E-FLOW", 7, "protocol"), ("E-FLOW", 7, "src.ip")]


def test_load_flows_file_skips_blank_lines(tmp_path):
    path = tmp_path / "flows.jsonl"
    path.write_text(json.dumps(flow()) + "\n\n   \n" + json.dumps(flow(port=443)) + "\n")
    assert [f.port for f in load_flows(str(path))] == [8080, 443]


def test_load_flows_reports_every_bad_line(tmp_path):
    path = tmp_path / "flows.jsonl"
    lines = [json.dumps(flow()), "{not json", json.dumps(flow(port=0)), "",
             '{"port": 1, "port": 2}', json.dumps(flow(protocol="udp")), "[" * 100_000]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as info:
        load_flows(str(path))
    assert [(d.file, d.line, d.code, d.path) for d in info.value.diagnostics] == [
        (str(path), 2, "E-FLOW", ""), (str(path), 3, "E-FLOW", "port"),
        (str(path), 5, "E-FLOW", ""), (str(path), 6, "E-FLOW", "protocol"),
        (str(path), 7, "E-FLOW", "")]
    assert "duplicate key 'port'" in info.value.diagnostics[2].message


def test_load_flows_from_stdin_and_missing_files(tmp_path):
    data = (json.dumps(flow()) + "\n").encode()
    (result,) = load_flows("-", stdin=io.BytesIO(data))
    assert result.port == 8080
    with pytest.raises(InputError) as info:
        load_flows("-", stdin=io.BytesIO(b"{\"port\": 1}\n"))
    assert {d.file for d in info.value.diagnostics} == {"<stdin>"}
    with pytest.raises(InputError) as info:
        load_flows(str(tmp_path / "missing.jsonl"))
    assert [d.code for d in info.value.diagnostics] == ["E-IO"]
    bad = tmp_path / "latin1.jsonl"
    bad.write_bytes(data + b'{"x": "\xe9"}\n')
    with pytest.raises(InputError) as info:
        load_flows(str(bad))
    assert [(d.code, d.line) for d in info.value.diagnostics] == [("E-IO", 2)]


def test_line_separators_inside_strings_do_not_split_lines(tmp_path):
    path = tmp_path / "flows.jsonl"
    text = json.dumps(flow(dst={**WEB, "name": "a\u2028b"}), ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    (result,) = load_flows(str(path))
    assert result.dst.name == "a\u2028b"
