"""Plans as a documented, versioned JSON object (SPEC §4); see docs for the format.

It is written as its organizations are decided: the object's head, each organization, then the summary, in
the very bytes one `json.dumps(..., indent=2)` of the whole would give."""

from __future__ import annotations

from typing import Any

from clinesync import strictjson
from clinesync.plans.plan import OrgPlan, Plan, Totals, organization_data, written

FORMAT_VERSION = "1"


def summary_json(totals: Totals) -> dict[str, int]:
    return {
        "organizations": totals.organizations,
        "create": totals.count("create"),
        "update": totals.count("update"),
        "no_op": totals.count("no-op"),
        "failed": totals.count("failed"),
        "changes": totals.change_count,
    }


def plan_json(plan: Plan) -> str:
    return written(JsonPlan(), plan)


class JsonPlan:
    """The plan's JSON, piece by piece."""

    def __init__(self) -> None:
        self._first = True

    def head(self, totals: Totals) -> str:
        head = {"format_version": FORMAT_VERSION, "console": totals.console}
        return strictjson.open_object(head, "organizations")

    def organization(self, org: OrgPlan) -> str:
        separator = "\n" if self._first else ",\n"
        self._first = False
        return separator + strictjson.item(organization_data(org))

    def tail(self, totals: Totals) -> str:
        rest: dict[str, Any] = {"summary": summary_json(totals), "mass_change": list(totals.mass_change)}
        rollout = totals.rollout()
        if rollout is not None:
            rest["rollout"] = rollout.data()
        return strictjson.close_object(rest, empty=self._first)
