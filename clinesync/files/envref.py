"""References inside string values (SPEC §1.1): parsing, resolving and escaping.

`${env:NAME}` takes a secret from the environment (`${env:NAME:-default}` falls back to the default);
`${var:NAME}` takes a non-secret value from the project configuration's `variables:` or `--var`. `$${` writes
a literal `${`. Environment references are resolved lazily: `validate` checks their syntax only, so it runs
without secrets; variables are known at load time, so they are substituted before any check.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import NamedTuple

_TOKEN = re.compile(r"\$\$\{|\$\{")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class Reference(NamedTuple):
    source: str  # "env" or "var"
    name: str
    default: str | None = None  # `${env:NAME:-default}`

    def __str__(self) -> str:
        tail = "" if self.default is None else ":-" + self.default
        return "${" + f"{self.source}:{self.name}{tail}" + "}"


class MalformedReference(ValueError):
    """A malformed reference; `offset` is its position in the string."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class UnsetVariable(LookupError):
    def __init__(self, name: str, source: str = "env") -> None:
        super().__init__(name)
        self.name = name
        self.source = source


Part = str | Reference  # literal text, or a reference


@functools.lru_cache(maxsize=4096)  # a fleet's files reference the same keys with the same text
def parse(text: str) -> tuple[Part, ...]:
    """Split `text` into literal pieces and references; raise MalformedReference when malformed."""
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
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(_reference(text[match.end() : close], match.start()))
        position = close + 1
    literal.append(text[position:])
    if "".join(literal) or not parts:
        parts.append("".join(literal))
    return tuple(parts)


def _reference(inner: str, offset: int) -> Reference:
    source, colon, rest = inner.partition(":")
    if source not in ("env", "var") or not colon:
        raise MalformedReference(
            f"'${{{inner}}}' is not a reference: write '${{env:NAME}}' (a secret) or '${{var:NAME}}' "
            "(a variable), or '$${' for a literal '${'",
            offset,
        )
    name, dash, default = rest.partition(":-")
    if not _NAME.match(name):
        what = "environment variable" if source == "env" else "variable"
        raise MalformedReference(f"'{name}' is not a valid {what} name", offset)
    if dash and source == "var":
        raise MalformedReference(
            f"'${{{inner}}}': only environment references take a default; give the variable its value "
            "in clinesync.yaml",
            offset,
        )
    return Reference(source, name, default if dash else None)


def has_reference(text: str) -> bool:
    return "${" in text and any(isinstance(part, Reference) for part in parse(text))


def references(text: str) -> list[Reference]:
    return [part for part in parse(text) if isinstance(part, Reference)] if "${" in text else []


def names(text: str) -> list[str]:
    return [part.name for part in references(text) if part.source == "env"]


def resolve(text: str, environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """The string with environment references replaced, and the values that came from the environment: each
    is secret on its own, not only inside this string (a server may echo back just the key of
    `Bearer ${env:KEY}`). A default used in place of an unset variable is text from the file, not a secret.
    An empty variable is unset, as the shell's `${NAME:-...}` reads it: a CI secret that is not available to
    a job (a fork's pull request) is an empty string, and a credential written empty would lock every
    member out."""
    if "$" not in text:
        return text, []
    pieces, values = [], []
    for part in parse(text):
        if isinstance(part, str):
            pieces.append(part)
        elif part.source == "var":  # substituted at load time: one left here was not defined
            raise UnsetVariable(part.name, "var")
        elif environ.get(part.name):
            pieces.append(environ[part.name])
            values.append(environ[part.name])
        elif part.default is not None:
            pieces.append(part.default)
        else:
            raise UnsetVariable(part.name, part.source)
    return "".join(pieces), values


def substitute_variables(text: str, variables: Mapping[str, str]) -> str:
    """`text` with its `${var:...}` references replaced by their values (written so they stay literal text);
    environment references and escapes stay as written. UnsetVariable for a variable not defined."""
    if "${var:" not in text:
        return text
    pieces = []
    for part in parse(text):
        if isinstance(part, str):
            pieces.append(escape(part))
        elif part.source == "var":
            if part.name not in variables:
                raise UnsetVariable(part.name, "var")
            pieces.append(escape(variables[part.name]))
        else:
            pieces.append(str(part))
    return "".join(pieces)


def escape(text: str) -> str:
    """Write a live value so that it reads back as itself."""
    return text.replace("${", "$${")


def reference(name: str) -> str:
    return "${env:" + name + "}"
