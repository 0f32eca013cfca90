"""`clinesync serve`'s access log: a line for each answer (client address, method, path, status, time) and
for each connection a client ended, never a header, a token or a body; every field a client chose is escaped,
so no request writes terminal escape codes or forges a line.

Written as each answer is sent, but never waited on: the one thread that serves every connection writes it.
While its reader does not keep up (a paused pager, a stalled log shipper), lines are held, up to HELD, and
written once it reads again; past that they are dropped and counted, and the count is logged. A reader gone
for good (its pipe closed) costs nothing: the server serves on without a log."""

from __future__ import annotations

import collections
import contextlib
import io
import select
import time
from typing import TextIO
from urllib.parse import urlsplit

from clinesync.escape import visible

HELD = 10_000  # lines held for a log not read at the moment: about a megabyte


class AccessLog:
    def __init__(self, out: TextIO | None) -> None:
        self._out = out
        self._held: collections.deque[str] = collections.deque()
        self._dropped = 0
        self._ready: select.poll | None = None  # whether the log's descriptor takes a line without waiting
        try:
            descriptor = out.fileno() if out is not None else -1
        except (AttributeError, OSError, io.UnsupportedOperation):  # in memory: always takes it
            descriptor = -1
        if descriptor >= 0 and hasattr(select, "poll"):  # where there is none (Windows), lines are waited on
            self._ready = select.poll()
            self._ready.register(descriptor, select.POLLOUT)

    def answered(self, peer: str, method: str, target: str, status: int, started: float) -> None:
        method = visible(method[:20]).replace(" ", "\\x20")
        path = visible(_path(target)[:200]).replace(" ", "\\x20")
        elapsed = (time.monotonic() - started) * 1000
        self._write(f"{peer} {method} {path} {status} {elapsed:.1f}ms")

    def ended(self, peer: str, error: BaseException) -> None:
        """One line, never a traceback: a client that disconnects mid-answer is not the server's fault."""
        self._write(f"{peer} connection ended: {type(error).__name__}")

    @property
    def holding(self) -> bool:
        return bool(self._held or self._dropped)

    def flush(self) -> None:
        """The lines held, as far as the log takes them now."""
        out = self._out
        if out is None:
            return
        while self.holding:
            if self._ready is not None and not self._ready.poll(0):
                return
            if self._held:
                line = self._held.popleft()
            else:
                line, self._dropped = f"{self._dropped} lines of this log dropped: it was not read", 0
            with contextlib.suppress(OSError, ValueError):  # its reader has gone: no log, the server goes on
                out.write(line + "\n")
                out.flush()

    def close(self, seconds: float = 2.0) -> None:
        """The lines still held, written if the log takes them within `seconds`; the rest are lost."""
        deadline = time.monotonic() + seconds
        while self.holding and self._ready is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not self._ready.poll(left * 1000):
                return
            self.flush()

    def _write(self, line: str) -> None:
        if self._out is None:
            return
        if len(self._held) >= HELD:
            self._dropped += 1
            return
        self._held.append(line)
        self.flush()


def _path(target: str) -> str:
    try:
        return urlsplit(target).path
    except ValueError:  # not a URL (an unclosed IPv6 bracket): logged as sent, up to its query
        return target.partition("?")[0]
