"""Plans: per organization, what apply would change, computed from the files and the live console.

`plan_organization` is pure; `make_plan` feeds it files and live documents. A plan never writes.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol

from clinesync.clients import member_views
from clinesync.consoles.base import Console, ConsoleError, Live
from clinesync.consoles.fleet import DEFAULT_PARALLELISM, Pool, Progress
from clinesync.diff import Change, diff
from clinesync.document import Document, same
from clinesync.fields import Path, dotted, find
from clinesync.files.batch import iter_checked
from clinesync.files.desired import Desired
from clinesync.files.problems import Problem
from clinesync.files.project import Project
from clinesync.masking import Mask, mask_change
from clinesync.plans.impacts import classes, impacts
from clinesync.records import evolve, field, record, remembers_last

if TYPE_CHECKING:
    from clinesync.files.waves import Rollout, Wave

Action = Literal["create", "update", "no-op", "failed"]


@record(frozen=True)
class OrgPlan:
    file: str
    organization: str | None
    name: str | None = None
    action: Action = "failed"
    changes: list[Change] = field(default_factory=list)
    impacts: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)  # the impact lines' classes (`impacts.CLASSES`)
    warnings: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    error: str | None = None
    desired: Desired | None = None
    live: Live | None = None
    target: Document | None = None  # what apply writes: the desired document plus kept unknown fields
    saved: bool = False  # read back from a plan file: its changes were masked when it was made
    origins: Mapping[Path, str] = field(default_factory=dict)  # change path -> the base file:line that set it
    unmanaged: tuple[Path, ...] = ()  # left as they are live
    saved_members: dict[str, Any] | None = None  # read back from a plan file: the member views as reviewed
    saved_lines: list[str] | None = None  # read back from a plan file: its lines as reviewed

    @functools.cached_property
    def members(self) -> dict[str, Any] | None:
        """What members' Cline runs with before and after (SPEC §11), per client, masked as changes are."""
        if self.saved:
            return self.saved_members
        if self.action == "failed":
            return None
        live = self.live.document.tree() if self.live and self.live.document else None
        after = self.target.tree() if self.target else None
        mask = self.mask

        def before(value: Any, path: Path) -> Any:
            # A live value the change keeps is shown as the file's is: live header values are hidden and the
            # file's literal ones are not, and the same headers would read as a change members see.
            kept = after is not None and find(after, path) == value
            return mask.after(value, path) if kept else mask.before(value, path)

        return {"before": member_views(live, before), "after": member_views(after, mask.after)}

    @property
    def mask(self) -> Mask:
        """How this organization's changes are shown (SPEC §4)."""
        if self.saved:
            return Mask(already_masked=True)
        if self.desired is None:
            return Mask()
        return Mask(
            self.desired.sensitive,
            after_is_live=self.desired.from_console,
            public_headers=self.desired.public_headers,
        )

    @property
    def disables(self) -> bool:
        """Whether this plan turns remote configuration off."""
        return any(change.path == ("enabled",) and change.after is False for change in self.changes)

    @property
    def removes_provider(self) -> bool:
        """Whether a provider block goes: on its own, or with the providerSettings or remoteConfig that held
        it."""
        for change in self.changes:
            if change.op != "remove":
                continue
            if len(change.path) == 3 and change.path[:2] == _PROVIDERS:
                return True
            held = change.before.get(_PROVIDERS[1]) if isinstance(change.before, dict) else None
            if (change.path == _PROVIDERS[:1] and held) or (change.path == _PROVIDERS and change.before):
                return True
        return False


_PROVIDERS = ("remoteConfig", "providerSettings")


@record
class Totals:
    """What a plan comes to, counted as its organizations go by: all that its summary, headline and
    mass-change verdict need, so that a streamed plan can end without holding its organizations."""

    console: str
    console_identity: str
    prune_unknown: bool = False
    organizations: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    change_count: int = 0
    disabling: int = 0  # organizations whose remote configuration the plan turns off
    removing: int = 0  # organizations that lose a provider
    # What makes it a mass change (massChange:): apply then asks for --allow-mass-change.
    mass_change: tuple[str, ...] = ()
    # The project's waves (rollout:), and the changing organizations they are dealt (id, file): kept only
    # where there are waves.
    waves: tuple[Wave, ...] = ()
    root: str = "."
    changing: list[tuple[str, str]] = field(default_factory=list)
    dealt: Rollout | None = None  # a saved plan's waves, as it was reviewed

    def add(self, org: OrgPlan) -> None:
        self.organizations += 1
        self.actions[org.action] = self.actions.get(org.action, 0) + 1
        self.change_count += len(org.changes)
        self.disabling += org.disables
        self.removing += org.removes_provider
        if self.waves and org.changes and org.organization:
            self.changing.append((org.organization, org.file))

    def rollout(self) -> Rollout | None:
        """The waves the changing organizations fall in; None without rollout:."""
        if self.dealt is not None or not self.waves:
            return self.dealt
        from clinesync.files.waves import deal

        return deal(self.waves, self.changing, self.root)

    def count(self, action: Action) -> int:
        return self.actions.get(action, 0)

    @property
    def has_changes(self) -> bool:
        return self.change_count > 0

    @property
    def failed(self) -> bool:
        return self.count("failed") > 0


