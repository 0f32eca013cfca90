"""Faults mid-flight: nothing acknowledged is lost, nothing is written twice, a rerun converges."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from clinesync.consoles.local import LocalConsole

from support import TOKEN, write

ORG_PREFIX = "org-01JZPE4CHW5XTP73W957F"


def org(index: int) -> str:
    return f"{ORG_PREFIX}{index:05d}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(database: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "clinesync", "serve", "--db", str(database), "--port", str(port)]
    started = log.read_text().count("console server on") if log.exists() else 0
    with log.open("ab") as stream:  # the child keeps its own copy of the descriptor
        server = subprocess.Popen(
            [*command, "--latency-ms", "40"],
            env={**os.environ, "CLINESYNC_SERVER_TOKENS": TOKEN},
            stderr=stream,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if log.read_text().count("console server on") > started:  # this server, not an earlier one
            return server
        time.sleep(0.05)
    raise AssertionError("the server did not start")


def test_killing_the_server_mid_apply_then_rerunning_converges_without_duplicates(tmp_path: Path) -> None:
    for index in range(40):
        write(
            tmp_path / "fleet" / f"{index:02d}.yaml",
            f"organization: {org(index)}\nremoteConfig:\n  telemetryEnabled: {str(index % 2 == 0).lower()}\n",
        )
    database, log, port = tmp_path / "console.db", tmp_path / "server.log", free_port()
    env = {
        **os.environ,
        "CLINESYNC_CONSOLE": f"http://127.0.0.1:{port}",
        "CLINE_API_KEY": TOKEN,
        "CLINESYNC_RETRIES": "0",
    }
    command = [
        sys.executable,
        "-m",
        "clinesync",
        "apply",
        str(tmp_path / "fleet"),
        "--auto-approve",
        "--parallelism",
        "4",
    ]

    server = serve(database, port, log)
    applying = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while log.read_text().count(" PUT ") < 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.send_signal(signal.SIGKILL)  # mid-apply: some writes done, some in flight, some not started
    server.wait(10)
    first, _ = applying.communicate(timeout=120)
    assert applying.returncode == 1, first

    server = serve(database, port, log)
    try:
        rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        again = subprocess.run(
            [sys.executable, "-m", "clinesync", "plan", str(tmp_path / "fleet"), "--detailed-exitcode"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.terminate()
        server.wait(10)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert again.returncode == 0, again.stdout
    console = LocalConsole(database)
    for index in range(40):
        history = console.history(org(index))
        assert len(history) == 1, f"{org(index)} written {len(history)} times"
        assert history[0].document.config["telemetryEnabled"] is (index % 2 == 0)
    console.close()


WRITER = """
import sys
from clinesync.consoles.local import LocalConsole
from clinesync.document import Document
console = LocalConsole(sys.argv[1])
number = 0
while True:
    number += 1
    live = console.read("org-01JZPE4CHW5XTP73W95762121K")
    console.write("org-01JZPE4CHW5XTP73W95762121K", Document(True, {"version": "v1", "n": number}), live.revision)
    if number == 20:
        print("writing", flush=True)
"""


def test_the_local_console_survives_a_process_killed_mid_write(tmp_path: Path) -> None:
    database = tmp_path / "console.db"
    for _ in range(3):  # bounded: three kills
        with subprocess.Popen(
            [sys.executable, "-c", WRITER, str(database)], stdout=subprocess.PIPE, text=True
        ) as writer:
            assert writer.stdout is not None and writer.stdout.readline() == "writing\n"
            time.sleep(0.2)
            writer.send_signal(signal.SIGKILL)  # mid-write, most likely: it does nothing else
            writer.wait(10)
        with closing(sqlite3.connect(database)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        console = LocalConsole(database)
        history = console.history("org-01JZPE4CHW5XTP73W95762121K")
        live = console.read("org-01JZPE4CHW5XTP73W95762121K")
        console.close()
        assert [revision.number for revision in history] == list(range(1, len(history) + 1))
        assert live.document == history[-1].document
