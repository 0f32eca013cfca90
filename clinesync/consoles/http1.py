"""HTTP/1.1 as `clinesync serve` reads and writes it: a request's head parsed from its lines, and an answer's
bytes. No input or output here: the connection loop (`eventloop.py`) finds the lines and sends the bytes.

Stricter than the standard library where HTTP allows it: no HTTP/0.9, no folded or nameless header lines, a
repeated Content-Length must agree, Content-Length is digits only, and a Transfer-Encoding header, even an
empty one, means a body that is not read. A head is at most 64 KiB (the standard library's limit for one line)
in at most 100 header lines: with one thread serving every connection, what a connection may buffer is
bounded by what it is allowed, not by a number of workers."""

from __future__ import annotations

import re
import time
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

from clinesync.records import record

MAX_HEAD = 65536  # bytes of a request's head: its request line, its headers and their line endings
MAX_HEADERS = 100
DIGITS = re.compile(r"[0-9]{1,20}")


class BadRequest(Exception):
    """A request that gets `status` and `message`, and then its connection closed; its method and target
    where its request line was read, for the access log."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.method = self.target = "-"


class Headers(dict[str, str]):
    """A request's headers by lower-cased name; the first of a repeated header, as the standard library
    gives it."""

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())


@record
class Head:
    method: str
    target: str
    version: tuple[int, int]
    headers: Headers

    @property
    def keep_alive(self) -> bool:
        """Whether the client keeps the connection for another request: HTTP/1.1's default, unless told."""
        asked: str = self.headers.get("Connection", "").lower()
        if asked in ("close", "keep-alive"):
            return asked == "keep-alive"
        return self.version >= (1, 1)

    @property
    def expects_continue(self) -> bool:
        return self.version >= (1, 1) and self.headers.get("Expect", "").lower() == "100-continue"

    def body_length(self, limit: int) -> int | None:
        """The bytes of body that follow the head: None where they cannot be read as stated (a chunked body,
        a length that is not digits or over `limit`); the request is then answered from its head, and its
        connection closed, since the unread body would be taken for the next request."""
        if "Transfer-Encoding" in self.headers:  # even empty: a client or proxy may read the body by it
            return None
        stated = self.headers.get("Content-Length")
        if stated is None:
            return 0
        if not DIGITS.fullmatch(stated) or int(stated) > limit:
            return None
        return int(stated)


class HeadReader:
    """A request's head as its bytes arrive: its lines, until the blank line that ends it. Each byte is
    searched once however the head is split, so a client dripping it costs little more than one sending it
    whole."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self._start = 0  # where the line not yet ended starts
        self._searched = 0  # up to where it holds no line ending

    def feed(self, buffer: bytes | bytearray) -> int | None:
        """Where the head ends in `buffer` (which holds the request from its first byte), once it is whole;
        None until then. Raises BadRequest past a limit, without waiting for the rest."""
        while True:
            end = buffer.find(b"\n", max(self._start, self._searched), MAX_HEAD)
            if end < 0:
                if len(buffer) < MAX_HEAD:
                    self._searched = len(buffer)
                    return None
                if not self.lines:
                    raise BadRequest(414, "request line too long")
                raise self._refused("request head too large")
            line = bytes(buffer[self._start : end + 1])
            self._start = end + 1
            if line in (b"\r\n", b"\n") and self.lines:
                return self._start
            self.lines.append(line)
            if len(self.lines) == 1 and line in (b"\r\n", b"\n"):
                return self._start  # a blank request line: parse_head says so
            if len(self.lines) > MAX_HEADERS + 1:
                raise self._refused("too many headers")

    def _refused(self, message: str) -> BadRequest:
        """A 431 naming the request its line names, for the access log."""
        refused = BadRequest(431, message)
        words = str(self.lines[0], "iso-8859-1").split()
        refused.method, refused.target = (words + ["-", "-"])[:2]
        return refused


def parse_head(lines: list[bytes]) -> Head | None:
    """The head of a request from its lines (each with its line ending; the blank line that ends it left
    out). None for a blank request line, which is closed without an answer, as the standard library does."""
    words = str(lines[0], "iso-8859-1").rstrip("\r\n").split()
    if not words:
        return None
    version = _version(words[-1]) if len(words) == 3 else None
    if version is None:
        raise BadRequest(400, "bad request line")
    if version >= (2, 0):
        raise BadRequest(505, "HTTP version not supported")
    method, target, _ = words
    if target.startswith("//"):
        target = "/" + target.lstrip("/")  # as the standard library does: never a scheme-less URL
    try:
        return Head(method, target, version, _headers(lines[1:]))
    except BadRequest as bad:
        bad.method, bad.target = method, target
        raise


def _headers(lines: list[bytes]) -> Headers:
    headers = Headers()
    for line in lines:
        name, colon, value = str(line, "iso-8859-1").partition(":")
        if not colon or not name or name != name.strip():
            raise BadRequest(400, "malformed header line")  # folded, nameless, or space before the colon
        name, value = name.lower(), value.strip()
        if name == "content-length" and headers.get(name, value) != value:
            raise BadRequest(400, "conflicting Content-Length headers")
        headers.setdefault(name, value)
    return headers


def _version(word: str) -> tuple[int, int] | None:
    """(major, minor) of `HTTP/x.y`, or None when it is not one."""
    if not word.startswith("HTTP/"):
        return None
    major, dot, minor = word[5:].partition(".")
    if not (dot and major.isdigit() and minor.isdigit() and len(major) <= 10 and len(minor) <= 10):
        return None
    return int(major), int(minor)


CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class Framing:
    """An answer's status line and headers, with the `Server` header given and a `Date` made once a second."""

    def __init__(self, server: str) -> None:
        self.server = server
        self._second = -1
        self._date = ""

    def answer(self, status: int, payload: bytes, headers: dict[str, str], close: bool) -> bytes:
        lines = [
            f"HTTP/1.1 {status} {_phrase(status)}",
            f"Server: {self.server}",
            f"Date: {self._now()}",
            "Content-Type: application/json",
            f"Content-Length: {len(payload)}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        if close:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload

    def _now(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._second, self._date = second, formatdate(second, usegmt=True)
        return self._date


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
