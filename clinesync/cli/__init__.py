"""The command line. Importing this package registers every command on the `cli` group."""

from clinesync.cli import files, gitops, probing, revisions, serving  # noqa: F401  (registers the commands)
from clinesync.cli.app import cli, main

__all__ = ["cli", "main"]
