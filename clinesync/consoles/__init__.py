"""Consoles: where live state is. `open_console` picks one from `--console` (SPEC §2)."""

from __future__ import annotations

from clinesync.consoles.base import Console, ConsoleError
from clinesync.consoles.local import DEFAULT_PATH, LocalConsole


def open_console(target: str | None, token_file: str | None = None) -> Console:
    """The embedded local console when `target` is empty; a database path or `sqlite:PATH`; an http(s) URL."""
    if not target:
        return LocalConsole(DEFAULT_PATH)
    if target.startswith(("http://", "https://")):
        raise ConsoleError(f"{target}: HTTP consoles are not supported by this version of clinesync")
    return LocalConsole(target.removeprefix("sqlite:"))
