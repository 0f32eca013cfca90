"""The command line. Commands live in modules loaded on demand (`app.COMMANDS`).

`clinesync --help` and `--version` are answered without importing click (it is twice Python's own start-up):
the top-level help is click's own text, kept in `help.txt` by `make docs` and checked by a test.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from clinesync.cli.app import main as run

    run()


def _quick_answer(arguments: list[str]) -> str | None:
    """What click would print for `--help` or `--version` alone, or None for everything else."""
    if arguments == ["--version"]:
        from clinesync import __version__

        return f"clinesync, version {__version__}\n"
    if arguments not in (["--help"], ["-h"]):
        return None
    import shutil

    if shutil.get_terminal_size().columns < _HELP_COLUMNS:
        return None  # a narrow terminal: click wraps the text to it
    from importlib.resources import files

    return files(__name__).joinpath("help.txt").read_text("utf-8")


def __getattr__(name: str) -> Any:
    if name == "cli":  # the click group, imported (with click) only when asked for
        from clinesync.cli.app import cli

        return cli
    raise AttributeError(name)
