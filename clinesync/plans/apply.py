"""Applying a plan: one whole-document write per organization that changes, then a re-read that verifies it.

An organization without changes is never written, so a second apply makes zero writes. One organization's
failure does not stop the others, except when the console refuses writes altogether: then the writes not
yet started are not attempted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal

from clinesync.consoles.base import Console, ConsoleError, Live, NotAttempted, WritesUnsupported
from clinesync.consoles.fleet import DEFAULT_PARALLELISM, Progress, concurrently
from clinesync.diff import Change, diff
from clinesync.plans.plan import OrgPlan, Plan

Outcome = Literal["applied", "unchanged", "failed", "not attempted"]


@dataclass
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
    refused = threading.Event()

    def write(org: OrgPlan) -> tuple[Live, Live]:
        if refused.is_set():
            raise NotAttempted("not attempted: the console refuses writes")
        assert org.organization and org.target and org.live
        try:
            written = console.write(org.organization, org.target, org.live.revision)
        except WritesUnsupported:
            refused.set()
            raise
        return written, console.read(org.organization)

    outcomes = dict(
        zip(
            map(id, todo),
            concurrently(write, todo, 1 if console.inline else parallelism, progress),
            strict=True,
        )
    )
    results = []
    for org in plan.organizations:
        if org.action == "failed":
            results.append(OrgResult(org, "failed", org.error))
        elif not org.changes:
            results.append(OrgResult(org, "unchanged"))
        else:
            results.append(_result(org, outcomes[id(org)]))
    return results


def _result(org: OrgPlan, outcome: tuple[Live, Live] | ConsoleError) -> OrgResult:
    if isinstance(outcome, NotAttempted):
        return OrgResult(org, "not attempted", str(outcome))
    if isinstance(outcome, ConsoleError):
        return OrgResult(org, "failed", str(outcome))
    assert org.target is not None
    written, reread = outcome
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
