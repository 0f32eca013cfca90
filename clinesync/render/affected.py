"""`clinesync affected` as text and as versioned JSON."""

from __future__ import annotations

from clinesync import strictjson
from clinesync.escape import visible
from clinesync.files.affected import Impact

FORMAT_VERSION = "1"


def affected_text(impact: Impact) -> str:
    lines = [
        visible(f"{found.file} ({found.organization or 'no organization'}): {'; '.join(found.reasons)}")
        for found in impact.organizations
    ]
    lines += [
        visible(
            f"{name} ({organization or 'no organization'}): deleted or moved out of the organization files: no longer managed, its live state is kept"
        )
        for name, organization in impact.removed
    ]
    count = len(impact.organizations)
    lines.append(
        f"{count} organization{'s' if count != 1 else ''} affected, {len(impact.removed)} no longer managed."
    )
    return "\n".join(lines) + "\n"


def affected_json(impact: Impact, since: str) -> str:
    document = {
        "format_version": FORMAT_VERSION,
        "since": since,
        "organizations": [
            {"file": found.file, "organization": found.organization, "reasons": list(found.reasons)}
            for found in impact.organizations
        ],
        "removed": [{"file": name, "organization": organization} for name, organization in impact.removed],
    }
    return strictjson.dumps(document, indent=2) + "\n"
