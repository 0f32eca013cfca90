"""What output may show (SPEC §4): a fact about values and fields, applied by plans and renderers alike.

A value written in the file is shown unless it is sensitive: from `${env:...}`, or a credential by its name.
A live value is shown only where the field never holds a secret (ids, names, booleans, numbers, enums): a
console cannot say which of its values were secrets, so clinesync does not guess in the reader's disfavour.
A URL is shown with its userinfo and query values masked, on either side, so the host it moves from and to
stays reviewable.
"""

from __future__ import annotations

import functools
import re
from typing import Any, NamedTuple

from clinesync.diff import Change
from clinesync.fields import (
    PUBLIC_TEXT_FIELDS,
    Path,
    children,
    is_header_path,
    is_sensitive_path,
    is_url_path,
)
from clinesync.scrub import SENSITIVE

SENSITIVE_CHANGED = "(sensitive value changed)"


def is_sensitive(path: Path, from_environment: frozenset[Path]) -> bool:
    return path in from_environment or is_sensitive_path(path)


class Mask(NamedTuple):
    """How one organization's changes are shown: `before` is live; `after` is the file's, or, for a rollback,
    a stored revision, which is live too."""

    from_environment: frozenset[Path] = frozenset()
    after_is_live: bool = False
    already_masked: bool = False  # a saved plan's changes, masked when it was made
    public_headers: frozenset[str] = frozenset()  # the project's `publicHeaders`, lower-cased

    def before(self, value: Any, path: Path) -> Any:
        if self.already_masked:
            return value
        return masked(value, path, self.from_environment, live=True, public_headers=self.public_headers)

    def after(self, value: Any, path: Path) -> Any:
        if self.already_masked:
            return value
        live = self.after_is_live
        return masked(value, path, self.from_environment, live=live, public_headers=self.public_headers)


class MaskedChange(NamedTuple):
    """A change as output may show it: what may not be shown replaced by `(sensitive)`."""

    op: str
    path: str
    before: Any
    after: Any
    sensitive: bool


def mask_change(change: Change, mask: Mask) -> MaskedChange:
    before, after = mask.before(change.before, change.path), mask.after(change.after, change.path)
    sensitive = before != change.before or after != change.after
    return MaskedChange(change.op, change.where, before, after, sensitive)


def masked(
    value: Any,
    path: Path,
    from_environment: frozenset[Path],
    live: bool = False,
    public_headers: frozenset[str] = frozenset(),
) -> Any:
    """A copy of `value` with every part output may not show replaced by `(sensitive)`."""
    if value is None:
        return None
    if is_sensitive(path, from_environment):
        return SENSITIVE
    if isinstance(value, dict):
        return {
            key: masked(child, path + (key,), from_environment, live, public_headers)
            for key, child in value.items()
        }
    if isinstance(value, list):
        return [
            masked(child, where, from_environment, live, public_headers)
            for where, child in children(value, path, identified=True)
        ]
    if isinstance(value, str) and is_url_path(path):
        return masked_url(value, live)
    if live and not (is_public_header(path, public_headers) or _public(value, path)):
        return SENSITIVE
    return value


def is_public_header(path: Path, public_headers: frozenset[str]) -> bool:
    """A header the project names under `publicHeaders`; a credential-looking name is never one."""
    return is_header_path(path) and str(path[-1]).lower() in public_headers and not is_sensitive_path(path)


def _public(value: Any, path: Path) -> bool:
    """A live value whose field never holds a secret. Fields unknown to this version may hold anything."""
    from clinesync.contract import field_schema  # the schema is loaded only when a live value is shown

    node = field_schema(path)
    if node is None or is_header_path(path):
        return False
    if isinstance(value, (bool, int, float)):
        return True
    return isinstance(value, str) and (path[-1] in PUBLIC_TEXT_FIELDS or "enum" in node or "pattern" in node)


@functools.lru_cache(maxsize=4096)  # a fleet's organizations share their gateways and servers
def masked_url(url: str, live: bool = True) -> str:
    """The URL with userinfo and query values replaced (and, live, token-looking path segments and the
    fragment): the host shown is the one Node (and so Cline) sends requests to, whatever the text makes a
    reader see. Where Node reads the text as it is written, the rest is shown as written (`${env:...}` in a
    path stays readable); elsewhere as Node reads it. A live value that is not a URL is not shown."""
    from urllib.parse import urlsplit

    from clinesync.urls import misreading, read

    parts = read(url)
    if parts is None or not parts.host:
        return SENSITIVE if live else url
    path, query, fragment = parts.path, parts.query, parts.fragment
    if misreading(url) is None:
        written = urlsplit(url)
        path, query, fragment = written.path, written.query, written.fragment
    userinfo = f"{SENSITIVE}@" if parts.has_userinfo else ""
    port = f":{parts.port}" if parts.port else ""
    query = "&".join(
        f"{pair.split('=', 1)[0]}={SENSITIVE}" if "=" in pair else pair for pair in query.split("&") if pair
    )
    if live:  # a console cannot say which path segment is a token (a webhook's, a gateway's): guess safe
        path = "/".join(SENSITIVE if looks_like_a_token(segment) else segment for segment in path.split("/"))
        fragment = SENSITIVE if fragment else ""
    shown = f"{parts.scheme}://{userinfo}{parts.host}{port}{path}"
    return shown + (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")


_TOKEN_CHARACTERS = re.compile(r"[A-Za-z0-9_\-+=.~%]{20,}")
_HEX = re.compile(r"[0-9a-fA-F]{32,}")


def looks_like_a_token(segment: str) -> bool:
    """Long and random-looking: 20+ URL-safe characters mixing upper case, lower case and digits, or 32+ hex
    digits. Deployment and model names (`gpt-4o-2024-08-06`) mix fewer kinds and stay readable."""
    if _HEX.fullmatch(segment):
        return True
    if not _TOKEN_CHARACTERS.fullmatch(segment):
        return False
    return (
        any(c.isupper() for c in segment)
        and any(c.islower() for c in segment)
        and any(c.isdigit() for c in segment)
    )
