"""The console interface: where live state is read and written, one document per organization.

A console implements `read`, `write` and, where it keeps them, `history`. The local SQLite console and the
HTTP console sit behind this one interface, so the same contract tests run against both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from clinesync.document import Document
from clinesync.records import record


class ConsoleError(Exception):
    """A console failure, with a message that says what to do. Never carries a token or a header value."""


class Conflict(ConsoleError):
    """The live document changed since it was read (compare-and-swap or If-Match refused)."""


class NotFound(ConsoleError):
    """The console answered 404 for an organization's path: an organization it does not know, or (for one it
    just served) a path it does not have."""


class ConsoleDown(ConsoleError):
    """A failure that holds for every organization of the run: the console is unreachable or keeps failing
    (through every retry, for a second request), asks to wait past a minute, its TLS certificate is not
    trusted, or it refuses the token. The organizations not yet attempted are not attempted."""


class NotAttempted(ConsoleError):
    """Not tried, because an earlier failure settled it: the console is down, or refuses writes. Its message
    begins with NOT_ATTEMPTED, which a plan's failed organization keeps in its error."""


NOT_ATTEMPTED = "not attempted: "


class WritesUnsupported(ConsoleError):
    """The console has no write endpoint (Cline's hosted console today)."""


class HistoryUnsupported(ConsoleError):
    pass


@record(frozen=True)
class Live:
    """What a console holds for an organization. `document` is None when it has no configuration yet;
    `revision` is the token to send back with a write, or None when the console offers none."""

    document: Document | None
    revision: str | None


def stored_document(
    enabled: bool, value: Any, like: Document | None, decode: Callable[[], dict[str, Any]]
) -> Document:
    """The document a console stores as `value`: `like` itself (or its configuration, where only `enabled`
    differs) where the text is `like`'s wire value, so a fleet in sync is read without decoding; else decoded,
    strictly. Equal texts decode to equal documents, but only a strict text is what Cline reads: one holding
    a number too long for a float64 (a file may lower CS100) is decoded, and refused as the console's."""
    if like is not None and value == _wire_text(like) and not _OVERFLOWING.search(value):
        return like if like.enabled == enabled else Document(enabled, like.config)
    return Document(enabled, decode())


_OVERFLOWING = re.compile(r"\d{309}")  # as many digits as make a number Infinity to JSON.parse (or text)


def _wire_text(document: Document) -> str | None:
    try:
        return document.wire_value()
    except ValueError:  # a NaN or an infinity, which no console can store as JSON
        return None


class Administered(NamedTuple):
    """An organization the token's account can see, as discovery lists it (the name when the console has one)."""

    id: str
    name: str | None = None
    role: str | None = None  # `owner` or `admin`, where the console has roles


class Revision(NamedTuple):
    number: int
    document: Document
    created_at: str


class Console(Protocol):
    @property
    def description(self) -> str:
        """How output names it: `local .clinesync/console.db`, `https://api.cline.bot`."""
        ...

    @property
    def identity(self) -> str:
        """A stable name for saved plans: the absolute database path, or the URL."""
        ...

    @property
    def secrets(self) -> frozenset[str]:
        """Values the console holds that no output may show: its token."""
        ...

    @property
    def inline(self) -> bool:
        """True when reads and writes gain nothing from threads (a local database: they only contend)."""
        ...

    def read(self, organization: str, like: Document | None = None) -> Live:
        """What the console holds for `organization`. `like` is the document the caller expects: where the
        console stores exactly its wire value, the live document shares its configuration."""
        ...

    def write(self, organization: str, document: Document, if_match: str | None) -> Live: ...

    def history(self, organization: str) -> list[Revision]: ...

    def organizations(self) -> list[Administered]:
        """The organizations the token's account administers (Cline: the roles `admin` or `owner` in `GET /api/v1/users/me`)."""
        ...

    def close(self) -> None: ...
