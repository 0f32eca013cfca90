"""The Redactor, the last line of defence: every known secret value scrubbed from text, in every form a console
or an endpoint may echo it (JSON-escaped, URL-encoded). A small utility that imports nothing of clinesync's:
the output layer's one writer scrubs all it prints, and consoles and the probe scrub what they echo where they
read it, before any other layer holds it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

SENSITIVE = "(sensitive)"
_SHORTEST_SECRET = 4  # shorter values would scrub ordinary words out of the output


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


def clipped(text: str, redact: Redactor, limit: int = 300) -> str:
    """Text echoed from elsewhere, on one line, scrubbed and then cut: cutting first could leave a prefix of a
    secret that the scrubbing no longer recognises. JSON escapes in it are read first (`\\/`, `\\u0073`), as
    often as they nest: a console may echo a request in any escaping JSON allows, and a secret must be found
    in each."""
    text = redact(" ".join(_json_unescaped(redact(text), redact).split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


_JSON_ESCAPE = re.compile(r'\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))')
_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _json_unescaped(text: str, redact: Redactor, rounds: int = 3) -> str:
    """`text` with its JSON string escapes read, up to `rounds` levels deep (JSON inside JSON inside an error),
    and scrubbed after each.
    A `\\u` escape of half a surrogate pair is left as written: it is no character on its own."""

    def read(match: re.Match[str]) -> str:
        code, simple = match.groups()
        if code is not None:
            number = int(code, 16)
            return match.group(0) if 0xD800 <= number <= 0xDFFF else chr(number)
        return _SIMPLE_ESCAPES.get(simple, simple)

    for _ in range(rounds):  # scrubbed after each round: a secret may hold what reads as an escape
        if "\\" not in text:
            break
        text = redact(_JSON_ESCAPE.sub(read, text))
    return text


def _forms(secret: str) -> list[str]:
    """The secret as written, and as it appears escaped in JSON (a RemoteConfig value is JSON inside JSON,
    so twice) or encoded in a URL: a console that echoes a request back shows it in any of these."""
    from urllib.parse import quote

    once = json.dumps(secret)[1:-1]
    twice = json.dumps(once)[1:-1]
    return list(dict.fromkeys((secret, once, twice, quote(secret, safe=""))))
