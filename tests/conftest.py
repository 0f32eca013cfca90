"""The fixtures: a fresh directory, a console server, no CI variables, and a guard that fails any off-machine
connection. What tests share besides fixtures is in support.py."""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from support import TOKEN, RunningServer, start_server

# Property tests: a quick profile for the many runs of a working session, a thorough one where CI runs them
# (`CI` is set) or when asked for (HYPOTHESIS_PROFILE=thorough). Neither times itself: the health checks that
# measure speed (slow input generation) and the per-example deadline fail a clean checkout on a busy shared
# machine, which is a fact about the machine, not about the code.
for _name, _examples in (("quick", 40), ("thorough", 150)):
    settings.register_profile(
        _name, max_examples=_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("thorough" if os.environ.get("CI") else "quick")
)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test from an empty directory, as on a fresh machine."""
    monkeypatch.chdir(tmp_path)
    for name in ("CLINESYNC_CONSOLE", "CLINE_API_KEY", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture(autouse=True)
def not_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run as on a developer's machine, in CI too: the ones about CI set `CI` themselves."""
    monkeypatch.delenv("CI", raising=False)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reaches beyond this machine: connecting anywhere but loopback fails the test."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = host == "localhost"
            if not loopback:
                raise AssertionError(f"test tried to reach {host}: tests stay on 127.0.0.1")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield


@pytest.fixture
def console_server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(tmp_path / "served.db")
    yield running
    running.stop()


@pytest.fixture
def http_env(console_server: RunningServer) -> dict[str, str]:
    """The environment a CLI run needs to talk to the test server."""
    return {"CLINESYNC_CONSOLE": console_server.url, "CLINE_API_KEY": TOKEN, "CLINESYNC_RETRIES": "1"}


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket], None]], str]]:
    """A listening socket on 127.0.0.1 whose every connection is handed to `behave`, each on a thread of its
    own; returns its URL; stopped after the test."""
    listeners: list[socket.socket] = []

    def start(behave: Callable[[socket.socket], None]) -> str:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listeners.append(listener)

        def serve_one(connection: socket.socket) -> None:
            with connection:
                behave(connection)

        def accept() -> None:
            while True:
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return
                threading.Thread(target=serve_one, args=(connection,), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    for listener in listeners:
        listener.close()
