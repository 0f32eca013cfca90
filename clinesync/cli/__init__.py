"""The command line. Commands live in modules loaded on demand (`app.COMMANDS`)."""

from clinesync.cli.app import cli, main

__all__ = ["cli", "main"]
