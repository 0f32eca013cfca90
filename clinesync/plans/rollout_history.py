"""What the console's revision history tells a rollout: when an applied organization came to hold the plan's
document, and whether one that no longer holds it did once (put back since, by a rollback). Read here, for
`rollout status`, `rollout next` and `apply PLANFILE` alike, so they never disagree; `rollout.py` decides."""

from __future__ import annotations

from clinesync.consoles.base import Console, HistoryUnsupported, NotFound, Revision
from clinesync.plans.plan import Plan
from clinesync.plans.planfile import SavedPlan
from clinesync.plans.rollout import Organization, changed_back, plan_in_history, revision_times, standings
from clinesync.records import evolve


def put_back(console: Console, saved: SavedPlan, fresh: Plan) -> str | None:
    """Why the saved plan, made with waves, may not be applied now (as a whole or a wave): an organization it
    applied and someone put back since (a rollback), which it never applies again; None when there is none."""
    documents = targets(fresh)
    for org in standings(saved, fresh).values():
        if in_history(console, org, documents.get(org.organization, "")).was_applied:
            return changed_back(org)
    return None


def targets(fresh: Plan) -> dict[str, str]:
    """Each organization's document to write, canonical, as the history is searched for it."""
    return {
        org.organization: org.target.canonical()
        for org in fresh.organizations
        if org.organization and org.target
    }


def in_history(console: Console, org: Organization, target: str) -> Organization:
    """The organization, with whether its history shows the plan's document live, and what came before."""
    revisions = _revisions(console, org)
    if revisions is None:
        return org
    was_applied, restore = plan_in_history(revisions, target, org.read_at)
    return evolve(org, was_applied=was_applied, restore=restore)


def with_times(console: Console, org: Organization) -> Organization:
    """The applied organization, with when it came to hold the plan's document and what came before."""
    revisions = _revisions(console, org)
    if revisions is None:
        return org
    since, restore = revision_times(revisions, org.read_at)
    return evolve(org, since=since, restore=restore)


def _revisions(console: Console, org: Organization) -> list[Revision] | None:
    """The organization's history; None where the console keeps none (a 404 for one it just served). Any
    other failure is the caller's, as a ConsoleError."""
    try:
        return console.history(org.organization)
    except (HistoryUnsupported, NotFound):
        return None
