"""Deadlines for many requests at once, kept by one thread: starting a timer thread per request costs more than
a read on a fast console. The HTTP client's (`wire.py`: an answer as a whole), and the delay `serve --latency-ms`
adds to each answer (`eventloop.py`)."""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable


class Deadlines:
    def __init__(self) -> None:
        self._due: dict[int, tuple[float, Callable[[], None]]] = {}
        self._numbers = itertools.count()
        self._changed = threading.Condition()
        self._stopped = False
        self._wakes_at = math.inf  # when the watcher wakes next, unless notified
        threading.Thread(target=self._run, daemon=True, name="clinesync-deadlines").start()

    def watch(self, cut_off: Callable[[], None], seconds: float) -> int:
        """Calls `cut_off` in `seconds` unless `done` is called first; returns the number `done` takes."""
        with self._changed:
            number = next(self._numbers)
            due = time.monotonic() + seconds
            self._due[number] = (due, cut_off)
            if due < self._wakes_at:  # rarely: deadlines are mostly as long as the ones already watched
                self._changed.notify()
        return number

    def done(self, number: int) -> bool:
        """Stops watching; False when it is too late: `cut_off` was called, or is about to be."""
        with self._changed:
            return self._due.pop(number, None) is not None

    def _run(self) -> None:
        from clinesync.signals import leave_to_main_thread

        leave_to_main_thread()
        self._watch()

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify()

    def _watch(self) -> None:
        while True:
            with self._changed:
                if self._stopped:
                    return
                now = time.monotonic()
                late = [number for number, (due, _) in self._due.items() if due <= now]
                cut_offs = [self._due.pop(number)[1] for number in late]
                if not cut_offs:
                    self._wakes_at = min((due for due, _ in self._due.values()), default=math.inf)
                    self._changed.wait(None if self._wakes_at == math.inf else self._wakes_at - now)
                    self._wakes_at = -math.inf  # awake: it looks at every deadline before it sleeps again
                    continue
            for cut_off in cut_offs:  # outside the lock: closing a connection may take a moment
                cut_off()


_shared: Deadlines | None = None
_shared_lock = threading.Lock()


def shared() -> Deadlines:
    """The process's one watcher, started on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Deadlines()
        return _shared
