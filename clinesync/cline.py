"""Facts about Cline that several stages share: what an organization id looks like, which hosts are Azure's
and which loopback. Each fact is stated once, here, in the schema, or (what Cline's clients do with a
document) in `clients.py`."""

from __future__ import annotations

import functools
import re

_AZURE_SUFFIXES = (
    ".openai.azure.com",
    ".cognitiveservices.azure.com",
    ".services.ai.azure.com",
    ".azure.us",
    ".azure.com",
)


@functools.cache
def _organization_pattern() -> re.Pattern[str]:
    from clinesync.contract import schema  # the schema states the form; editors show it from there

    return re.compile(schema()["properties"]["organization"]["pattern"])


def is_organization_id(text: str) -> bool:
    """`org-` and the id the admin console shows, as the schema states it."""
    return _organization_pattern().fullmatch(text) is not None


def is_azure_host(host: str) -> bool:
    return any(host.endswith(suffix) for suffix in _AZURE_SUFFIXES)


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    import ipaddress  # only for plain-http URLs

    try:  # a WHATWG host writes an IPv6 address in brackets
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False
