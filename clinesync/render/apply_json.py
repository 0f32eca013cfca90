"""Apply results as a documented, versioned JSON object (`apply --format json`; docs/json-format.md)."""

from __future__ import annotations

from typing import Any

from clinesync import strictjson
from clinesync.masking import mask_change
from clinesync.plans.apply import OrgResult, count

FORMAT_VERSION = "1"


def apply_json(console: str, results: list[OrgResult], exit_code: int) -> str:
    document = {
        "format_version": FORMAT_VERSION,
        "console": console,
        "organizations": [_organization(result) for result in results],
        "summary": {
            "applied": count(results, "applied"),
            "unchanged": count(results, "unchanged"),
            "failed": count(results, "failed"),
            "not_attempted": count(results, "not attempted"),
            "exit_code": exit_code,
        },
    }
    return strictjson.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _organization(result: OrgResult) -> dict[str, Any]:
    org = result.plan
    return {
        "organization": org.organization,
        "name": org.name,
        "file": org.file,
        "outcome": result.outcome,
        "error": result.error,
        "revision": (result.revision or "").strip('"') or None,
        "changes": [mask_change(change, org.mask)._asdict() for change in org.changes],
        "unverified": [mask_change(change, org.mask)._asdict() for change in result.unverified],
    }
