"""CIDR reading (load/cidr.py) against the standard library's ipaddress."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from npdiff.load.cidr import CIDR, parse_cidr, strict_subset

v4 = st.builds(lambda a, p: f"{ipaddress.IPv4Address(a)}/{p}", st.integers(0, 2**32 - 1), st.integers(0, 32))
v6 = st.builds(lambda a, p: f"{ipaddress.IPv6Address(a)}/{p}", st.integers(0, 2**128 - 1), st.integers(0, 128))
cidrs = st.one_of(v4, v6, st.sampled_from(["10.0.0.0/8", "10.1.0.0/16", "10.0.0.0/08", "010.0.0.0/8",
                                           "::ffff:10.0.0.0/104", "fd00::/8", "0.0.0.0/0", "::/0"]))


@given(cidrs)
def test_networks_read_as_ipaddress_reads_them(text):
    parsed = parse_cidr(text)
    assert isinstance(parsed, CIDR)
    network = ipaddress.ip_network(text.replace("010.", "10.").replace("/08", "/8"), strict=False)
    assert parsed.text == str(network)
    assert (parsed.version, parsed.address, parsed.prefix) == \
        (network.version, int(network.network_address), network.prefixlen)
    try:
        ipaddress.ip_network(text.replace("010.", "10.").replace("/08", "/8"))
        host_bits = False
    except ValueError:
        host_bits = True
    assert ("host bits are set" in parsed.problems) == host_bits

@given(cidrs, cidrs)
def test_strict_subsets_as_ipaddress_finds_them(inner_text, outer_text):
    inner, outer = parse_cidr(inner_text), parse_cidr(outer_text)
    assert isinstance(inner, CIDR) and isinstance(outer, CIDR)
    a, b = ipaddress.ip_network(inner.text), ipaddress.ip_network(outer.text)
    expected = a.version == b.version and a.prefixlen > b.prefixlen and a.network_address in b
    assert strict_subset(inner, outer) == expected
