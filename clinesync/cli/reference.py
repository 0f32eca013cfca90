"""The command reference, docs/commands.md, generated from the CLI itself so that it cannot go stale.

`python -m clinesync.cli.reference > docs/commands.md` (or `make docs`); a test checks the file is current.
"""

from __future__ import annotations

import click

from clinesync.cli import cli

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


if __name__ == "__main__":
    print(command_reference(), end="")
