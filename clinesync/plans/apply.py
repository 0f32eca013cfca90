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


def apply_plan(
    plan: Plan, console: Console, parallelism: int = DEFAULT_PARALLELISM, progress: Progress | None = None
) -> list[OrgResult]:
    """Write every organization with changes at once (one write and one verifying read each)."""
    todo = [org for org in plan.organizations if org.changes and org.action != "failed"]
    write_many = getattr(console, "write_many", None)
    if console.inline and write_many is not None:
        done = _in_batches(todo, console, write_many, progress)
        return _results(plan, dict(zip(map(id, todo), done, strict=True)))
    refused = threading.Event()

    def write(org: OrgPlan) -> Written:
        if refused.is_set():
            raise NotAttempted(_REFUSES)
        assert org.organization and org.target and org.live
        try:
            written = console.write(org.organization, org.target, org.live.revision)
        except WritesUnsupported:
            refused.set()
            raise
        return _verified(console, org, written)

    outcomes = dict(
        zip(
            map(id, todo),
            concurrently(write, todo, 1 if console.inline else parallelism, progress),
            strict=True,
        )
    )
    return _results(plan, outcomes)


_BATCH = 256  # writes a transaction: a few MiB of documents at most, and progress still moves


def _in_batches(
    todo: list[OrgPlan], console: Console, write_many: WriteMany, progress: Progress | None
) -> list[Written | ConsoleError]:
    """Each batch written in one transaction, then each write verified by a read."""
    outcomes: list[Written | ConsoleError] = []
    refused = False  # the console refuses writes altogether: the rest are not attempted
    for start in range(0, len(todo), _BATCH):
        batch = todo[start : start + _BATCH]
        if refused:
            outcomes += [NotAttempted(_REFUSES)] * len(batch)
            continue
        writes = []
        for org in batch:
            assert org.organization and org.target and org.live
            writes.append((org.organization, org.target, org.live.revision))
        try:
            written: list[Live | ConsoleError] = write_many(writes)
        except WritesUnsupported as refusal:
            refused = True
            outcomes += [
                refusal,
                *[NotAttempted(_REFUSES)] * (len(batch) - 1),
            ]
        except ConsoleError as error:  # the transaction failed: nothing of this batch was written
            outcomes += [error] * len(batch)
        else:
            for org, each in zip(batch, written, strict=True):
                outcomes.append(each if isinstance(each, ConsoleError) else _verified(console, org, each))
        if progress is not None:
            progress(len(outcomes), len(todo))
    return outcomes


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