@record
class Plan:
    console: str
    console_identity: str
    organizations: list[OrgPlan]
    prune_unknown: bool = False
    mass_change: tuple[str, ...] = ()  # as Totals.mass_change
    rollout: Rollout | None = None  # a saved plan's waves

    @functools.cached_property
    def totals(self) -> Totals:
        totals = Totals(
            self.console,
            self.console_identity,
            self.prune_unknown,
            mass_change=self.mass_change,
            dealt=self.rollout,
        )
        for org in self.organizations:
            totals.add(org)
        return totals

    def count(self, action: Action) -> int:
        return self.totals.count(action)

    @property
    def change_count(self) -> int:
        return self.totals.change_count

    @property
    def has_changes(self) -> bool:
        return self.totals.has_changes

    @property
    def failed(self) -> bool:
        return self.totals.failed

    @property
    def secrets(self) -> set[str]:
        return {secret for org in self.organizations if org.desired for secret in org.desired.secrets}


class PlanPieces(Protocol):
    """A plan's rendering, written as its organizations are decided: each method returns the text to write."""

    def head(self, totals: Totals) -> str: ...

    def organization(self, org: OrgPlan) -> str: ...

    def tail(self, totals: Totals) -> str: ...


def written(pieces: PlanPieces, plan: Plan) -> str:
    """A plan held whole, rendered at once by the pieces that stream it."""
    parts = [pieces.head(plan.totals), *map(pieces.organization, plan.organizations)]
    return "".join(parts) + pieces.tail(plan.totals)


@remembers_last  # the JSON output and the plan file each take it
def organization_data(org: OrgPlan) -> dict[str, Any]:
    """An organization's plan as data output and saved plans may hold: changes masked (SPEC §4)."""
    mask = org.mask  # made once: a property that builds a Mask each time it is read
    entry: dict[str, Any] = {
        "organization": org.organization,
        "name": org.name,
        "file": org.file,
        "action": org.action,
        "changes": [_change_data(change, mask, org.origins) for change in org.changes],
        "impacts": org.impacts,
        "classes": org.classes,
        "warnings": org.warnings + [str(problem) for problem in org.problems if not problem.is_error],
        "members": org.members,
    }
    if org.error is not None:
        entry["error"] = org.error
    return entry


def _change_data(change: Change, mask: Mask, origins: Mapping[Path, str]) -> dict[str, Any]:
    data = mask_change(change, mask)._asdict()
    origin = origins.get(change.path)
    if origin is not None:
        data["origin"] = origin
    return data


def plan_organization(desired: Desired, live: Live, prune_unknown: bool = False) -> OrgPlan:
    desired_tree = desired.document.tree()
    live_tree = live.document.tree() if live.document else None
    target_tree, warnings = desired_tree, []
    # Live as the files want it (a fleet in sync, drift's usual night): no change, and no field the schema
    # does not know, since the desired document passed it; one comparison, no walk for unknown fields. A
    # read like the desired document is that document where the console stores exactly its text.
    in_sync = live.document is desired.document or (live_tree is not None and same(live_tree, desired_tree))
    if live_tree is not None and not prune_unknown and not in_sync:
        from clinesync.plans.unknown import keep_unknown, unknown_fields  # only for a live organization

        unknown = unknown_fields(live_tree)
        if unknown:
            target_tree, kept = keep_unknown(desired_tree, live_tree, unknown)
            warnings = [
                f"live field {dotted(path)} is not known to this version of clinesync: kept "
                "(--prune-unknown removes it)"
                for path in kept
            ]
    if desired.unmanaged and not in_sync:
        from clinesync.plans.unmanaged import keep_unmanaged

        target_tree = keep_unmanaged(target_tree, live_tree, desired.unmanaged)
    changes = [] if in_sync else diff(live_tree, target_tree)
    action: Action = "create" if live_tree is None else "update" if changes else "no-op"
    found = impacts(live_tree, target_tree, changes, desired.sensitive)  # what members get: unmanaged kept
    return OrgPlan(
        file=desired.file,
        organization=desired.organization,
        name=desired.name,
        action=action,
        changes=changes,
        impacts=[impact.line for impact in found],
        classes=classes(found),
        warnings=warnings,
        desired=desired,
        live=live,
        # The desired document itself when nothing live is kept: a saved plan then fingerprints it once.
        target=desired.document if target_tree is desired_tree else Document.from_tree(target_tree),
        origins=desired.origins,
        unmanaged=desired.unmanaged,
    )


