"""The member view (SPEC §11) as lines, for text and markdown: per client, each part members get after the
change, and what it was where it differs."""

from __future__ import annotations

from typing import Any

from clinesync import strictjson
from clinesync.clients import CLINE_CHECKED
from clinesync.escape import visible

_PARTS = ("provider", "selectable", "locked", "mcpServers", "instructions", "telemetry", "uploads")


def member_lines(members: dict[str, Any] | None) -> list[str]:
    """`members` ({"before", "after"} per client) as lines: `=` a part members keep, `~` one that changes
    (with what it was), `x` a part of the document no client applies."""
    if not members:
        return []
    before, after = members.get("before"), members.get("after")
    if not isinstance(before, dict) or not isinstance(after, dict):
        return ["members: not readable in this plan file"]
    lines = [f"members ({CLINE_CHECKED}):"]
    for client in after:
        lines.append(f"  {client}:")
        was, now = before.get(client), after[client]
        if not isinstance(was, dict) or not isinstance(now, dict):
            lines.append("    not readable in this plan file")
            continue
        for part in _PARTS:
            if was.get(part) == now.get(part):
                lines.append(f"    = {part}: {_shown(now.get(part))}")
            else:
                lines.append(f"    ~ {part}: {_shown(now.get(part))} (was {_shown(was.get(part))})")
        for skipped in now.get("notApplied") or []:
            if isinstance(skipped, dict):
                lines.append(
                    f"    x {visible(str(skipped.get('path')))}: {visible(str(skipped.get('reason')))}"
                )
    return lines


def _shown(value: Any) -> str:
    if value in (None, [], {}):
        return "none"
    return visible(value if isinstance(value, str) else strictjson.dumps(value, separators=(", ", ": ")))
