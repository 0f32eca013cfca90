"""The command reference, docs/commands.md, and the top-level help that `clinesync --help` prints without
loading click (clinesync/cli/help.txt), generated from the CLI itself so that they cannot go stale.

`python -m clinesync.cli.reference > docs/commands.md` and `python -m clinesync.cli.reference help >
clinesync/cli/help.txt` (or `make docs`); tests check both files are current.
"""

from __future__ import annotations

import sys

import click

from clinesync.cli.app import cli

_WIDTH = 100  # fixed, so the file does not depend on the terminal it was made in


def command_reference() -> str:
    root = click.Context(
        cli, info_name="clinesync", terminal_width=_WIDTH, max_content_width=_WIDTH, **cli.context_settings
    )
    parts = [
        "# Command reference",
        "",
        "Generated from the CLI's own help by `make docs`; do not edit by hand.",
        "",
        "## clinesync",
        "",
        "```",
        cli.get_help(root),
        "```",
    ]
    for name in cli.list_commands(root):
        command = cli.get_command(root, name)
        if command is None or command.hidden:
            continue
        context = click.Context(
            command, info_name=name, parent=root, terminal_width=_WIDTH, max_content_width=_WIDTH
        )
        parts += ["", f"## clinesync {name}", "", "```", command.get_help(context), "```"]
    return "\n".join(parts) + "\n"


def top_level_help() -> str:
    """`clinesync --help` as click prints it on a terminal of 80 columns or more."""
    context = click.Context(cli, info_name="clinesync", terminal_width=78, **cli.context_settings)
    return cli.get_help(context) + "\n"


if __name__ == "__main__":
    print(top_level_help() if sys.argv[1:] == ["help"] else command_reference(), end="")