def make_plan(
    paths: list[str],
    console: Console,
    environ: Mapping[str, str],
    prune_unknown: bool = False,
    parallelism: int = DEFAULT_PARALLELISM,
    progress: Progress | None = None,
    project: Project | None = None,
) -> Plan:
    """The whole plan, every organization's held: for apply, which writes them after one confirmation."""
    organizations = iter_plan(paths, console, environ, prune_unknown, parallelism, progress, project)
    return Plan(console.description, console.identity, list(organizations), prune_unknown)


def iter_plan(
    paths: list[str],
    console: Console,
    environ: Mapping[str, str],
    prune_unknown: bool = False,
    parallelism: int = DEFAULT_PARALLELISM,
    progress: Progress | None = None,
    project: Project | None = None,
) -> Iterator[OrgPlan]:
    """Each organization's plan, in path order, as soon as it is decided. Each file is checked and resolved (in
    worker processes for a fleet) and its one read sent to the pool as it comes, so checking the next file
    overlaps the wait; an organization is diffed here once its read is back. Only the reads in flight are
    held, never the fleet: a caller that renders each plan and lets it go plans 100,000 in flat memory."""
    project = project or Project()
    reads = Pool(1 if console.inline else parallelism, len(paths), progress)
    ahead = 4 * parallelism  # reads in flight at most: enough to keep every thread busy
    waiting: deque[tuple[OrgPlan, Desired | None]] = deque()

    def settled(wait: bool) -> Iterator[OrgPlan]:
        """The plans at the head whose read is back; with `wait`, all of them, waiting for the reads."""
        while waiting:
            org, desired = waiting[0]
            if desired is not None and not (wait or reads.ready() or reads.waiting > ahead):
                return
            waiting.popleft()
            yield org if desired is None else _decided(org, desired, reads.next(), prune_unknown)

    with reads.closing():
        # Checking is left to the workers, one for each core: this process has each organization's read,
        # diff, impact lines and rendering to do, a share that is long for a fleet of creates and short for
        # one in sync. Measured on 2 cores against this process checking files beside one worker: 0.85x the
        # wall at 100,000 creates on the embedded console, 0.87x at 1,000; against one worker alone, 0.73x
        # at 10,000 in sync, and about the same for creates, where this process's share is the longer.
        for checked in iter_checked(paths, project, environ, share=False):
            org = OrgPlan(checked.path, checked.organization, checked.name, problems=checked.problems)
            desired = checked.desired
            if desired is None:
                org = evolve(org, error=_first_error(checked.problems))
            else:
                reads.submit(functools.partial(console.read, like=desired.document), desired.organization)
            waiting.append((org, desired))
            yield from settled(wait=False)
        yield from settled(wait=True)


def _decided(org: OrgPlan, desired: Desired, live: Live | ConsoleError, prune_unknown: bool) -> OrgPlan:
    if isinstance(live, ConsoleError):
        return evolve(org, desired=desired, error=str(live))
    return evolve(plan_organization(desired, live, prune_unknown), problems=org.problems)


def plan_rollback(console: Console, organization: str, revision: int) -> Plan:
    """The plan that restores an earlier revision as a new one; ConsoleError when the console has no such
    revision. Both sides come from the console, which cannot say which values were secrets: both are shown as
    live values are (SPEC §4), so a base URL's move stays visible and its credentials do not."""
    revisions = {stored.number: stored for stored in console.history(organization)}
    if revision not in revisions:
        known = ", ".join(map(str, revisions)) or "none"
        raise ConsoleError(f"{organization} has no revision {revision} (revisions: {known})")
    restored = Desired(
        f"revision {revision}", organization, None, revisions[revision].document, from_console=True
    )
    org = plan_organization(restored, console.read(organization), prune_unknown=True)
    return Plan(console.description, console.identity, [org], prune_unknown=True)


def _first_error(problems: list[Problem]) -> str:
    """The first error and where it is, as a review reads it; how many more there are (validate lists them)."""
    errors = [problem for problem in problems if problem.is_error]
    first = f"{errors[0].message} ({errors[0].file}:{errors[0].line}:{errors[0].column})"
    more = len(errors) - 1
    return f"{first}, and {more} more error{'s' if more > 1 else ''}" if more else first
