"""Plans, drift and apply results as text for a terminal (SPEC §4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from clinesync.escape import visible
from clinesync.fields import dotted
from clinesync.plans.display import organization_lines
from clinesync.plans.plan import OrgPlan, Plan, Totals, written

if TYPE_CHECKING:  # waves are read only for a plan with a rollout
    from clinesync.files.waves import Rollout

Style = Callable[..., str]  # click.style, or a plain pass-through without color

_HEADINGS = {
    "plan": {"create": "will be created", "update": "will be updated"},
    "drift": {"create": "has no configuration in the console", "update": "has drifted from its file"},
}
_COLORS = {"+": "green", "-": "red", "~": "yellow", "!": "magenta"}


def console_line(description: str) -> str:
    return f"Console: {visible(description)}\n"


def organization_label(org: OrgPlan) -> str:
    details = ", ".join(part for part in (org.name, org.file) if part)
    return visible(f"{org.organization or org.file} ({details})")


def plan_text(
    plan: Plan, style: Style, mode: str = "plan", verbose: bool = False, members: bool = False
) -> str:
    """The plan; with `verbose`, organizations without changes are listed too; with `members`, what each
    organization's members get, before and after (SPEC §11)."""
    return written(TextPlan(style, mode, verbose, members), plan)


class TextPlan:
    """The plan as text, piece by piece as its organizations are decided (the summary last)."""

    def __init__(
        self, style: Style, mode: str = "plan", verbose: bool = False, members: bool = False
    ) -> None:
        self.style, self.mode, self.verbose, self.members = style, mode, verbose, members

    def head(self, totals: Totals) -> str:
        return console_line(totals.console)

    def organization(self, org: OrgPlan) -> str:
        style, out = self.style, []
        if org.action == "failed":
            out.append(
                f"\n{style(organization_label(org), bold=True)} {style('failed', fg='red')}: {visible(org.error or '')}\n"
            )
        elif org.changes:
            out.append(f"\n{style(organization_label(org), bold=True)} {_HEADINGS[self.mode][org.action]}:\n")
            for line in organization_lines(org):
                out.append(f"  {style(line, fg=_COLORS[line[0]], bold=line[0] == '!')}\n")
        elif self.verbose or self.members:
            out.append(f"\n{organization_label(org)} matches its file.\n")
        if self.members:
            from clinesync.render.members import member_lines  # only with --members

            out.extend(f"  {line}\n" for line in member_lines(org.members))
        if self.verbose and org.unmanaged:
            paths = ", ".join(dotted(path) for path in org.unmanaged)
            out.append(f"  unmanaged (left as they are live): {paths}\n")
        return "".join(out)

    def tail(self, totals: Totals) -> str:
        lines = [f"\n{summary(totals, self.mode)}\n"]
        lines += [self.style(f"{line}\n", fg="magenta", bold=True) for line in mass_change_lines(totals)]
        rollout = totals.rollout() if self.mode == "plan" else None
        if rollout is not None:
            lines += [f"{line}\n" for line in wave_lines(rollout)]
        return "".join(lines)


def wave_lines(rollout: Rollout) -> list[str]:
    """The waves the plan's changes are dealt into, in order, as reviewers read them."""
    from clinesync.files.waves import said

    lines = ["Waves (clinesync rollout next applies them one at a time):"]
    for wave in rollout.waves:
        members = rollout.members[wave.name]
        checks = ", ".join(check.label for check in wave.checks) or "no checks"
        lines.append(f"  {wave.name}: {counted(members)}, hold {said(wave.hold)}, {checks}")
    if rollout.unassigned:
        lines.append(f"  in no wave: {len(rollout.unassigned)} organizations (rollout never applies them)")
    return lines


NAMED_PER_WAVE = 5  # organizations a wave names in text and markdown; JSON names them all


def counted(organizations: list[str]) -> str:
    """`3 organizations (org-a, org-b, org-c)`, the first few named and the rest counted."""
    names = ", ".join(organizations[:NAMED_PER_WAVE])
    if len(organizations) > NAMED_PER_WAVE:
        names += f" and {len(organizations) - NAMED_PER_WAVE} more"
    return f"{len(organizations)} organization{'s' if len(organizations) != 1 else ''}" + (
        f" ({names})" if organizations else ""
    )


def mass_change_lines(plan: Totals) -> list[str]:
    """Why the plan is a mass change, and what apply will ask for."""
    if not plan.mass_change:
        return []
    return [
        *(f"! Mass change: {visible(reason)}." for reason in plan.mass_change),
        "! apply refuses it without --allow-mass-change: a change this large needs a second look.",
    ]


def summary(plan: Totals, mode: str = "plan") -> str:
    """The plan's last line: `Plan: 1 organization to update, ..., 3 changes.`"""
    if not plan.has_changes and not plan.failed:
        return headline(plan, mode) + "."
    return f"{'Plan' if mode == 'plan' else 'Drift'}: {headline(plan, mode)}."


def headline(plan: Totals, mode: str = "plan") -> str:
    """What the plan comes to, in words: the summary's counts, and a comment's headline."""
    if not plan.organizations:  # an empty shard, or files that are all bases: nothing was read
        return "No organization files to compare with live: nothing was read"
    if not plan.has_changes and not plan.failed:
        return f"No {'changes' if mode == 'plan' else 'drift'}. Live state matches the files"
    creates, updates = plan.count("create"), plan.count("update")
    parts = [f"{creates} {'to create' if mode == 'plan' else 'missing'}"] if creates else []
    parts.append(f"{updates} to update" if mode == "plan" else f"{updates} drifted")
    parts.append(f"{plan.count('no-op')} unchanged")
    if plan.failed:
        parts.append(f"{plan.count('failed')} failed")
    first = creates or updates
    parts[0] = parts[0].replace(" ", f" organization{'s' if first != 1 else ''} ", 1)
    changes = plan.change_count
    return f"{', '.join(parts)}, {changes} change{'s' if changes != 1 else ''}"
