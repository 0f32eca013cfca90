"""The command line: parses options, calls the core, prints, and turns results into exit codes.

This is the only layer that prints or exits. Heavy modules are imported inside the commands that need them,
so `clinesync --help` stays fast.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from clinesync import __version__

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


class UserError(Exception):
    """An expected failure: its message is shown as is, and the command exits 1."""


@dataclass
class Settings:
    console: str | None = None
    token_file: str | None = None
    no_color: bool = False
    quiet: bool = False
    verbose: bool = False

    @property
    def color(self) -> bool | None:
        return False if self.no_color or os.environ.get("NO_COLOR") else None


def _settings(ctx: click.Context) -> Settings:
    root = ctx.find_root()
    if root.obj is None:
        root.obj = Settings()
    return root.obj


def _store(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value not in (None, False):
            setattr(_settings(ctx), name, value)

    return callback


# Global options, accepted both before the command name and after it.
_GLOBAL_OPTIONS = (
    click.option(
        "--console",
        envvar="CLINESYNC_CONSOLE",
        expose_value=False,
        callback=_store("console"),
        help="Console holding live state: a database path, sqlite:PATH, or an http(s):// URL. "
        "Default: .clinesync/console.db",
    ),
    click.option(
        "--token-file",
        type=click.Path(dir_okay=False),
        expose_value=False,
        callback=_store("token_file"),
        help="File holding the console API token (else CLINE_API_KEY).",
    ),
    click.option(
        "--no-color",
        is_flag=True,
        expose_value=False,
        callback=_store("no_color"),
        help="No colors (also NO_COLOR).",
    ),
    click.option(
        "-q",
        "--quiet",
        is_flag=True,
        expose_value=False,
        callback=_store("quiet"),
        help="Only errors and machine output.",
    ),
    click.option(
        "-v",
        "--verbose",
        is_flag=True,
        expose_value=False,
        callback=_store("verbose"),
        help="More detail on stderr.",
    ),
)


def global_options(function: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_GLOBAL_OPTIONS):
        function = option(function)
    return function


class ClinesyncGroup(click.Group):
    """Maps every outcome to SPEC §3's exit codes; click's own usage errors would exit 2 ("changes")."""

    def main(self, args: Any = None, prog_name: str | None = None, **extra: Any) -> Any:
        extra.pop("standalone_mode", None)
        try:
            code = super().main(args, prog_name or "clinesync", standalone_mode=False, **extra)
        except click.ClickException as error:
            error.show()
            code = EXIT_ERROR
        except click.Abort:
            click.echo("Aborted.", err=True)
            code = EXIT_ERROR
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            code = 130
        except Exception as error:  # a bug in clinesync: one line, the details only when asked for
            click.echo(
                f"Error: internal error ({type(error).__name__}); "
                "run with --verbose for details and please report it",
                err=True,
            )
            if _verbose(args):
                import traceback

                traceback.print_exc()
            code = EXIT_ERROR
        sys.exit(code if isinstance(code, int) else EXIT_OK)


def _verbose(args: Any) -> bool:
    arguments = sys.argv[1:] if args is None else list(args)
    return "-v" in arguments or "--verbose" in arguments


def command(function: Callable[..., int]) -> Callable[..., int]:
    """Wraps a command body: expected failures become one line on stderr and exit 1, never a traceback."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> int:
        try:
            return function(*args, **kwargs)
        except UserError as error:
            click.echo(f"Error: {error}", err=True)
            return EXIT_ERROR

    return run


@click.group(cls=ClinesyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="clinesync")
@global_options
def cli() -> None:
    """Infrastructure-as-code for Cline organization settings: validate, plan, apply, drift."""


def main() -> None:
    cli.main()


def _expand(paths: tuple[str, ...]) -> list[str]:
    from clinesync.paths import PathError, expand

    try:
        files = expand(paths)
    except PathError as error:
        raise UserError(str(error)) from None
    if not files:
        raise UserError(f"no *.yaml or *.yml files in {', '.join(paths)}")
    return files


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--strict", is_flag=True, help="Warnings fail too.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="github: workflow annotations.",
)
@global_options
@command
def validate(paths: tuple[str, ...], strict: bool, output_format: str) -> int:
    """Check organization files against the schema and the CS rules. No console, no secrets needed."""
    from clinesync import report
    from clinesync.validate import check_files

    files = _expand(paths)
    checked = check_files(files)
    problems = [problem for item in checked for problem in item.problems]
    failed = any(problem.is_error or strict for problem in problems)
    code = EXIT_ERROR if failed else EXIT_OK
    if output_format == "json":
        click.echo(report.problems_json(problems, files, code), nl=False)
    elif output_format == "github":
        click.echo(report.problems_github(problems), nl=False)
    else:
        click.echo(report.problems_text(problems), nl=False)
    if not _settings(click.get_current_context()).quiet:
        click.echo(report.summary_line(problems, len(files)), err=True)
    return code


@cli.command()
@global_options
@command
def schema() -> int:
    """Print the packaged JSON Schema (its path on stderr), for editor set-up."""
    from clinesync.schema import schema_path

    path = schema_path()
    click.echo(f"# {path}", err=True)
    with open(path, encoding="utf-8") as stream:
        click.echo(stream.read(), nl=False)
    return EXIT_OK
