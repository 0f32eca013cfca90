"""`serve`'s access log: escaped fields, and a log nobody reads held, then dropped and counted."""

from __future__ import annotations

import io
import os

import pytest

from clinesync.consoles import accesslog
from clinesync.consoles.accesslog import AccessLog


def test_every_field_a_client_chose_is_escaped_and_the_query_left_out() -> None:
    out = io.StringIO()
    AccessLog(out).answered("127.0.0.1", "G\x1bET", "/api/\x07x y?token=secret", 200, 0.0)
    line = out.getvalue()
    assert line.startswith("127.0.0.1 G\\x1bET /api/\\x07x\\x20y 200 ") and "secret" not in line


def test_lines_the_log_cannot_take_are_held_then_dropped_and_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accesslog, "HELD", 10)
    reading, writing = os.pipe()
    os.set_blocking(reading, False)
    with os.fdopen(writing, "w") as out:
        log = AccessLog(out)
        sent = 0
        while not log.holding:  # until the pipe is full
            log.ended(f"10.0.0.{sent % 250}", ConnectionResetError())
            sent += 1
        for _ in range(14):  # 9 held beside the one that filled the pipe, 5 dropped; none of it waited on
            log.ended("10.9.9.9", ConnectionResetError())
        received = b""
        while True:  # read again: what was held is written, then the count of what was not
            try:
                received += os.read(reading, 1 << 16)
            except BlockingIOError:
                if not log.holding:
                    break
            log.flush()
    lines = received.decode().splitlines()
    os.close(reading)
    assert lines.count("10.9.9.9 connection ended: ConnectionResetError") == 9
    assert lines[-1] == "5 lines of this log dropped: it was not read"
    assert len(lines) == sent + 9 + 1
