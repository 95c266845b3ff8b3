"""CIDR text as the API server reads it (leniently), and what npdiff stores and warns about.

The API accepts IPv4 octets and prefix lengths with leading zeros and addresses with host
bits set (k8s.io/utils/net ParseCIDRSloppy); npdiff keeps the masked network in canonical
form and reports every such leniency as W-04 (semantics.md §5.4).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass

_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class CIDR:
    version: int                # 4 or 6
    address: int                # the network's first address
    prefix: int                 # its prefix length
    problems: tuple[str, ...]   # W-04 reasons; empty when the text is canonical
    mapped: bool                # an IPv4-mapped IPv6 network (W-05)
    text: str                   # the network in canonical form


@functools.lru_cache(maxsize=8192)  # the same few CIDRs recur across a repository
def parse_cidr(text: str) -> CIDR | str:
    """The network written as `text`, or the reason it is not a CIDR."""
    invalid = "must be a CIDR such as 10.0.0.0/8 or fd00::/64"
    if text.count("/") != 1:
        return invalid
    address_text, prefix_text = text.split("/")
    if not _DIGITS.fullmatch(prefix_text):
        return invalid
    problems: list[str] = []
    if len(prefix_text) > 1 and prefix_text.startswith("0"):
        problems.append("the prefix length has leading zeros")
    mapped = False
    prefix = int(prefix_text)
    if ":" in address_text:
        if "%" in address_text:
            return invalid
        try:
            address = ipaddress.IPv6Address(address_text)
        except ValueError:
            return invalid
        if prefix > address.max_prefixlen:
            return f"prefix length {prefix} is longer than {address.max_prefixlen}"
        value, bits = int(address), address.max_prefixlen
        mapped = address.ipv4_mapped is not None
        version = 6
    else:
        octets = address_text.split(".")
        if len(octets) != 4 or not all(_DIGITS.fullmatch(o) and int(o) <= 255 for o in octets):
            return invalid
        if any(len(o) > 1 and o.startswith("0") for o in octets):
            problems.append("the address has leading zeros (read as decimal)")
        if prefix > 32:
            return f"prefix length {prefix} is longer than 32"
        # Integer arithmetic: ipaddress objects are most of the time of a large load's CIDRs.
        value, bits = 0, 32
        for octet in octets:
            value = value << 8 | int(octet)
        version = 4
    first = value >> (bits - prefix) << (bits - prefix)
    if value != first:
        problems.append("host bits are set")
    if version == 4:
        canonical = f"{first >> 24}.{first >> 16 & 255}.{first >> 8 & 255}.{first & 255}/{prefix}"
    else:
        canonical = str(ipaddress.IPv6Network((first, prefix)))
    if not problems and not mapped and text != canonical:
        problems.append("it is not in canonical form")
    return CIDR(version, first, prefix, tuple(problems), mapped, canonical)


def strict_subset(inner: CIDR, outer: CIDR) -> bool:
    """`inner` lies inside `outer` with a strictly longer prefix (ValidateIPBlock)."""
    bits = 32 if outer.version == 4 else 128
    return (inner.version == outer.version and inner.prefix > outer.prefix
            and inner.address >> (bits - outer.prefix) == outer.address >> (bits - outer.prefix))
