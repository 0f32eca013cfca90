"""The Redactor, the last line of defence: every known secret value scrubbed from text, in every form a console
or an endpoint may echo it (JSON-escaped, URL-encoded). A small utility that imports nothing of clinesync's:
the output layer's one writer scrubs all it prints, and consoles and the probe scrub what they echo where they
read it, before any other layer holds it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable

SENSITIVE = "(sensitive)"
_SHORTEST_SECRET = 4  # shorter values would scrub ordinary words out of the output
_SCANNED_ONE_BY_ONE = 64  # up to this many forms, one search of the text each is quicker than one pass


class Redactor:
    """Replaces every known secret value in text with `(sensitive)`. Given a set, it follows that set, so
    secrets learnt later (a console's token, a plan's values) are scrubbed too.

    Its cost follows the text, not the secrets: a streamed plan scrubs each organization's lines apart, and a
    fleet exported with a variable per organization knows thousands of secrets."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = secrets if isinstance(secrets, set) else set(secrets)
        self._built_for = -1  # how many secrets the tables below hold: the set only ever grows
        self._forms: list[str] = []  # every form of every secret, longest secret first
        self._starting: dict[str, list[str]] = {}  # the same forms by their first characters

    def add(self, secrets: Iterable[str]) -> None:
        self._secrets.update(secrets)

    def __call__(self, text: str) -> str:
        if len(self._secrets) != self._built_for:
            self._build()
        if len(self._forms) <= _SCANNED_ONE_BY_ONE:
            for form in self._forms:
                if form in text:
                    text = text.replace(form, SENSITIVE)
            return text
        return self._in_one_pass(text)

    def _build(self) -> None:
        secrets = sorted((s for s in self._secrets if len(s) >= _SHORTEST_SECRET), key=len, reverse=True)
        self._forms = list(dict.fromkeys(form for secret in secrets for form in _forms(secret)))
        self._starting = {}
        for form in self._forms:
            self._starting.setdefault(form[:_SHORTEST_SECRET], []).append(form)
        self._built_for = len(self._secrets)

    def _in_one_pass(self, text: str) -> str:
        """Left to right, each place where a form starts replaced (the longest secret's first), so thousands of
        secrets cost one look-up per character, not one search of the text each."""
        out: list[str] = []
        start, position, end = 0, 0, len(text) - _SHORTEST_SECRET + 1
        starting = self._starting
        while position < end:
            candidates = starting.get(text[position : position + _SHORTEST_SECRET])
            found = (
                next((form for form in candidates if text.startswith(form, position)), None)
                if candidates
                else None
            )
            if found is None:
                position += 1
                continue
            out += (text[start:position], SENSITIVE)
            position = start = position + len(found)
        return "".join(out) + text[start:] if out else text


def clipped(text: str, redact: Callable[[str], str], limit: int = 300) -> str:
    """Text echoed from elsewhere, on one line, scrubbed and then cut: cutting first could leave a prefix of a
    secret that the scrubbing no longer recognises. JSON escapes in it are read first (`\\/`, `\\u0073`), as
    often as they nest: a console may echo a request in any escaping JSON allows, and a secret must be found
    in each."""
    text = redact(" ".join(_json_unescaped(redact(text), redact).split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


_JSON_ESCAPE = re.compile(r'\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))')
_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _json_unescaped(text: str, redact: Callable[[str], str], rounds: int = 3) -> str:
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
    so twice), encoded in a URL, or in a Python library's error about it (`Illegal header value b'...'`): a
    console or an endpoint that echoes a request back, or an HTTP library refusing it, shows it so."""
    from urllib.parse import quote

    python = repr(secret)[1:-1], repr(secret.encode("utf-8", "backslashreplace"))[2:-1]
    forms = []
    for written in dict.fromkeys((secret, *python)):
        once = json.dumps(written)[1:-1]
        forms += [written, once, json.dumps(once)[1:-1], quote(written, safe="")]
    return list(dict.fromkeys(forms))
