"""Where a staged rollout stands (`rollout status`, `rollout next`), from a reviewed plan, live state and the
console's revision times alone: no state file.

An organization of the plan is `applied` (live is what the plan writes), `pending` (live is as reviewed, the
plan still applies) or `moved` (live or the files changed since the plan). A wave is applied when all of its
organizations are; it then holds for its `hold`, counted from its last organization's newest revision, and its
checks must pass before the next wave may be applied. This module decides; the commands read and check.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping, Sequence
from typing import Literal

from clinesync.consoles.base import Revision
from clinesync.files.waves import Rollout, Wave
from clinesync.plans.plan import Plan
from clinesync.plans.planfile import SavedPlan, desired_fingerprint, files_fingerprint, live_fingerprint
from clinesync.records import evolve, field, record

Standing = Literal["applied", "pending", "moved"]
WaveState = Literal["applied", "partial", "pending", "moved", "empty"]
Verdict = Literal["ready", "holding", "stopped", "complete", "partial", "superseded"]


@record(frozen=True)
class Organization:
    organization: str
    file: str
    standing: Standing
    why: str = ""  # for `moved`: what changed
    superseded: bool = False  # for `moved`: its file changed since the plan (a later plan covers it)
    # for `applied`: when it came to hold the plan's document, where the console keeps revision times
    since: datetime.datetime | None = None
    # the revision before the plan's, which `rollback --to` restores (None where there is none)
    restore: int | None = None
    # its history shows the plan's document live: applied, then changed (by a console edit, or a rollback)
    was_applied: bool = False
    # the revision the plan read: only a revision after it can have been written by the plan
    read_at: int | None = None
    # named or matched by a wave this plan changes nothing in: as it was before the plan, its last change (an
    # earlier plan's, still under test) holds the waves after it, and its checks run, as a wave applied would
    before_plan: bool = False


@record(frozen=True)
class CheckResult:
    label: str
    passed: bool
    detail: str = ""


@record
class WaveStatus:
    wave: Wave
    organizations: list[Organization]
    checks: list[CheckResult] = field(default_factory=list)  # run only once the wave is applied

    @property
    def state(self) -> WaveState:
        standings = {org.standing for org in self.organizations}
        if not standings:
            return "empty"
        if "moved" in standings:
            return "moved"
        if standings == {"applied"}:
            return "applied"
        return "pending" if standings == {"pending"} else "partial"

    @property
    def since(self) -> datetime.datetime | None:
        """When the wave's last organization was applied; None when any has no revision time."""
        times = [org.since for org in self.organizations]
        if not times or any(time is None for time in times):
            return None
        return max(time for time in times if time is not None)

    def hold_ends(self) -> datetime.datetime | None:
        since = self.since
        return since + datetime.timedelta(seconds=self.wave.hold) if since is not None else None

    @property
    def green(self) -> bool:
        return all(check.passed for check in self.checks)


@record
class Status:
    waves: list[WaveStatus]
    unassigned: list[str]
    verdict: Verdict
    wave: WaveStatus | None = None  # the one the verdict is about: to apply, holding, stopped or partial
    reason: str = ""
    now: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.timezone.utc))

    def held(self, wave: WaveStatus) -> bool | None:
        """Whether the wave's hold has passed; None when it is not applied, or its time is not known."""
        ends = wave.hold_ends() if wave.state == "applied" else None
        return None if ends is None else ends <= self.now

    @property
    def applied(self) -> list[Organization]:
        """Every organization the rollout has applied, in wave order, also one changed since: what a rollback
        restores. One put back as it was before the plan (`pending` again) is rolled back already."""
        return [
            org
            for status in self.waves
            for org in status.organizations
            if (org.standing == "applied" or (org.was_applied and org.standing == "moved"))
            and not org.before_plan
        ]


def standings(saved: SavedPlan, fresh: Plan) -> dict[str, Organization]:
    """Each changing organization of the saved plan, by id, as it stands now (`fresh` re-planned them). Its
    file changed since the plan: a later merge, whose plan takes over (`superseded`). Live is what the files
    want: applied, whatever live fields the plan leaves alone did since. Live and the document to write as
    reviewed: pending. Anything else: live moved."""
    by_file = {os.path.normpath(org.file): org for org in fresh.organizations}
    found = {}
    for entry in saved.changing:
        org = by_file.get(os.path.normpath(entry.file))
        standing: Standing = "moved"
        why, superseded = "", False
        if org is None or org.action == "failed":
            why = org.error if org is not None and org.error else "its file could not be planned"
        elif org.organization != entry.organization:
            why, superseded = f"{entry.file} now declares {org.organization}", True
        elif files_fingerprint(org, saved.salt) != entry.files:
            why, superseded = "the files or variables changed since the plan", True
        elif not org.changes:
            standing = "applied"
        elif (
            live_fingerprint(org, saved.salt) == entry.live
            and desired_fingerprint(org, saved.salt) == entry.desired
        ):
            standing = "pending"
        else:
            why = "live changed since the plan, and is not what the plan writes"
        found[entry.organization] = Organization(
            entry.organization, entry.file, standing, why, superseded, read_at=entry.live_revision
        )
    return found


