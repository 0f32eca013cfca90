"""One thread keeps every deadline: a late request is cut off about on time, a finished one never is."""

from __future__ import annotations

import threading
import time

from clinesync.consoles.deadlines import Deadlines


def test_late_ones_are_cut_off_in_order_and_finished_ones_never() -> None:
    deadlines = Deadlines()
    cut: list[tuple[str, float]] = []
    everything_cut = threading.Event()
    started = time.monotonic()

    def cut_off(name: str) -> None:
        cut.append((name, time.monotonic() - started))
        if len(cut) == 2:
            everything_cut.set()

    deadlines.watch(lambda: cut_off("slow"), 0.3)
    finished = deadlines.watch(lambda: cut_off("finished"), 0.1)
    deadlines.watch(lambda: cut_off("slower"), 0.5)
    deadlines.done(finished)
    try:
        assert everything_cut.wait(10)
    finally:
        deadlines.stop()
    assert [name for name, _ in cut] == ["slow", "slower"]
    assert cut[0][1] >= 0.3 and cut[1][1] >= 0.5


def test_a_sooner_deadline_wakes_a_watcher_asleep_until_a_later_one() -> None:
    deadlines = Deadlines()
    cut = threading.Event()
    try:
        deadlines.watch(lambda: None, 30)
        time.sleep(0.1)  # the watcher now sleeps until the 30-second deadline
        started = time.monotonic()
        deadlines.watch(cut.set, 0.2)
        assert cut.wait(10)
        assert time.monotonic() - started < 5
    finally:
        deadlines.stop()


def test_done_says_whether_it_stopped_the_cut_off_in_time() -> None:
    deadlines = Deadlines()
    fired = threading.Event()
    try:
        assert deadlines.done(deadlines.watch(fired.set, 30)) is True
        late = deadlines.watch(fired.set, 0.05)
        assert fired.wait(10)
        assert deadlines.done(late) is False  # the caller knows its connection was cut: it is not reused
    finally:
        deadlines.stop()
