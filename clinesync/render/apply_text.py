"""Apply results as text: each organization that was not left unchanged, what did not verify, and the count."""

from __future__ import annotations

from clinesync.clients import MEMBERS_PICK_IT_UP
from clinesync.escape import visible
from clinesync.plans.apply import OrgResult, count
from clinesync.plans.display import change_line
from clinesync.render.text import organization_label


def apply_text(console: str, results: list[OrgResult], exit_code: int) -> str:
    out = ["\n"]
    for result in results:
        if result.outcome == "unchanged":
            continue
        out.append(f"{organization_label(result.plan)}: {outcome_text(result)}\n")
        out += [f"    {change_line(change, result.plan.mask)}\n" for change in result.unverified]
    ended = "interrupted" if exit_code > 128 else "complete"  # 128 + a signal: Ctrl-C, SIGTERM
    out.append(
        f"\nApply {ended}: {count(results, 'applied')} applied, {count(results, 'unchanged')} unchanged, "
        f"{count(results, 'failed')} failed, {count(results, 'not attempted')} not attempted.\n"
    )
    return "".join(out)


def members_note(local: bool) -> str:
    """When members get what was applied (SPEC §11): at their next refresh; from a local console, only
    through `clinesync serve`, the one way their Cline reads it."""
    if local:
        return f"Applied to a local console: members' Cline reads it only through `clinesync serve`, where {MEMBERS_PICK_IT_UP}.\n"
    return f"Applied; {MEMBERS_PICK_IT_UP}.\n"


def failure_lines(results: list[OrgResult]) -> str:
    """Each failure as an error line, for stderr (SPEC §3), whatever the format on stdout."""
    return "".join(
        f"Error: {organization_label(result.plan)}: {outcome_text(result)}\n"
        for result in results
        if result.outcome in ("failed", "not attempted")
    )


def outcome_text(result: OrgResult) -> str:
    if result.outcome == "applied":
        revision = (result.revision or "").strip('"')  # an HTTP console's ETag comes quoted
        return f"applied (revision {revision})" if revision else "applied"
    return visible(f"{result.outcome}: {result.error}")
