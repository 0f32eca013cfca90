"""Applying a plan: one whole-document write per organization that changes, then a re-read that verifies it.

An organization without changes is never written, so a second apply makes zero writes. One organization's
failure does not stop the others, except when the console refuses writes altogether: then the writes not
yet started are not attempted. A console in this process that writes many at once (the embedded one) gets
them in batches, each one durable transaction: one sync to disk a batch, not one an organization, and a write
is reported applied only once its batch is on disk.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Literal

from clinesync.consoles.base import (
    NOT_ATTEMPTED,
    Console,
    ConsoleError,
    Live,
    NotAttempted,
    WritesUnsupported,
)
from clinesync.consoles.fleet import DEFAULT_PARALLELISM, Progress, concurrently
from clinesync.diff import Change, diff
from clinesync.document import Document
from clinesync.plans.plan import OrgPlan, Plan
from clinesync.records import field, record

Outcome = Literal["applied", "unchanged", "failed", "not attempted"]
_REFUSES = "the console refuses writes"
# A write and the read that verifies it (an error where that read failed).
Written = tuple[Live, Live | ConsoleError]
WriteMany = Callable[[list[tuple[str, Document, str | None]]], list[Live | ConsoleError]]


@record
class OrgResult:
    plan: OrgPlan
    outcome: Outcome
    error: str | None = None
    revision: str | None = None
    unverified: list[Change] = field(default_factory=list)  # how live differs from what was written


class ApplyInterrupted(KeyboardInterrupt):
    """The run was interrupted (Ctrl-C, SIGTERM: `interruption`) while it wrote: what each organization came
    to by then, so that the run can say which were applied before it ends."""

    def __init__(self, interruption: KeyboardInterrupt, results: list[OrgResult]) -> None:
        super().__init__()
        self.interruption = interruption
        self.results = results


# A write under way when the run was interrupted: the console may have taken it, and nothing will say.
UNDER_WAY = ConsoleError(
    "interrupted while its write was under way: the console may have taken it (drift, or apply again, tells)"
)
_INTERRUPTED = NotAttempted(NOT_ATTEMPTED + "the run was interrupted first")


class _Ledger:
    """What each organization's write came to, kept as each settles (by id of its plan) from any thread, so
    that an interrupted run can say it: settled, begun (under way), or never begun."""

    def __init__(self) -> None:
        self.settled: dict[int, Written | ConsoleError] = {}
        self._begun: set[int] = set()
        self._taken: dict[int, Live] = {}  # writes the console acknowledged, not yet verified
        self._stopping = threading.Event()

    def begin(self, org: OrgPlan) -> None:
        """Marks the write begun, before anything is sent; once the run is stopping it is not attempted.
        Marked first and asked second, so a write the interrupted run counts as never begun never is."""
        self._begun.add(id(org))
        if self._stopping.is_set():
            raise NotAttempted(str(_INTERRUPTED))

    def taken(self, org: OrgPlan, written: Live) -> None:
        """The console acknowledged the write; the read that verifies it is still to come."""
        self._taken[id(org)] = written

    def settle(self, org: OrgPlan, outcome: Written | ConsoleError) -> None:
        self.settled[id(org)] = outcome

    def interrupted(self, todo: list[OrgPlan]) -> dict[int, Written | ConsoleError]:
        """Every organization's outcome at the interruption; no write begins after it. A write the console
        acknowledged is written, with its revision, though not verified."""
        self._stopping.set()
        for org in todo:
            if id(org) in self.settled:
                continue
            if id(org) in self._taken:
                self.settled[id(org)] = (self._taken[id(org)], ConsoleError("the run was interrupted first"))
            else:
                self.settled[id(org)] = UNDER_WAY if id(org) in self._begun else _INTERRUPTED
        return self.settled


def apply_plan(
    plan: Plan, console: Console, parallelism: int = DEFAULT_PARALLELISM, progress: Progress | None = None
) -> list[OrgResult]:
    """Write every organization with changes at once (one write and one verifying read each). Interrupted,
    raises ApplyInterrupted with each organization's outcome so far."""
    todo = [org for org in plan.organizations if org.changes and org.action != "failed"]
    ledger = _Ledger()
    try:
        write_many = getattr(console, "write_many", None)
        if console.inline and write_many is not None:
            _in_batches(todo, console, write_many, progress, ledger)
        else:
            _each_alone(todo, console, 1 if console.inline else parallelism, progress, ledger)
    except KeyboardInterrupt as interruption:
        results = _results(plan, ledger.interrupted(todo))
        raise ApplyInterrupted(interruption, results) from interruption
    return _results(plan, ledger.settled)


