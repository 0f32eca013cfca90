"""Consoles: where live state is. `open_console` picks one from `--console` (SPEC §2)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from clinesync.consoles.base import Console, ConsoleError
from clinesync.consoles.local import DEFAULT_PATH, LocalConsole


def open_console(
    target: str | None, token_file: str | None = None, environ: Mapping[str, str] = os.environ
) -> Console:
    """The embedded local console when `target` is empty; a database path or `sqlite:PATH`; an http(s) URL,
    with its token from `token_file` or CLINE_API_KEY (never from an argument)."""
    if not target:
        return LocalConsole(DEFAULT_PATH)
    if target.startswith(("http://", "https://")):
        from clinesync.consoles.http import HttpConsole

        return HttpConsole(
            target,
            read_token(token_file, environ),
            timeout=_number(environ, "CLINESYNC_TIMEOUT", 30.0),
            retries=int(_number(environ, "CLINESYNC_RETRIES", 4)),
        )
    return LocalConsole(target.removeprefix("sqlite:"))


def read_token(token_file: str | None, environ: Mapping[str, str]) -> str:
    if token_file:
        tokens = read_token_file(token_file)
        if not tokens:
            raise ConsoleError(f"the token file {token_file} is empty")
        return tokens[0]
    token = environ.get("CLINE_API_KEY", "").strip()
    if not token:
        raise ConsoleError("no console token: set CLINE_API_KEY or pass --token-file FILE")
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
