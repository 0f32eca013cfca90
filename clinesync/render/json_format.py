"""Plans as a documented, versioned JSON object (SPEC §4); see docs for the format."""

from __future__ import annotations

from typing import Any

from clinesync import strictjson
from clinesync.plan import OrgPlan, Plan
from clinesync.render.lines import mask_change

FORMAT_VERSION = "1"


def organization_json(org: OrgPlan) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "organization": org.organization,
        "name": org.name,
        "file": org.file,
        "action": org.action,
        "changes": [mask_change(change, org.mask).__dict__ for change in org.changes],
        "impacts": org.impacts,
        "warnings": org.warnings + [str(problem) for problem in org.problems if not problem.is_error],
    }
    if org.error is not None:
        entry["error"] = org.error
    return entry


def summary_json(plan: Plan) -> dict[str, int]:
    return {
        "organizations": len(plan.organizations),
        "create": plan.count("create"),
        "update": plan.count("update"),
        "no_op": plan.count("no-op"),
        "failed": plan.count("failed"),
        "changes": plan.change_count,
    }


def plan_json(plan: Plan, extra: dict[str, Any] | None = None) -> str:
    document = {
        "format_version": FORMAT_VERSION,
        "console": plan.console,
        "organizations": [organization_json(org) for org in plan.organizations],
        "summary": summary_json(plan),
        **(extra or {}),
    }
    return strictjson.dumps(document, indent=2, ensure_ascii=False) + "\n"
