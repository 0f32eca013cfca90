"""Impact lines: what a reviewer must not miss in a plan, in words (SPEC §4)."""

from __future__ import annotations

from typing import Any

from clinesync.clients import configured_providers
from clinesync.cline import is_loopback
from clinesync.diff import Change
from clinesync.fields import Path, is_url_path
from clinesync.urls import WebUrl, read


def impacts(
    live: dict[str, Any] | None,
    desired: dict[str, Any],
    changes: list[Change],
    from_environment: frozenset[Path],
) -> list[str]:
    if not changes:
        return []
    lines: list[str] = []
    was_enabled = bool(live and live.get("enabled"))
    if desired["enabled"] and not was_enabled:
        lines.append("enabling remote configuration locks every member to these providers")
    elif was_enabled and not desired["enabled"]:
        lines.append(
            "disabling remote configuration unlocks every member's settings and deletes their cached copy"
        )
    lines += _provider_impacts(configured_providers(live), configured_providers(desired))
    for change in changes:
        lines += _url_impacts(change, from_environment)
        if (
            change.path[-1] == "azureIdentity"
            and change.op != "remove"
            and bool(change.after) != bool(change.before)
        ):
            lines.append(
                "Azure identity authentication switched on: members sign in with Entra ID instead of an API key"
                if change.after
                else "Azure identity authentication switched off: members need an API key again"
            )
    return list(dict.fromkeys(lines))


def _provider_impacts(before: list[str], after: list[str]) -> list[str]:
    """What members' provider becomes, as the extension decides it (`clients.py`): a member stays on a
    provider that is still configured; a new member, or one whose provider went, lands on the last one in
    Cline's order; every configured one is selectable."""
    landing = after[-1] if after else None
    lines = []
    for name in (name for name in after if name not in before):
        if len(after) == 1:
            lines.append(f"provider {name} added: every member is forced onto it")
        elif name == landing:
            lines.append(f"provider {name} added: members may pick it, and new members land on it")
        else:
            lines.append(f"provider {name} added: members may pick it")
    for name in (name for name in before if name not in after):
        where = f"members on it move to {landing}" if landing else "members lose it and pick their own again"
        lines.append(f"provider {name} removed: {where}")
    return lines


def _url_impacts(change: Change, from_environment: frozenset[Path]) -> list[str]:
    if change.op == "remove" or not is_url_path(change.path) or not isinstance(change.after, str):
        return []
    where, secret = change.where, change.path in from_environment
    new = _parts(change.after)
    if new is None:
        return []
    lines = []
    old = _parts(change.before) if change.op == "change" else None
    if old is not None and old.host != new.host:
        lines.append(
            f"{where} moves to another host: requests and code go elsewhere"
            if secret
            else f"{where} moves from {old.host} to {new.host}: requests and code go elsewhere"
        )
    if new.scheme == "http" and not is_loopback(new.host):
        lines.append(f"{where} is a plain http:// endpoint: traffic, code and credentials travel unencrypted")
    return lines


def _parts(url: Any) -> WebUrl | None:
    """The URL as members' Cline reads it: the host compared is the one requests go to."""
    return read(url) if isinstance(url, str) else None
