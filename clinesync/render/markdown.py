"""Plans as markdown for a pull-request comment: a summary line, a section per organization, changes in a diff
block with impact lines first, long plans folded."""

from __future__ import annotations

from clinesync.plan import Plan
from clinesync.render.lines import change_line
from clinesync.render.text import organization_label, summary

MARKER = "<!-- clinesync-plan -->"
_FOLD_AFTER_LINES = 20


def plan_markdown(plan: Plan, mode: str = "plan") -> str:
    title = "clinesync plan" if mode == "plan" else "clinesync drift"
    out = [MARKER, f"### {title}: {summary(plan, mode)}", "", f"Console: `{plan.console}`", ""]
    for org in plan.organizations:
        if org.action == "failed":
            out += [f"#### ❌ `{organization_label(org)}` failed", "", f"> {org.error}", ""]
            continue
        if not org.changes:
            continue
        lines = [f"! {impact}" for impact in org.impacts]
        lines += [change_line(change, org.sensitive) for change in org.changes]
        block = ["```diff", *lines, "```"]
        out.append(f"#### `{organization_label(org)}`: {org.action}, {len(org.changes)} changes")
        out.append("")
        if len(lines) > _FOLD_AFTER_LINES:
            out += ["<details><summary>Show all changes</summary>", "", *block, "", "</details>"]
        else:
            out += block
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
