"""Where `clinesync serve`'s connections wait while they have nothing to read: one thread and one selector,
holding no worker. A new connection, and a kept-alive one between requests, is handed to a worker only once it
has bytes to read (or is closed); one that stays silent past its deadline is closed. So idle or unauthenticated
sockets, however many, cannot take the workers an authenticated request needs."""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

MAX_WAITING = 1024  # beyond it a new connection is closed at once: each one is a file descriptor


class WaitingRoom:
    def __init__(self, ready: Callable[[Any], None], expire: Callable[[Any], None]) -> None:
        """`ready(data)` when a connection has something to read; `expire(data)` when its deadline passed or
        the room is full or stopped. Both are called on the room's thread and must not block."""
        self._ready, self._expire = ready, expire
        self._selector = selectors.DefaultSelector()
        self._wake_in, self._wake_out = socket.socketpair()
        for end in (self._wake_in, self._wake_out):
            end.setblocking(False)
        self._selector.register(self._wake_in, selectors.EVENT_READ, None)
        self._lock = threading.Lock()
        self._arriving: list[tuple[socket.socket, float, Any]] = []
        self._due: dict[socket.socket, tuple[float, Any]] = {}
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="clinesync-serve-waiting", daemon=True)
        self._thread.start()

    def wait(self, connection: socket.socket, seconds: float, data: Any) -> None:
        """From any thread: `connection` waits here until readable or `seconds` have passed."""
        with self._lock:
            stopped = self._stopped
            if not stopped:
                self._arriving.append((connection, time.monotonic() + seconds, data))
        if stopped:
            self._expire(data)
        else:
            self._wake()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
        self._wake()
        self._thread.join()

    @property
    def waiting(self) -> int:
        return len(self._due)

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # a wake-up is pending already, or the room is closed
            self._wake_out.send(b"\0")

    def _run(self) -> None:
        from clinesync.signals import leave_to_main_thread

        leave_to_main_thread()
        while True:
            with self._lock:
                arriving, self._arriving, stopped = self._arriving, [], self._stopped
            self._admit(arriving)  # when stopping too: what arrived is closed below with the rest
            if stopped:
                break
            now = time.monotonic()
            nearest = min((due for due, _ in self._due.values()), default=now + 1.0)
            for key, _ in self._selector.select(max(0.0, min(nearest - now, 1.0))):
                if key.data is None:
                    self._drain()
                    continue
                self._leave(key.fileobj)  # type: ignore[arg-type]
                self._ready(key.data)
            self._expire_past(time.monotonic())
        for connection in list(self._due):
            self._expire(self._leave(connection))
        self._selector.close()
        self._wake_in.close()
        self._wake_out.close()

    def _admit(self, arriving: list[tuple[socket.socket, float, Any]]) -> None:
        for connection, due, data in arriving:
            if len(self._due) >= MAX_WAITING:
                self._expire(data)
                continue
            try:
                self._selector.register(connection, selectors.EVENT_READ, data)
            except (ValueError, OSError):  # closed meanwhile
                self._expire(data)
                continue
            self._due[connection] = (due, data)

    def _expire_past(self, now: float) -> None:
        for connection in [each for each, (due, _) in self._due.items() if due <= now]:
            self._expire(self._leave(connection))

    def _leave(self, connection: socket.socket) -> Any:
        self._selector.unregister(connection)
        return self._due.pop(connection)[1]

    def _drain(self) -> None:
        with contextlib.suppress(OSError):  # drained
            while self._wake_in.recv(4096):
                pass