def revision_times(
    revisions: Sequence[Revision], read_at: int | None = None
) -> tuple[datetime.datetime | None, int | None]:
    """From an organization's history (oldest first), applied as it is now: when it became what it holds
    (the first of the newest revisions that all hold it: a Save that changed nothing restarts no hold), and
    the revision a rollback restores (`_before_the_plan`)."""
    if not revisions:
        return None, None
    first = _newest_stretch([revision.document == revisions[-1].document for revision in revisions])
    assert first is not None  # the newest revision holds what it holds
    return _time(revisions[first].created_at), _before_the_plan(revisions, first, read_at)


def plan_in_history(
    revisions: Sequence[Revision], target: str, read_at: int | None = None
) -> tuple[bool, int | None]:
    """Whether the plan's document (canonical `target`) was live after the revision the plan read (`read_at`,
    where known), and the revision a rollback restores (`_before_the_plan`). The same document live before
    the plan (a plan that reverts a change) is not the plan's."""
    first = _newest_stretch([revision.document.canonical() == target for revision in revisions])
    if first is None or (read_at is not None and revisions[first].number <= read_at):
        return False, None
    return True, _before_the_plan(revisions, first, read_at)


def _before_the_plan(revisions: Sequence[Revision], first: int, read_at: int | None) -> int | None:
    """The revision the plan read, where the plan file says and the history has it (an admin's edit put back
    since is newer, and not what came before the plan); otherwise the one before the newest stretch holding
    the plan's document. None where there is none (the plan created the organization)."""
    if read_at is not None and any(revision.number == read_at for revision in revisions):
        return read_at
    return revisions[first - 1].number if first > 0 else None


def _newest_stretch(held: list[bool]) -> int | None:
    """Where the newest run of revisions that hold a document begins (None where none does)."""
    if True not in held:
        return None
    first = len(held) - 1 - held[::-1].index(True)
    while first > 0 and held[first - 1]:
        first -= 1
    return first


def rolled_back(status: Status, organizations: Sequence[Organization]) -> Status:
    """The status, stopped where the wave it would apply (or that is applied in part) holds an organization
    the plan applied and someone put back since (a rollback): the hourly job must not apply the change again,
    and a plan made again would."""
    back = [org for org in organizations if org.was_applied]
    if status.verdict not in ("ready", "partial") or not back:
        return status
    return evolve(status, verdict="stopped", reason=changed_back(back[0]))


def changed_back(org: Organization) -> str:
    """Why a plan never applies `org` again: it applied it, and someone put it back since."""
    return (
        f"{org.organization} ({org.file}) held this plan's document and was changed back since (a rollback?): "
        "plan again to roll the change out anew"
    )


def _time(text: str) -> datetime.datetime | None:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def wave_statuses(rollout: Rollout, found: Mapping[str, Organization]) -> list[WaveStatus]:
    return [
        WaveStatus(wave, [found[org] for org in rollout.members[wave.name] if org in found])
        for wave in rollout.waves
    ]


def decide(waves: list[WaveStatus], unassigned: list[str], now: datetime.datetime) -> Status:
    """What the rollout may do next: apply a wave (`ready`), wait for one to hold (`holding`), nothing more
    (`complete`; `superseded`: the files changed since, a later plan takes over), or nothing until a person
    acts (`stopped`: a check failed or live moved; `partial`: a wave was applied in part)."""

    def status_of(verdict: Verdict, wave: WaveStatus | None, reason: str) -> Status:
        return Status(waves, unassigned, verdict, wave, reason, now)

    # A failing check, or live moved, anywhere stops the rollout, also in a wave applied out of order.
    for status in waves:
        failed = [check for check in status.checks if not check.passed] if status.state == "applied" else []
        if failed:
            detail = f": {failed[0].detail}" if failed[0].detail else ""
            return status_of("stopped", status, f"wave {status.wave.name}: {failed[0].label} failed{detail}")
        live_moved = [org for org in status.organizations if org.standing == "moved" and not org.superseded]
        if live_moved:
            first = live_moved[0]
            return status_of(
                "stopped", status, f"{first.organization} ({first.file}): {first.why}; plan again"
            )
    for index, status in enumerate(waves):
        state = status.state
        if state == "empty":
            continue
        if state == "moved":  # every one moved was superseded: a later merge changed it, its plan takes over
            moved = next(org for org in status.organizations if org.standing == "moved")
            return status_of("superseded", status, f"{moved.organization} ({moved.file}): {moved.why}")
        if state == "partial":
            done = sum(org.standing == "applied" for org in status.organizations)
            reason = (
                f"wave {status.wave.name} is applied in {done} of its {len(status.organizations)} organizations: "
                "plan again, and the new plan deals those still to apply into waves again"
            )
            return status_of("partial", status, reason)
        if state == "pending":
            return status_of("ready", status, f"wave {status.wave.name} may be applied")
        if all(later.state in ("applied", "empty") for later in waves[index + 1 :]):
            continue  # nothing waits for this wave's hold
        ends = status.hold_ends()
        if ends is None:
            reason = (
                f"wave {status.wave.name}: the console keeps no revision times, so its hold cannot be counted"
            )
            return status_of("holding", status, reason)
        if now < ends:
            return status_of("holding", status, f"wave {status.wave.name} is holding")
    return status_of("complete", None, "every wave is applied")
