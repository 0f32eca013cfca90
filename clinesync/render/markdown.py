"""Plans and drift as markdown for a pull-request comment or a job summary.

A hidden marker (so a workflow can update its earlier comment instead of adding one), a summary line, what a
reviewer must not miss (every impact once, counted, and the mass-change verdict; never cut), a table of the
organizations that change, the changes several organizations share shown once with the organizations named,
then a section per organization (folded when long or when there are several). The whole stays within a comment's 65,536
characters whatever the fleet: past that it is cut, and says so and where the full plan is. Text from files
or live is in code spans or diff blocks, where nothing renders as markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from clinesync.escape import code_span, visible
from clinesync.plans.display import organization_lines
from clinesync.plans.plan import OrgPlan, Plan, Totals, written
from clinesync.records import field, record
from clinesync.render.markers import MARKERS
from clinesync.render.members import member_lines
from clinesync.render.text import NAMED_PER_WAVE, headline, mass_change_lines, organization_label

if TYPE_CHECKING:  # waves are read only for a plan with a rollout
    from clinesync.files.waves import Rollout

MAX_COMMENT = 65_536  # GitHub refuses a longer comment
_FOLD_AFTER_LINES = 20
_NAMED = 10  # organizations named beside a shared line; the rest counted
_CUT_RESERVE = 600  # room kept for the note that says what was cut
_TRACKED = 20_000  # distinct impact or shared lines followed; a line first seen past them is not grouped
# Where a reader finds what a comment had to leave out.
_WHOLE = {
    "plan": "the full plan is in this run's artifacts (the saved plan renders with `clinesync show PLANFILE`)",
    "drift": "`clinesync drift --format json` (or text) gives every organization",
}


def plan_markdown(plan: Plan, mode: str = "plan", members: bool = False, limit: int = MAX_COMMENT) -> str:
    return written(MarkdownPlan(mode, members, limit), plan)


@record
class Named:
    """How many organizations share a line, and the first few of them by file."""

    count: int = 0
    files: list[str] = field(default_factory=list)

    def add(self, file: str) -> None:
        self.count += 1
        if len(self.files) < _NAMED:
            self.files.append(file)


class MarkdownPlan:
    """The plan as markdown, taken organization by organization and written whole at the end (what a reviewer
    must not miss comes first). It keeps only what a comment can still show: table rows and sections while
    they fit in one, and each impact and shared line once, with its organizations counted and the first ten
    named; so a plan of 100,000 organizations costs no more memory than one of a hundred."""

    def __init__(self, mode: str = "plan", members: bool = False, limit: int = MAX_COMMENT) -> None:
        self.mode, self.members, self.limit = mode, members, limit
        self._console = ""
        self._listed = self._changing = 0  # organizations failed or changing; changing
        self._rows: list[str] = []
        self._failed_rows: list[str] = []
        self._failures: dict[str, Named] = {}  # each failure's reason once, with its organizations
        self._failures_untracked = 0  # failures whose reason was first met past _TRACKED others
        self._sections: list[list[str]] = []
        self._first_open: list[str] = []  # the first section unfolded: shown so if it is the only one
        self._kept_rows = self._kept_sections = self._cut_rows = self._cut_sections = 0
        self._impacts: dict[str, Named] = {}
        self._untracked = 0  # impact lines met past the first _TRACKED distinct ones
        self._sharing: dict[str, Named] = {}

    def head(self, totals: Totals) -> str:
        self._console = totals.console
        return ""

    def organization(self, org: OrgPlan) -> str:
        if not (org.action == "failed" or org.changes):
            return ""
        self._listed += 1
        lines = organization_lines(org) if org.changes else []
        self._changing += bool(lines)
        for line in dict.fromkeys(lines):
            # An impact goes in its own block; a field inside a block means nothing on its own.
            tracked = self._impacts if line.startswith("!") else None
            if tracked is None and not line[1:].startswith("     "):
                tracked = self._sharing
            if tracked is not None and (line in tracked or len(tracked) < _TRACKED):
                tracked.setdefault(line, Named()).add(visible(org.file))
            elif tracked is self._impacts:
                self._untracked += 1  # said, counted, under the block that is never cut
        result = "failed" if org.action == "failed" else _verb(org, self.mode)
        row = f"| {_cell(organization_label(org))} | {result} | {len(org.changes)} |"
        if org.action == "failed":
            self._failed_rows.append(row)  # every one, first in the table: a reviewer must see each failure
            reason = visible(org.error or "")
            if reason in self._failures or len(self._failures) < _TRACKED:
                self._failures.setdefault(reason, Named()).add(visible(org.file))
            else:
                self._failures_untracked += 1  # counted in the Failed block's last line
        elif self._kept_rows + len(row) + 1 <= self.limit:
            self._rows.append(row)
            self._kept_rows += len(row) + 1
        else:
            self._cut_rows += 1
        members = _members(org) if self.members else []
        if self._listed == 1:  # unfolded if it stays the only one
            self._first_open = _section(org, lines, self.mode, folded=False) + members
        section = _section(org, lines, self.mode, folded=True) + members
        if self._kept_sections + _size(section) <= self.limit:
            self._sections.append(section)
            self._kept_sections += _size(section)
        else:
            self._cut_sections += 1
        return ""

    def tail(self, totals: Totals) -> str:
        limit, mode = self.limit, self.mode
        head = [
            MARKERS[mode],
            f"### clinesync {mode}: {headline(totals, mode)}",
            "",
            f"Console: {code_span(self._console)}",
            "",
        ]
        # What a reviewer must not miss comes right after the headline, and is never cut.
        whole = _WHOLE[mode]
        head += _must_not_miss(totals, self._impacts, self._changing > 1, (limit - _CUT_RESERVE) // 2, whole)
        head += _failed(self._failures, self._failures_untracked, (limit - _CUT_RESERVE) // 8, whole)
        rollout = totals.rollout() if mode == "plan" else None
        if rollout is not None:
            head += rollout_lines(rollout)
        if self._untracked:
            head += [
                f"{self._untracked} more impact lines, each first met past {_TRACKED:,} others: {whole}.",
                "",
            ]
        sections = self._sections
        if self._listed == 1 and sections:
            sections = [self._first_open]
        shared = _shared(self._sharing, (limit - _CUT_RESERVE) // 4, whole) if self._changing > 1 else []
        table = ["| organization | result | changes |", "|---|---|---:|", *self._failed_rows, *self._rows, ""]
        if self._listed <= 1:
            table = []
        cut = (self._cut_rows, self._cut_sections)
        body = _within(head, table, shared, sections, limit - _CUT_RESERVE, cut, whole)
        return "\n".join(body).rstrip("\n") + "\n"


def rollout_lines(rollout: Rollout) -> list[str]:
    """The waves, in order, for the comment: merging applies the first; `rollout next` each of the others once
    the one before has held and passed its checks. A few organizations named per wave, the others counted."""
    from clinesync.files.waves import said

    lines = [
        "**Rollout:** merging applies the first wave; `clinesync rollout next` applies each next one once the "
        "wave before it has held and passed its checks.",
        "",
        "| wave | organizations | hold | checks |",
        "|---|---|---|---|",
    ]
    for wave in rollout.waves:
        members = rollout.members[wave.name]
        named = ", ".join(code_span(org) for org in members[:NAMED_PER_WAVE])
        more = len(members) - NAMED_PER_WAVE
        shown = f"{len(members)}: {named}" + (f" and {more} more" if more > 0 else "") if members else "none"
        checks = ", ".join(_cell(check.label) for check in wave.checks) or "none"
        lines.append(f"| {_cell(wave.name)} | {shown} | {said(wave.hold)} | {checks} |")
    if rollout.unassigned:
        lines.append(
            f"\n{len(rollout.unassigned)} changing organizations are in no wave: `rollout next` never applies "
            "them (add a last wave without organizations, paths or share to take the rest)."
        )
    return [*lines, ""]


def _must_not_miss(
    totals: Totals, impacts: dict[str, Named], several: bool, budget: int, whole: str
) -> list[str]:
    """Every impact line once, with how many organizations it concerns and which, and the mass-change
    verdict. Within `budget` (half a comment) whatever the fleet: past it, the organizations are counted, not
    named; past that, the verdict stays and the impact lines are kept while they fit."""
    verdict = mass_change_lines(totals)
    if not impacts and not verdict:
        return []
    return _bounded(
        ["**Must not miss:**", ""],
        verdict,
        lambda naming: [line + (_who(named, naming) if several else "") for line, named in impacts.items()],
        (several, False),
        budget,
        "impact lines",
        whole,
    )


def _failed(failures: dict[str, Named], untracked: int, budget: int, whole: str) -> list[str]:
    """Each failure's reason once, with the organizations it concerns: a run that could not read a thousand
    organizations says why once, and the reason survives any cut (it is part of the head). Within `budget`:
    the organizations counted past it, then the first reasons that fit."""
    if not failures:
        return []
    lines: list[str] = []
    for naming in (True, False):
        lines = [f"- {code_span(reason)} {_who(named, naming).strip()}" for reason, named in failures.items()]
        if _size(lines) <= budget and not untracked:
            return ["**Failed:**", "", *lines, ""]
    fitting = _fitting(lines, budget - 200)
    more = len(lines) - len(fitting) + untracked
    return ["**Failed:**", "", *fitting, f"{more} more failures, of other reasons: {whole}.", ""]


def _bounded(
    title: list[str],
    kept: list[str],
    grouped: Callable[[bool], list[str]],
    namings: tuple[bool, ...],
    budget: int,
    what: str,
    whole: str,
) -> list[str]:
    """`title` and a diff block of `kept`, then the grouped lines within `budget`: with the organizations
    named, else counted, else the first that fit and how many more `what` there are."""
    lines: list[str] = []
    for naming in namings:
        lines = grouped(naming)
        block = [*title, "```diff", *kept, *lines, "```", ""]
        if _size(block) <= budget:
            return block
    fitting = _fitting(lines, budget - _size([*title, "```diff", *kept, "```", "", ""]) - 200)
    more = f"{len(lines) - len(fitting)} more {what}: {whole}."
    return [*title, "```diff", *kept, *fitting, "```", more, ""]


def _fitting(lines: list[str], budget: int) -> list[str]:
    """The first lines that fit in `budget` characters."""
    used = 0
    for count, line in enumerate(lines):
        used += len(line) + 1
        if used > budget:
            return lines[:count]
    return lines


def _who(named: Named, naming: bool) -> str:
    """`(3 organizations: orgs/a.yaml, orgs/b.yaml, orgs/c.yaml)`, at most ten named."""
    count = f"{named.count} organization{'s' if named.count != 1 else ''}"
    if not naming and named.count > 1:  # one is named as briefly as it is counted
        return f"    ({count})"
    more = f" and {named.count - _NAMED} more" if named.count > _NAMED else ""
    return f"    ({count}: {', '.join(named.files)}{more})"


def _within(
    head: list[str],
    table: list[str],
    shared: list[str],
    sections: list[list[str]],
    budget: int,
    cut: tuple[int, int],
    whole: str,
) -> list[str]:
    """As much as fits: the head, the table (its rows cut at need, so that what several organizations share
    still shows after it), the shared changes, then whole sections in order. `cut`: the table rows and
    sections already left out."""
    out, used = list(head), _size(head) + _size(shared)
    cut_rows, cut_sections = cut
    for row in table:
        if used + len(row) + 1 > budget:
            cut_rows += 1
            continue
        out.append(row)
        used += len(row) + 1
    out += shared
    for section in sections:
        if used + _size(section) > budget:
            cut_sections += 1
            continue
        out += section
        used += _size(section)
    if cut_rows or cut_sections:
        out += [
            "",
            f"**Cut to fit a comment:** {cut_rows} table rows and {cut_sections} organizations' sections "
            f"are not shown; {whole}.",
        ]
    return out


def _size(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def _shared(sharing: dict[str, Named], budget: int, whole: str) -> list[str]:
    """Changes that several organizations' plans share, once each with how many share it and which: within
    `budget` (a quarter of a comment), the organizations counted, not named, and then the rarest cut."""
    common = sorted(
        ((named, line) for line, named in sharing.items() if named.count > 1),
        key=lambda pair: (-pair[0].count, pair[1]),
    )
    if not common:
        return []
    return _bounded(
        ["Changes several organizations share:", ""],
        [],
        lambda naming: [line + _who(named, naming) for named, line in common],
        (True, False),
        budget,
        "shared changes",
        whole,
    )


def _section(org: OrgPlan, lines: list[str], mode: str, folded: bool) -> list[str]:
    label = code_span(organization_label(org))
    if org.action == "failed":
        return [f"#### ❌ {label} failed", "", f"> {code_span(org.error or '')}", ""]
    count = len(org.changes)
    heading = [f"#### {label}: {_verb(org, mode)}, {count} change{'s' if count != 1 else ''}", ""]
    impacts = [line for line in lines if line.startswith("!")]
    changes = [line for line in lines if not line.startswith("!")]
    if not (folded or len(changes) > _FOLD_AFTER_LINES):
        return [*heading, "```diff", *lines, "```", ""]
    # What a reviewer must not miss stays open; the changes fold.
    opened = ["```diff", *impacts, "```", ""] if impacts else []
    block = ["```diff", *changes, "```"]
    return [
        *heading,
        *opened,
        "<details><summary>Show the changes</summary>",
        "",
        *block,
        "",
        "</details>",
        "",
    ]


def _members(org: OrgPlan) -> list[str]:
    """The member view, folded, in a fence no text inside it can close."""
    lines = member_lines(org.members)
    if not lines:
        return []
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [
        "<details><summary>What members get</summary>",
        "",
        f"{fence}text",
        *lines,
        fence,
        "",
        "</details>",
        "",
    ]


def _verb(org: OrgPlan, mode: str) -> str:
    return org.action if mode == "plan" else "missing" if org.action == "create" else "drifted"


def _cell(text: str) -> str:
    """A table cell: a code span, with `|` escaped so that it cannot end the cell."""
    return code_span(text).replace("|", "\\|")
