"""The command line. Commands live in modules loaded on demand (`app.COMMANDS`).

`clinesync --help` and `--version` are answered without importing click (it is twice Python's own start-up):
the top-level help is click's own text, kept in `help.txt` by `make docs` and checked by a test.
"""

from __future__ import annotations

import os
import sys

# Not `typing.TYPE_CHECKING`: importing typing (and the re and enum it brings) is half of what `--help` costs.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from clinesync.cli.app import cli

__all__ = ["cli", "main"]

# Click wraps help to the terminal's width less 2, at most 78 columns: from 80 columns on, the text is the same.
_HELP_COLUMNS = 80


def main() -> None:
    """The `clinesync` command."""
    answer = _quick_answer(sys.argv[1:])
    if answer is not None:
        sys.stdout.write(answer)
        return
    try:
        from clinesync.cli.app import main as run
    except KeyboardInterrupt:  # Ctrl-C while the modules load, before the run's own handling is in place
        sys.stderr.write("\nInterrupted.\n")
        sys.exit(130)
    run()


def _quick_answer(arguments: list[str]) -> str | None:
    """What click would print for `--help` or `--version` alone, or None for everything else."""
    if arguments == ["--version"]:
        return version_text()
    if arguments not in (["--help"], ["-h"]) or _columns() < _HELP_COLUMNS:
        return None  # on a narrow terminal, click wraps the text to it
    with open(os.path.join(os.path.dirname(__file__), "help.txt"), encoding="utf-8") as text:
        return text.read()


def version_text() -> str:
    """`--version`: this clinesync, and the Cline release its schema and its model of Cline's clients describe."""
    from clinesync import __version__
    from clinesync.clients import CLINE_CHECKED, CLINE_COMMIT

    return f"clinesync, version {__version__}\ndescribes {CLINE_CHECKED} ({CLINE_COMMIT}): its schema and its clients\n"


def _columns() -> int:
    """The terminal's width as `shutil.get_terminal_size` (which click uses) finds it, without importing
    shutil (15 ms)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


def __getattr__(name: str) -> Any:
    if name == "cli":  # the click group, imported (with click) only when asked for
        from clinesync.cli.app import cli

        return cli
    raise AttributeError(name)
