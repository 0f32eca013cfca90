"""Consoles: where live state is. `open_console` picks one from `--console` (SPEC §2)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from clinesync.consoles.base import Console, ConsoleError
from clinesync.consoles.local import DEFAULT_PATH, LocalConsole


def open_console(
    target: str | None,
    token_file: str | None = None,
    environ: Mapping[str, str] = os.environ,
    secrets: set[str] | None = None,
    insecure_http: bool = False,
    read_only: bool = False,
) -> Console:
    """The embedded local console when `target` is empty; a database path or `sqlite:PATH`; an http(s) URL,
    with its token from `token_file` or CLINE_API_KEY (never from an argument). `secrets` is the run's set
    of known secrets, which errors echoed by an HTTP console are scrubbed of. `read_only` opens a local
    console without writing anything, and a missing one is an error unless it is the default."""
    if not target:
        return LocalConsole(DEFAULT_PATH, read_only=read_only, missing_ok=True, made_by_first_write=True)
    _refuse_lookalike(target)
    if target.startswith(("http://", "https://")):
        from clinesync.consoles.http import HttpConsole
        from clinesync.consoles.trust import environment_proxy, tls_context
        from clinesync.scrub import Redactor

        _refuse_plain_http(target, insecure_http)
        # A CA bundle the environment names is checked before any request; certifi's is loaded on the first.
        named = environ.get("SSL_CERT_FILE")
        return HttpConsole(
            target,
            read_token(token_file, environ),
            tls=tls_context(target, environment_proxy(target), environ) if named else None,
            timeout=_number(environ, "CLINESYNC_TIMEOUT", 30.0),
            retries=int(_number(environ, "CLINESYNC_RETRIES", 4)),
            redact=Redactor(secrets if secrets is not None else set()),
        )
    return LocalConsole(target.removeprefix("sqlite:"), read_only=read_only, made_by_first_write=True)


def local_database(target: str | None) -> str | None:
    """The path of the local database `target` names; None for none named or an http(s) console. A target
    that is neither is refused as `open_console` refuses it."""
    if not target:
        return None
    _refuse_lookalike(target)
    return None if target.startswith(("http://", "https://")) else target.removeprefix("sqlite:")


_HOST_LIKE = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?(/.*)?\Z|localhost(:\d+)?(/.*)?\Z")
_DATABASE_ENDINGS = (".db", ".sqlite", ".sqlite3", ".db3")


def _refuse_lookalike(target: str) -> None:
    """A console target that is neither a URL nor plainly a database path would silently become a new local
    database of that name: a host name (`api.cline.bot`) or a misspelt scheme (`htps://...`)."""
    if target.startswith(("http://", "https://", "sqlite:")):
        return
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://(.*)", target)
    if scheme:
        raise ConsoleError(
            f"console {target!r}: {scheme.group(1)}:// is not a console scheme; did you mean "
            f"https://{scheme.group(2)}? (a local database is a path or sqlite:PATH)"
        )
    if _HOST_LIKE.match(target) and not target.split("/", 1)[0].lower().endswith(_DATABASE_ENDINGS):
        raise ConsoleError(
            f"console {target!r} looks like a host, not a database file: did you mean https://{target}? "
            "(a local database is a path ending in .db, or sqlite:PATH)"
        )


def _refuse_plain_http(target: str, insecure_http: bool) -> None:
    """The token would cross the network in clear: plain http:// is for loopback, unless asked for."""
    from urllib.parse import urlsplit

    from clinesync.cline import is_loopback
    from clinesync.urls import misreading

    try:
        host = urlsplit(target).hostname or ""
    except ValueError:
        raise ConsoleError("the console URL is not a valid URL") from None
    if misreading(target) is not None:  # the host named would not be the host the token goes to
        raise ConsoleError("the console URL reads differently as written and as a URL: write it plainly")
    if target.startswith("http://") and not is_loopback(host) and not insecure_http:
        raise ConsoleError(
            f"refusing the plain http:// console on {host}: the token would cross the network in clear. "
            "Use https://, or pass --insecure-http on a network you trust"
        )


def read_token(token_file: str | None, environ: Mapping[str, str]) -> str:
    if token_file:
        tokens = read_token_file(token_file)
        if not tokens:
            raise ConsoleError(f"the token file {token_file} is empty")
        return _sendable(tokens[0], token_file)
    token = environ.get("CLINE_API_KEY", "").strip()
    if not token:
        raise ConsoleError("no console token: set CLINE_API_KEY or pass --token-file FILE")
    return _sendable(token, "CLINE_API_KEY")


def _sendable(token: str, source: str) -> str:
    """A token HTTP can carry in a header: printable ASCII, no spaces."""
    if not (token.isascii() and token.isprintable()) or " " in token:
        raise ConsoleError(
            f"the token in {source} holds characters an HTTP header cannot carry (non-ASCII, spaces or control "
            "characters): check that it was copied whole"
        )
    return token


def read_token_file(path: str) -> list[str]:
    """The tokens in a file, one a line; blank lines and `#` comments are skipped."""
    try:
        with open(path, encoding="utf-8") as stream:
            lines = stream.read().splitlines()
    except OSError as error:
        raise ConsoleError(f"cannot read the token file {path}: {error.strerror}") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = float(environ.get(name, default))
    except ValueError:
        raise ConsoleError(f"{name} must be a number of seconds or attempts") from None
    if value < 0:
        raise ConsoleError(f"{name} must not be negative")
    return value