def _each_alone(
    todo: list[OrgPlan], console: Console, parallelism: int, progress: Progress | None, ledger: _Ledger
) -> None:
    """One write (and its verifying read) per organization, `parallelism` at a time."""
    refused = threading.Event()

    def write(org: OrgPlan) -> Written:
        if refused.is_set():
            raise NotAttempted(_REFUSES)
        assert org.organization and org.target and org.live
        ledger.begin(org)
        try:
            written = console.write(org.organization, org.target, org.live.revision)
        except ConsoleError as error:
            if isinstance(error, WritesUnsupported):
                refused.set()
            ledger.settle(org, error)
            raise
        ledger.taken(org, written)
        outcome = _verified(console, org, written)
        ledger.settle(org, outcome)
        return outcome

    for org, outcome in zip(todo, concurrently(write, todo, parallelism, progress), strict=True):
        ledger.settle(org, outcome)  # a refusal, and a failure no rule foresaw, settle here


_BATCH = 256  # writes a transaction: a few MiB of documents at most, and progress still moves


def _in_batches(
    todo: list[OrgPlan], console: Console, write_many: WriteMany, progress: Progress | None, ledger: _Ledger
) -> None:
    """Each batch written in one transaction, then each write verified by a read."""
    refused = False  # the console refuses writes altogether: the rest are not attempted
    for start in range(0, len(todo), _BATCH):
        batch = todo[start : start + _BATCH]
        if refused:
            for org in batch:
                ledger.settle(org, NotAttempted(_REFUSES))
            continue
        writes = []
        for org in batch:
            assert org.organization and org.target and org.live
            writes.append((org.organization, org.target, org.live.revision))
            ledger.begin(org)
        try:
            written: list[Live | ConsoleError] = write_many(writes)
        except WritesUnsupported as refusal:
            refused = True
            for org in batch:
                ledger.settle(org, refusal if org is batch[0] else NotAttempted(_REFUSES))
        except ConsoleError as error:  # the transaction failed: nothing of this batch was written
            for org in batch:
                ledger.settle(org, error)
        else:
            # The whole batch is known taken before the first verifying read: an interruption during the reads
            # reports every write of it written.
            for org, each in zip(batch, written, strict=True):
                if isinstance(each, ConsoleError):
                    ledger.settle(org, each)
                else:
                    ledger.taken(org, each)
            for org, each in zip(batch, written, strict=True):
                if isinstance(each, Live):
                    ledger.settle(org, _verified(console, org, each))
        if progress is not None:
            progress(start + len(batch), len(todo))


def _verified(console: Console, org: OrgPlan, written: Live) -> Written:
    """The write, and the read that verifies it; a read that fails leaves the write written, unverified (the
    console may have gone down since: it did take this write)."""
    assert org.organization
    try:
        return written, console.read(org.organization)
    except ConsoleError as error:
        return written, error


def _results(plan: Plan, outcomes: dict[int, Written | ConsoleError]) -> list[OrgResult]:
    results = []
    for org in plan.organizations:
        if org.action == "failed" and (org.error or "").startswith(NOT_ATTEMPTED):  # its read never sent
            results.append(OrgResult(org, "not attempted", (org.error or "").removeprefix(NOT_ATTEMPTED)))
        elif org.action == "failed":
            results.append(OrgResult(org, "failed", org.error))
        elif not org.changes:
            results.append(OrgResult(org, "unchanged"))
        else:
            results.append(_result(org, outcomes[id(org)]))
    return results


def _result(org: OrgPlan, outcome: Written | ConsoleError) -> OrgResult:
    if isinstance(outcome, NotAttempted):
        return OrgResult(org, "not attempted", str(outcome).removeprefix(NOT_ATTEMPTED))  # said once
    if isinstance(outcome, ConsoleError):
        return OrgResult(org, "failed", str(outcome))
    assert org.target is not None
    written, reread = outcome
    if isinstance(reread, ConsoleError):
        reason = str(reread).removeprefix(NOT_ATTEMPTED)
        number = (written.revision or "").removeprefix("W/").strip('"')  # an HTTP console's ETag: "7"
        what = f"written (revision {number})" if number else "written"
        return OrgResult(
            org, "failed", f"{what}, but not verified: the read after it failed: {reason}", written.revision
        )
    unverified = diff(reread.document.tree() if reread.document else None, org.target.tree())
    if unverified:
        return OrgResult(
            org,
            "failed",
            "apply not verified: the console stored something other than what was written",
            written.revision,
            unverified,
        )
    return OrgResult(org, "applied", revision=reread.revision or written.revision)


def count(results: list[OrgResult], outcome: Outcome) -> int:
    return sum(1 for result in results if result.outcome == outcome)
