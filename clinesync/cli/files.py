"""File commands: `validate` and `schema`. No console, no secrets."""

from __future__ import annotations

import click

from clinesync.cli.app import (
    EXIT_ERROR,
    EXIT_OK,
    Output,
    cli,
    command,
    current_project,
    expand_paths,
    fleet_options,
    global_options,
    paused_gc,
)
from clinesync.render.problems import PROBLEM_RENDERERS, summary_line
from clinesync.render.rules import RULES_RENDERERS


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--strict", is_flag=True, help="Warnings fail too.")
@click.option(
    "--only-organizations",
    is_flag=True,
    help="Skip YAML files that are plainly something else (no organization, remoteConfig or apiVersion at "
    "the top), as a hook over a whole repository meets them: mkdocs.yml, docker-compose.yml; and bases "
    "(no organization) that no file given extends, which are checked with the files that extend them.",
)
@fleet_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(list(PROBLEM_RENDERERS)),
    default="text",
    show_default=True,
    help="github: workflow annotations.",
)
@global_options
@command
def validate(
    paths: tuple[str, ...],
    strict: bool,
    only_organizations: bool,
    output_format: str,
    parallelism: int,
    shard: tuple[int, int] | None,
) -> int:
    """Check organization files against the schema and the CS rules. No console, no secrets needed."""
    from clinesync.files.batch import iter_checked

    output = Output()
    files, problems, suppressed, suppressions = [], [], [], []
    with paused_gc():
        # One file at a time, keeping only its problems: memory does not grow with the fleet.
        for item in iter_checked(expand_paths(paths, shard), current_project()):
            if only_organizations and (item.plainly_not_an_organization or item.may_be_a_base):
                continue
            files.append(item.path)
            problems += item.problems
            suppressed += item.suppressed
            suppressions += item.suppressions
    # a base's problem once, however many files extend it
    problems, suppressed = list(dict.fromkeys(problems)), list(dict.fromkeys(suppressed))
    suppressions = sorted(set(suppressions), key=lambda found: (found.file, found.line))
    failed = any(problem.is_error or strict for problem in problems)
    code = EXIT_ERROR if failed else EXIT_OK
    output.out(PROBLEM_RENDERERS[output_format](problems, suppressed, suppressions, files, code))
    output.info(summary_line(problems, len(files)) + "\n")
    return code


@cli.command()
@click.option(
    "--format", "output_format", type=click.Choice(list(RULES_RENDERERS)), default="text", show_default=True
)
@global_options
@command
def rules(output_format: str) -> int:
    """List every rule (CS and policy) with its level under the current configuration."""
    from clinesync.render.rules import rule_entries

    Output().out(RULES_RENDERERS[output_format](rule_entries(current_project().guardrails)))
    return EXIT_OK


@cli.command()
@global_options
@command
def schema() -> int:
    """Print the packaged JSON Schema (its path on stderr), for editor set-up."""
    from clinesync.files.schema import schema_path

    path = schema_path()
    click.echo(f"# {path}", err=True)
    with open(path, encoding="utf-8") as stream:
        click.echo(stream.read(), nl=False)
    return EXIT_OK


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@global_options
@command
def completion(shell: str) -> int:
    """Print the shell completion script: eval "$(clinesync completion bash)" in ~/.bashrc."""
    from click.shell_completion import get_completion_class

    completer = get_completion_class(shell)
    assert completer is not None
    Output().out(completer(cli, {}, "clinesync", "_CLINESYNC_COMPLETE").source())
    return EXIT_OK
