"""An organization's revisions as a table for people and as JSON for programs (`clinesync history`), and what
a rollback to the revision live holds already says."""

from __future__ import annotations

from typing import Any

from clinesync import strictjson
from clinesync.consoles.base import Revision
from clinesync.escape import visible
from clinesync.render.json_format import FORMAT_VERSION
from clinesync.render.text import console_line


def history_text(console: str, organization: str, revisions: list[Revision]) -> str:
    out = [console_line(console), "\n"]
    if not revisions:
        return "".join([*out, f"{organization} has no revisions.\n"])
    out.append(f"{'REVISION':<10}{'CREATED':<27}{'ENABLED':<9}PROVIDERS\n")
    for index, revision in enumerate(revisions):
        current = "  (current)" if index == len(revisions) - 1 else ""
        providers = visible(", ".join(_providers(revision.document.config))) or "-"
        enabled = str(revision.document.enabled).lower()
        out.append(
            f"{revision.number:<10}{visible(revision.created_at):<27}{enabled:<9}{providers}{current}\n"
        )
    return "".join(out)


def history_json(console: str, organization: str, revisions: list[Revision]) -> str:
    entries = [
        {
            "revision": revision.number,
            "enabled": revision.document.enabled,
            "created_at": revision.created_at,
            "providers": _providers(revision.document.config),
        }
        for revision in revisions
    ]
    document = {
        "format_version": FORMAT_VERSION,
        "console": console,
        "organization": organization,
        "revisions": entries,
    }
    return strictjson.dumps(document, indent=2) + "\n"


def already_restored(console: str, organization: str, revision: int) -> str:
    """A rollback with nothing to write: live holds that revision's document. Of the files nothing is said:
    after a rollback they usually say otherwise, which `drift` tells."""
    return (
        f"{console_line(console)}\n{organization} holds revision {revision}'s document already: nothing to roll "
        "back. (Whether that is what its files say is drift's to tell: clinesync drift.)\n"
    )


def _providers(config: dict[str, Any]) -> list[str]:
    settings = config.get("providerSettings")
    return sorted(settings) if isinstance(settings, dict) else []


# history's --format: the one table that also builds the option's choices.
HISTORY_RENDERERS = {"text": history_text, "json": history_json}
