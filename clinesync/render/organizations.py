"""`clinesync organizations`: what the token can manage, beside what this repository manages."""

from __future__ import annotations

from collections.abc import Callable

from clinesync import strictjson
from clinesync.escape import visible
from clinesync.records import record


@record(frozen=True)
class Listed:
    organization: str
    name: str | None
    role: str | None
    file: str | None  # the file here that declares it
    live: bool  # listed by the console; False for a file whose organization it does not list


def organizations_text(console: str, listed: list[Listed]) -> str:
    rows = [("ORGANIZATION", "NAME", "ROLE", "FILE")]
    rows += [
        (
            entry.organization,
            entry.name or "-",
            entry.role or "-",
            (entry.file or "(no file here)") if entry.live else f"{entry.file} (not listed by the console)",
        )
        for entry in listed
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [
        visible(
            "  ".join(
                [*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[3]]
            ).rstrip()
        )
        for row in rows
    ]
    live = [entry for entry in listed if entry.live]
    filed = sum(1 for entry in live if entry.file)
    unlisted = len(listed) - len(live)
    summary = (
        f"{len(live)} organization{'s' if len(live) != 1 else ''} the token manages: {filed} with a file here, "
        f"{len(live) - filed} without"
    )
    if unlisted:
        files = "1 file here names" if unlisted == 1 else f"{unlisted} files here name"
        summary += f"; {files} an organization the console does not list"
    return f"Console: {visible(console)}\n\n" + "\n".join(lines) + f"\n\n{summary}.\n"


def organizations_json(console: str, listed: list[Listed]) -> str:
    document = {
        "format_version": "1",
        "console": console,
        "organizations": [
            {"organization": entry.organization, "name": entry.name, "role": entry.role, "file": entry.file}
            for entry in listed
            if entry.live
        ],
        "files_not_listed": [
            {"organization": entry.organization, "file": entry.file} for entry in listed if not entry.live
        ],
    }
    return strictjson.dumps(document, indent=2, ensure_ascii=False) + "\n"


ORGANIZATION_RENDERERS: dict[str, Callable[[str, list[Listed]], str]] = {
    "text": organizations_text,
    "json": organizations_json,
}
