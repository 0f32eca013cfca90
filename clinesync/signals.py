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
    went on (an apply wrote everything). A process started meanwhile inherits the block: `leave_to_parent` lifts it."""
    if threading.current_thread() is not threading.main_thread():
        yield  # a helper thread blocks them already
        return
    # The mask as it is, read without changing it: a handler waiting to run does so as the mask changes, and
    # what it raises from the blocking call must still find the mask restored.
    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, ENDING)
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def leave_to_parent() -> None:
    """Called first thing in a worker process, which may have started under `held`: the run-ending signals
    are its run's to handle (a terminal's Ctrl-C reaches the whole group), and the run ends its workers."""
    for number in ENDING:
        signal.signal(number, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, ENDING)
