"""Signals are the main thread's. The kernel hands a signal sent to the process to any thread that does not
block it; Python runs the handler on the main thread only when that thread next runs, so a SIGTERM landing on a
reading thread would leave the main thread asleep in its wait until the read's deadline. Helper threads block
the run-ending signals, so the kernel wakes the main thread with them."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

ENDING = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})


def leave_to_main_thread() -> None:
    """Called first thing in a helper thread (a thread pool's initializer, a thread's target)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, ENDING)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """The run-ending signals wait while the block runs, and end the run as soon as it is over. Around a fork:
    Python drops what a handler raises inside the fork's hooks, so a Ctrl-C landing there was lost and the run
    went on (an apply wrote everything). A process started meanwhile inherits the block: `let_through` lifts it."""
    if threading.current_thread() is not threading.main_thread():
        yield  # a helper thread blocks them already
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, ENDING)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def let_through() -> None:
    """Called first thing in a process started under `held`."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, ENDING)
