"""`${env:NAME}` references inside string values (SPEC §1.1): parsing, resolving and escaping.

`$${` writes a literal `${`. Resolution is lazy: `validate` checks syntax only, so it runs without secrets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_TOKEN = re.compile(r"\$\$\{|\$\{")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class MalformedReference(ValueError):
    """A malformed reference; `offset` is its position in the string."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class UnsetVariable(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


Part = tuple[str, bool]  # (text, True when text is a variable name)


def parse(text: str) -> list[Part]:
    """Split `text` into literal pieces and variable names; raise MalformedReference when malformed."""
    parts: list[Part] = []
    literal, position = [], 0
    for match in _TOKEN.finditer(text):
        if match.start() < position:
            continue
        literal.append(text[position : match.start()])
        if match.group() == "$${":
            literal.append("${")
            position = match.end()
            continue
        close = text.find("}", match.end())
        if close < 0:
            raise MalformedReference(
                "unterminated '${': close it with '}' or write '$${' for a literal '${'", match.start()
            )
        inner = text[match.end() : close]
        if not inner.startswith("env:"):
            raise MalformedReference(
                f"'${{{inner}}}' is not a reference: write '${{env:NAME}}', or '$${{' for a literal '${{'",
                match.start(),
            )
        name = inner[4:]
        if not _NAME.match(name):
            raise MalformedReference(f"'{name}' is not a valid environment variable name", match.start())
        if literal:
            parts.append(("".join(literal), False))
            literal = []
        parts.append((name, True))
        position = close + 1
    literal.append(text[position:])
    if "".join(literal) or not parts:
        parts.append(("".join(literal), False))
    return parts


def has_reference(text: str) -> bool:
    return "${" in text and any(is_name for _, is_name in parse(text))


def names(text: str) -> list[str]:
    return [piece for piece, is_name in parse(text) if is_name]


def resolve(text: str, environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """The string with references replaced, and the values that came from the environment: each is secret on
    its own, not only inside this string (a server may echo back just the key of `Bearer ${env:KEY}`)."""
    if "$" not in text:
        return text, []
    pieces, values = [], []
    for piece, is_name in parse(text):
        if is_name:
            if piece not in environ:
                raise UnsetVariable(piece)
            pieces.append(environ[piece])
            values.append(environ[piece])
        else:
            pieces.append(piece)
    return "".join(pieces), values


def escape(text: str) -> str:
    """Write a live value so that it reads back as itself."""
    return text.replace("${", "$${")


def reference(name: str) -> str:
    return "${env:" + name + "}"
