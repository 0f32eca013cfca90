"""`pull`: what was written where, and what was not and why, as text and JSON. Paths only: a value may be a
secret, and the files' diff shows the values that were written."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from clinesync.escape import visible
from clinesync.fields import dotted
from clinesync.plans.pull import Pull
from clinesync.render.json_format import FORMAT_VERSION
from clinesync.render.text import console_line

_SIGNS = {"add": "+", "remove": "-", "change": "~"}


def pull_text(console: str, result: Pull, written: list[str], failed: bool = False) -> str:
    lines = [console_line(console)]  # the console the values came from, first (SPEC §2)
    for org in result.organizations:
        if not org.pulled and org.error is None:
            continue
        lines.append(f"{org.organization} ({visible(org.file)}):")
        if org.error is not None:
            lines.append(f"  {visible(org.error)}")
        for entry in org.pulled:
            where = dotted(entry.path)
            if entry.file is None:
                lines.append(f"  ! {where}: not written: {visible(entry.why)}")
            else:
                why = f" ({entry.why})" if entry.why else ""
                lines.append(f"  {_SIGNS[entry.op]} {where}: written to {visible(entry.file)}{why}")
    count = sum(len(org.written) for org in result.organizations)
    left = sum(len(org.pulled) for org in result.organizations) - count
    if failed:
        lines += ["", f"Pull: stopped by the errors above; {len(written)} files written."]
    elif not result.differs:
        lines.append("Pull: live matches the files; nothing written.")
    else:
        files = f"{len(written)} file{'s' if len(written) != 1 else ''}"
        lines += [
            "",
            f"Pull: {count} live value{'s' if count != 1 else ''} written into {files}, {left} not written. Review "
            "with git diff and commit to keep the console's edits, or apply the files to undo them.",
        ]
    return "\n".join(lines) + "\n"


def not_written(file: str, why: str) -> str:
    return f"{visible(file)}: not written: {visible(why)}\n"


def pull_json(console: str, result: Pull, written: list[str], failed: bool = False) -> str:
    data: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "console": console,
        "organizations": [
            {
                "organization": org.organization,
                "file": org.file,
                "written": [
                    {"op": entry.op, "path": dotted(entry.path), "file": entry.file, "why": entry.why}
                    for entry in org.written
                ],
                "notWritten": [
                    {"op": entry.op, "path": dotted(entry.path), "why": entry.why}
                    for entry in org.pulled
                    if entry.file is None
                ],
                **({"error": org.error} if org.error else {}),
            }
            for org in result.organizations
        ],
        "files": written,
        "failed": failed,
    }
    return json.dumps(data, indent=2) + "\n"


PULL_RENDERERS: dict[str, Callable[[str, Pull, list[str], bool], str]] = {
    "text": pull_text,
    "json": pull_json,
}
