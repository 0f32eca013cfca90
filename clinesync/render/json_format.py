"""Plans as a documented, versioned JSON object (SPEC §4); see docs for the format."""

from __future__ import annotations

from typing import Any

from clinesync import strictjson
from clinesync.plans.plan import Plan, organization_data

FORMAT_VERSION = "1"


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
        "organizations": [organization_data(org) for org in plan.organizations],
        "summary": summary_json(plan),
        "mass_change": list(plan.mass_change),
        **(extra or {}),
    }
    return strictjson.dumps(document, indent=2, ensure_ascii=False) + "\n"
