"""Plans and drift as markdown for a pull-request comment or a job summary: a hidden marker (so a workflow can
update its earlier comment instead of adding one), a summary line, a section per organization with its file,
changes in a diff block with impact lines first, long sections folded in <details>. Values are masked."""

from __future__ import annotations

from clinesync.escape import code_span
from clinesync.plan import Plan
from clinesync.render.lines import organization_lines
from clinesync.render.text import organization_label, summary

MARKERS = {"plan": "<!-- clinesync-plan -->", "drift": "<!-- clinesync-drift -->"}
_FOLD_AFTER_LINES = 20


def plan_markdown(plan: Plan, mode: str = "plan") -> str:
    headline = summary(plan, mode).split(": ", 1)[-1].rstrip(".")
    out = [MARKERS[mode], f"### clinesync {mode}: {headline}", "", f"Console: {code_span(plan.console)}", ""]
    for org in plan.organizations:
        label = code_span(organization_label(org))
        if org.action == "failed":
            out += [f"#### ❌ {label} failed", "", f"> {code_span(org.error or '')}", ""]
            continue
        if not org.changes:
            continue
        lines = organization_lines(org)
        block = ["```diff", *lines, "```"]
        count = len(org.changes)
        verb = org.action if mode == "plan" else "missing" if org.action == "create" else "drifted"
        out += [f"#### {label}: {verb}, {count} change{'s' if count != 1 else ''}", ""]
        if len(lines) > _FOLD_AFTER_LINES:
            out += ["<details><summary>Show all changes</summary>", "", *block, "", "</details>", ""]
        else:
            out += [*block, ""]
    return "\n".join(out).rstrip("\n") + "\n"
