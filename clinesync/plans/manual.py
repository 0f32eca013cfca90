"""The manual path for consoles that refuse writes (Cline's hosted console today): after an admin makes the
changes in the console (the steps: `render/manual.py`), read until live matches what apply would have written.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from clinesync.consoles.base import Console, ConsoleError
from clinesync.diff import Change, diff
from clinesync.plans.plan import OrgPlan
from clinesync.records import record


@record
class Waited:
    org: OrgPlan
    matched: bool
    remaining: list[Change]


def wait_until_applied(
    orgs: list[OrgPlan],
    console: Console,
    timeout: float,
    interval: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[Waited]:
    """Re-read each organization until live equals what apply would have written, or the timeout passes."""
    deadline = clock() + timeout
    pending = {id(org): org for org in orgs}
    remaining: dict[int, list[Change]] = {id(org): org.changes for org in orgs}
    while True:
        for key, org in list(pending.items()):
            assert org.organization and org.target
            try:
                live = console.read(org.organization)
            except ConsoleError:
                continue  # a passing failure: the next round reads again
            remaining[key] = diff(live.document.tree() if live.document else None, org.target.tree())
            if not remaining[key]:
                del pending[key]
        if not pending or clock() >= deadline:
            break
        sleep(min(interval, max(0.0, deadline - clock())))
    return [Waited(org, id(org) not in pending, remaining[id(org)]) for org in orgs]
