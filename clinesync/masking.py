"""What output may show. Values from `${env:...}` and credentials by name are sensitive (SPEC §4): they show
as `(sensitive)`. The Redactor is the last line of defence: it scrubs known secret values from any text."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from clinesync.fields import Path, children, is_sensitive_path, walk_identified

SENSITIVE = "(sensitive)"
SENSITIVE_CHANGED = "(sensitive value changed)"
_SHORTEST_SECRET = 4  # shorter values would scrub ordinary words out of the output


def is_sensitive(path: Path, from_environment: frozenset[Path]) -> bool:
    return path in from_environment or is_sensitive_path(path)


def holds_sensitive(value: Any, path: Path, from_environment: frozenset[Path]) -> bool:
    """True when `value` at `path`, or anything inside it, is sensitive."""
    return any(is_sensitive(where, from_environment) for where, _ in walk_identified(value, path))


def masked(value: Any, path: Path, from_environment: frozenset[Path]) -> Any:
    """A copy of `value` with every sensitive part replaced by `(sensitive)`."""
    if value is None:
        return None
    if is_sensitive(path, from_environment):
        return SENSITIVE
    if isinstance(value, dict):
        return {key: masked(child, path + (key,), from_environment) for key, child in value.items()}
    if isinstance(value, list):
        return [
            masked(child, where, from_environment) for where, child in children(value, path, identified=True)
        ]
    return value


class Redactor:
    """Replaces every known secret value in text with `(sensitive)`. Given a set, it follows that set, so
    secrets learnt later (a console's token, a plan's values) are scrubbed too."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = secrets if isinstance(secrets, set) else set(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        self._secrets.update(secrets)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            if len(secret) < _SHORTEST_SECRET:
                continue
            for form in _forms(secret):
                if form in text:
                    text = text.replace(form, SENSITIVE)
        return text


def _forms(secret: str) -> list[str]:
    """The secret as written, and as it appears escaped in JSON (a RemoteConfig value is JSON inside JSON,
    so twice) or encoded in a URL: a console that echoes a request back shows it in any of these."""
    from urllib.parse import quote

    once = json.dumps(secret)[1:-1]
    twice = json.dumps(once)[1:-1]
    return list(dict.fromkeys((secret, once, twice, quote(secret, safe=""))))
