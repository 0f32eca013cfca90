"""URLs as Cline reads them: the WHATWG URL standard, which Node's `URL` (and so Cline) implements.

Python's `urllib.parse` reads some text differently from Node: `https://evil.example\\@corp.example/v1` is a
URL to `corp.example` for urllib and to `evil.example` for Node, which reads `\\` as `/` in http(s) URLs and
strips tabs and newlines anywhere. Every check, policy, impact, mask and probe that looks at a URL's parts reads
them here, through ada (`ada-url`), the parser Node itself uses, so clinesync sees the host members' requests
go to. `misreading` says where the text and Node's reading part ways, so CS111 can refuse such a URL.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import NamedTuple
from urllib.parse import urlsplit

import ada_url

# What Node's parser removes before it reads: tabs and newlines anywhere, C0 controls and spaces at the ends.
_REMOVED_INSIDE = re.compile(r"[\t\n\r]")
_ENDS = "".join(chr(code) for code in range(0x21))


class WebUrl(NamedTuple):
    """The parts of a URL as Node reads them (`scheme` without its colon, `query` without its `?`)."""

    scheme: str
    host: str
    port: str
    username: str
    password: str
    path: str
    query: str
    fragment: str

    @property
    def has_userinfo(self) -> bool:
        return bool(self.username or self.password)


@functools.lru_cache(maxsize=4096)
def read(text: str) -> WebUrl | None:
    """The URL as Node's `new URL(text)` reads it, or None where Node throws."""
    try:
        parts = ada_url.parse_url(text)
    except ValueError:
        return None
    return WebUrl(
        scheme=parts["protocol"].rstrip(":"),
        host=parts["hostname"],
        port=parts["port"],
        username=parts["username"],
        password=parts["password"],
        path=parts["pathname"],
        query=parts["search"][1:],
        fragment=parts["hash"][1:],
    )


def host(text: str) -> str | None:
    """The host members' requests go to, or None for text Node cannot read as a URL with a host."""
    url = read(text)
    return url.host if url is not None and url.host else None


def is_web_url(url: WebUrl | None) -> bool:
    return url is not None and url.scheme in ("http", "https") and bool(url.host)


@functools.lru_cache(maxsize=4096)  # a fleet's files name the same gateways and servers
def misreading(text: str) -> str | None:
    """How Node's reading of `text` differs from what the text shows a reader, or None where they agree.

    A reader (and `urllib`) takes the host from between `//` and the next `/`; Node also ends it at `\\`,
    drops tabs and newlines, decodes percent-escapes and IDNA-maps it, and reads `https:host` as
    `https://host`. Each of those makes a reviewed file send members somewhere the review did not see.
    """
    node = read(text)
    if node is None:
        return None  # not a URL at all: the caller says so
    if "\\" in text:
        return f"Node reads '\\' as '/', so the host is {node.host}"
    if _REMOVED_INSIDE.search(text):
        return "Node removes tabs and newlines from a URL before reading it"
    if text != text.strip(_ENDS):
        return "Node removes spaces and control characters at the ends of a URL"
    written = _written_host(text)
    if written is not None and "%" in written:
        return f"Node decodes the percent-escapes in the host, so the host is {node.host}"
    if written != node.host and (written is None or _as_node_reads_host(written) != node.host):
        return f"Node reads the host as {node.host}" if node.host else "Node reads no host in it"
    return None


def _written_host(text: str) -> str | None:
    try:
        return urlsplit(text).hostname
    except ValueError:
        return None


def _as_node_reads_host(written: str) -> str | None:
    """A host as Node maps it on its own (IDNA, case, IPv6 compression): none is a misreading in itself."""
    if ":" in written:
        try:
            return f"[{ipaddress.IPv6Address(written).compressed}]"
        except ValueError:
            return None
    if written.isascii():
        return written.lower()
    return host(f"http://{written}/")
