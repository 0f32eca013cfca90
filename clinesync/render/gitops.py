"""The lines `plan`, `apply` and `show` print around a plan: what was reported per organization, refusals, a
saved plan's fate, the wait for an admin's Save. The plan itself is `text.py`'s, `markdown.py`'s or JSON."""

from __future__ import annotations

from clinesync.escape import visible
from clinesync.files.problems import Problem
from clinesync.plans.plan import OrgPlan, Plan
from clinesync.render.text import organization_label


def problem_lines(org: OrgPlan, shown: set[Problem]) -> str:
    """An organization's problems, warnings and console failure, for stderr. A base's problem is shown once
    however many organizations extend it: `shown` keeps those already shown (only a base's: a file's own
    problems come with it alone, and a fleet of them is not held)."""
    lines = []
    own: set[Problem] = set()
    for problem in org.problems:
        seen = own if problem.file == org.file else shown
        if problem not in seen:
            seen.add(problem)
            lines.append(f"{problem}\n")
    lines += [visible(f"Warning: {org.organization}: {warning}") + "\n" for warning in org.warnings]
    if org.action == "failed" and not any(problem.is_error for problem in org.problems):
        # a file's own errors are listed above; this is the console's failure
        lines.append(visible(f"Error: {organization_label(org)}: {org.error}") + "\n")
    return "".join(lines)


def mass_change_refused(plan: Plan) -> str:
    reasons = "".join(f"Error: mass change: {reason}\n" for reason in plan.mass_change)
    return (
        f"{reasons}Refused: a change this large needs a second look. Review it, then apply with "
        "--allow-mass-change. Nothing was written.\n"
    )


def saved_plan_refused(reasons: list[str]) -> str:
    return (
        "".join(f"Error: {reason}\n" for reason in reasons)
        + "The saved plan was not applied. Nothing was written.\n"
    )


def still_differs(moved: list[OrgPlan], every_refusal: bool) -> str:
    """With --manual, for a plan refused as stale: what still differs from the reviewed files where live moved
    while they did not (nothing, where it is done). When those are `every_refusal` of the plan, finishing them
    in the console makes the next run say "Already applied"; an edit someone else made is a reason to plan
    again."""
    from clinesync.plans.display import change_line

    out = []
    for org in moved:
        if not org.changes:
            out.append(
                f"{organization_label(org)}: live moved since the plan and matches the reviewed files\n"
            )
            continue
        out.append(
            f"{organization_label(org)}: live moved since the plan; what still differs from the reviewed files:\n"
        )
        out += [f"    {change_line(change, org.mask)}\n" for change in org.changes]
    if out and every_refusal:
        out.append(
            "If that is the admin's work so far, finish it in the console and run again: it then says Already "
            "applied. If someone else changed live, plan again.\n"
        )
    return "".join(out)


ALREADY_APPLIED = (
    "Already applied: live matches the files and the reviewed plan (in every value output shows) in every "
    "organization it changes.\n"
)


def skipped(count: int) -> str:
    return f"{count} organization(s) the plan leaves unchanged: skipped.\n"


WAVES_APPLIED_SINCE = (
    "This plan has waves: once one of them is applied, the others go wave by wave (clinesync rollout next "
    "PLANFILE, or apply PLANFILE --wave NAME), or plan again.\n"
)


def nothing_to_apply(unchanged: int) -> str:
    """A saved plan that changes nothing: apply reads nothing, so it says nothing of live."""
    if not unchanged:
        return "The reviewed plan changes nothing: nothing to apply.\n"
    return (
        f"The reviewed plan changes nothing: nothing to apply. The {unchanged} organization(s) it leaves unchanged "
        "were not read: `clinesync drift` compares them with live.\n"
    )


def empty_wave(name: str) -> str:
    return f"Wave {visible(name)} changes nothing: nothing to apply.\n"


def plan_saved(path: str, waves: bool = False) -> str:
    if waves:
        return (
            f"Plan saved to {path}, with its waves. Apply them one at a time with: clinesync rollout next {path} "
            f"(clinesync rollout status {path} says where it stands)\n"
        )
    return f"Plan saved to {path}. Apply it with: clinesync apply {path}\n"


def waiting(console: str, timeout: float) -> str:
    return f"\nWaiting until {visible(console)} matches the files (timeout {timeout:g} s)...\n"


def summary_not_written(reason: str) -> str:
    return f"Warning: cannot append to GITHUB_STEP_SUMMARY ({reason})\n"
