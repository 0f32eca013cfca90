"""Applying a plan: one whole-document write per organization that changes, then a re-read that verifies it.

An organization without changes is never written, so a second apply makes zero writes. One organization's
failure does not stop the others, except when the console refuses writes altogether.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from clinesync.consoles.base import Console, ConsoleError, WritesUnsupported
from clinesync.diff import Change, diff
from clinesync.plan import OrgPlan, Plan

Outcome = Literal["applied", "unchanged", "failed", "not attempted"]


@dataclass
class OrgResult:
    plan: OrgPlan
    outcome: Outcome
    error: str | None = None
    revision: str | None = None
    unverified: list[Change] = field(default_factory=list)  # how live differs from what was written


def apply_plan(plan: Plan, console: Console) -> list[OrgResult]:
    results: list[OrgResult] = []
    refused: WritesUnsupported | None = None
    for org in plan.organizations:
        if org.action == "failed":
            results.append(OrgResult(org, "failed", org.error))
        elif not org.changes:
            results.append(OrgResult(org, "unchanged"))
        elif refused is not None:
            results.append(OrgResult(org, "not attempted", str(refused)))
        else:
            try:
                results.append(apply_organization(org, console))
            except WritesUnsupported as error:
                refused = error
                results.append(OrgResult(org, "failed", str(error)))
            except ConsoleError as error:
                results.append(OrgResult(org, "failed", str(error)))
    return results


def apply_organization(org: OrgPlan, console: Console) -> OrgResult:
    assert org.organization and org.target and org.live
    written = console.write(org.organization, org.target, org.live.revision)
    reread = console.read(org.organization)
    live_tree = reread.document.tree() if reread.document else None
    unverified = diff(live_tree, org.target.tree())
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
