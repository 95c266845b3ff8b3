"""Syntax of Kubernetes names: DNS labels and subdomains, label keys and values, port names.

Each check returns None when the text is valid, else the reason, worded after
kubernetes/apimachinery:pkg/util/validation/validation.go.
"""

from __future__ import annotations

import re

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_PORT_NAME = re.compile(r"[-a-z0-9]+")
_LETTER = re.compile(r"[a-z]")


def dns_label(text: str) -> str | None:
    if len(text) > 63:
        return "must be no more than 63 characters"
    if not _DNS_LABEL.fullmatch(text):
        return ("must be a DNS-1123 label: lowercase letters, digits and '-', "
                "starting and ending with a letter or digit")
    return None


def dns_subdomain(text: str) -> str | None:
    if len(text) > 253:
        return "must be no more than 253 characters"
    if not _DNS_SUBDOMAIN.fullmatch(text):
        return ("must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', "
                "starting and ending with a letter or digit")
    return None


def label_key(text: str) -> str | None:
    parts = text.split("/")
    if len(parts) > 2:
        return "a label key may contain at most one '/'"
    name = parts[-1]
    if len(parts) == 2:
        if not parts[0]:
            return "the prefix before '/' must be non-empty"
        problem = dns_subdomain(parts[0])
        if problem:
            return f"the prefix {problem}"
    if not name:
        return "the name part must be non-empty"
    if len(name) > 63:
        return "the name part must be no more than 63 characters"
    if not _LABEL_NAME.fullmatch(name):
        return ("the name part must consist of letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit")
    return None


def label_value(text: str) -> str | None:
    if len(text) > 63:
        return "must be no more than 63 characters"
    if text and not _LABEL_NAME.fullmatch(text):
        return ("must be empty or consist of letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit")
    return None


def port_name(text: str) -> str | None:
    if not 1 <= len(text) <= 15:
        return "a port name must be 1 to 15 characters"
    if not _PORT_NAME.fullmatch(text):
        return "a port name may contain only lowercase letters, digits and '-'"
    if not _LETTER.search(text):
        return "a port name must contain at least one letter"
    if "--" in text:
        return "a port name may not contain '--'"
    if text.startswith("-") or text.endswith("-"):
        return "a port name may not begin or end with '-'"
    return None


def port_number(number: int) -> str | None:
    if not 1 <= number <= 65535:
        return "must be between 1 and 65535, inclusive"
    return None
