"""Signals are the main thread's. The kernel hands a signal sent to the process to any thread that does not
block it; Python runs the handler on the main thread only when that thread next runs, so a SIGTERM landing on a
reading thread would leave the main thread asleep in its wait until the read's deadline. Helper threads block
the run-ending signals, so the kernel wakes the main thread with them."""

from __future__ import annotations

import signal

ENDING = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})


def leave_to_main_thread() -> None:
    """Called first thing in a helper thread (a thread pool's initializer, a thread's target)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, ENDING)
