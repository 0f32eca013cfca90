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

from clinesync.escape import code_span, visible
from clinesync.plans.display import organization_lines
from clinesync.plans.plan import OrgPlan, Plan
from clinesync.render.markers import MARKERS
from clinesync.render.members import member_lines
from clinesync.render.text import headline, mass_change_lines, organization_label

MAX_COMMENT = 65_536  # GitHub refuses a longer comment
_FOLD_AFTER_LINES = 20
_NAMED = 10  # organizations named beside a shared line; the rest counted
_CUT_RESERVE = 600  # room kept for the note that says what was cut
_FULL_PLAN = (
    "the full plan is in this run's artifacts (the saved plan renders with `clinesync show PLANFILE`)"
)


def plan_markdown(plan: Plan, mode: str = "plan", members: bool = False, limit: int = MAX_COMMENT) -> str:
    listed = [org for org in plan.organizations if org.action == "failed" or org.changes]
    lines = {id(org): organization_lines(org) for org in listed if org.changes}
    head = [
        MARKERS[mode],
        f"### clinesync {mode}: {headline(plan, mode)}",
        "",
        f"Console: {code_span(plan.console)}",
        "",
    ]
    # What a reviewer must not miss comes right after the headline, and is never cut.
    head += _must_not_miss(plan, listed, lines, (limit - _CUT_RESERVE) // 2)
    sections = [_section(org, lines.get(id(org), []), mode, folded=len(listed) > 1) for org in listed]
    if members:
        sections = [section + _members(org) for org, section in zip(listed, sections, strict=True)]
    shared = _shared(listed, lines, (limit - _CUT_RESERVE) // 4) if len(lines) > 1 else []
    table = _table(listed, mode) if len(listed) > 1 else []
    body = _within(head, table, shared, sections, limit - _CUT_RESERVE)
    return "\n".join(body).rstrip("\n") + "\n"


def _must_not_miss(plan: Plan, listed: list[OrgPlan], lines: dict[int, list[str]], budget: int) -> list[str]:
    """Every impact line once, with how many organizations it concerns and which, and the mass-change
    verdict. Within `budget` (half a comment) whatever the fleet: past it, the organizations are counted, not
    named; past that, the verdict stays and the impact lines are kept while they fit."""
    impacts: dict[str, list[OrgPlan]] = {}
    for org in listed:
        for line in lines.get(id(org), []):
            if line.startswith("!"):
                impacts.setdefault(line, []).append(org)
    verdict = mass_change_lines(plan)
    if not impacts and not verdict:
        return []
    several = len(lines) > 1
    return _bounded(
        ["**Must not miss:**", ""],
        verdict,
        lambda naming: [line + (_who(orgs, naming) if several else "") for line, orgs in impacts.items()],
        (several, False),
        budget,
        "impact lines",
    )


def _bounded(
    title: list[str],
    kept: list[str],
    grouped: Callable[[bool], list[str]],
    namings: tuple[bool, ...],
    budget: int,
    what: str,
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
    more = f"{len(lines) - len(fitting)} more {what}: {_FULL_PLAN}."
    return [*title, "```diff", *kept, *fitting, "```", more, ""]


def _fitting(lines: list[str], budget: int) -> list[str]:
    """The first lines that fit in `budget` characters."""
    used = 0
    for count, line in enumerate(lines):
        used += len(line) + 1
        if used > budget:
            return lines[:count]
    return lines


def _who(orgs: list[OrgPlan], naming: bool) -> str:
    """`(3 organizations: orgs/a.yaml, orgs/b.yaml, orgs/c.yaml)`, at most ten named."""
    count = f"{len(orgs)} organization{'s' if len(orgs) != 1 else ''}"
    if not naming:
        return f"    ({count})"
    names = ", ".join(visible(org.file) for org in orgs[:_NAMED])
    more = f" and {len(orgs) - _NAMED} more" if len(orgs) > _NAMED else ""
    return f"    ({count}: {names}{more})"


def _within(
    head: list[str], table: list[str], shared: list[str], sections: list[list[str]], budget: int
) -> list[str]:
    """As much as fits: the head, the table (its rows cut at need, so that what several organizations share
    still shows after it), the shared changes, then whole sections in order."""
    out, used = list(head), _size(head) + _size(shared)
    cut_rows = cut_sections = 0
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
            f"are not shown; {_FULL_PLAN}.",
        ]
    return out


def _size(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def _table(listed: list[OrgPlan], mode: str) -> list[str]:
    rows = ["| organization | result | changes |", "|---|---|---:|"]
    for org in listed:
        result = "failed" if org.action == "failed" else _verb(org, mode)
        rows.append(f"| {_cell(organization_label(org))} | {result} | {len(org.changes)} |")
    return [*rows, ""]


def _shared(listed: list[OrgPlan], lines: dict[int, list[str]], budget: int) -> list[str]:
    """Changes that several organizations' plans share, once each with how many share it and which: within
    `budget` (a quarter of a comment), the organizations counted, not named, and then the rarest cut."""
    sharing: dict[str, list[OrgPlan]] = {}
    for org in listed:
        for line in dict.fromkeys(lines.get(id(org), [])):
            # An impact is in the block above; a field inside a block means nothing on its own.
            if not line.startswith("!") and not line[1:].startswith("     "):
                sharing.setdefault(line, []).append(org)
    common = sorted(
        ((orgs, line) for line, orgs in sharing.items() if len(orgs) > 1),
        key=lambda pair: (-len(pair[0]), pair[1]),
    )
    if not common:
        return []
    return _bounded(
        ["Changes several organizations share:", ""],
        [],
        lambda naming: [line + _who(orgs, naming) for orgs, line in common],
        (True, False),
        budget,
        "shared changes",
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
