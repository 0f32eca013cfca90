"""File commands: `validate`, `affected`, `rules`, `schema`, `completion`. No console, no secrets."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from clinesync.cli.app import (
    EXIT_ERROR,
    EXIT_OK,
    Output,
    UserError,
    cli,
    command,
    expand_paths,
    fleet_options,
    global_options,
    paused_gc,
    text_or_json,
    this_run,
)
from clinesync.render.problems import PROBLEM_RENDERERS, summary_line
from clinesync.render.rules import RULES_RENDERERS

if TYPE_CHECKING:
    from clinesync.files.project import Project


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--strict", is_flag=True, help="Warnings fail too.")
@click.option(
    "--only-organizations",
    is_flag=True,
    help="Skip YAML files that are plainly something else (no organization, remoteConfig or apiVersion at "
    "the top), as a hook over a whole repository meets them: mkdocs.yml, docker-compose.yml; a base is "
    "checked through the organization files that extend it (the configuration's paths, else this folder).",
)
@fleet_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(list(PROBLEM_RENDERERS)),
    default="text",
    show_default=True,
    help="github: workflow annotations; markdown: a pull-request comment with each file's first error; "
    "sarif: SARIF 2.1.0 for code scanning.",
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
    from clinesync.files.suppressions import listed_suppressions

    run = this_run()
    output = run.output
    given = expand_paths(paths, shard)
    if only_organizations:  # a hook given a base alone checks the organizations that extend it
        given += _extending(run.project, given)
    files, problems, suppressed, suppressions, declared = [], [], [], [], []
    with paused_gc():
        # One file at a time, keeping only its problems: memory does not grow with the fleet.
        for item in iter_checked(given, run.project):
            if only_organizations and (item.plainly_not_an_organization or item.may_be_a_base):
                continue
            files.append(item.path)
            problems += item.problems
            suppressed += item.suppressed
            suppressions += item.suppressions
            declared += item.declared
    # a base's problem once, however many files extend it; the configuration's own (an exception that
    # expired) first, counted as any other
    problems = list(dict.fromkeys([*run.project.notices, *problems]))
    suppressed = list(dict.fromkeys(suppressed))
    listed = listed_suppressions(declared, set(suppressions))
    failed = any(problem.is_error or strict for problem in problems)
    code = EXIT_ERROR if failed else EXIT_OK
    output.out(PROBLEM_RENDERERS[output_format](problems, suppressed, listed, files, code))
    output.info(summary_line(problems, len(files)))
    return code


def _extending(project: Project, given: list[str]) -> list[str]:
    """The organization files here (the configuration's paths, else this folder) that extend one of `given`
    at any depth and are not among them: a commit that only changes a base is checked through them."""
    from clinesync.files.affected import affected
    from clinesync.files.paths import declared_organization, expand

    if all(declared_organization(name) is not None for name in given):
        return []  # organization files only: no base among them, nothing else to read
    candidates = expand(project.paths or (".",), project.ignore, project.directory, project.file)
    named = set(given)
    return [
        found.file for found in affected(candidates, given, {}, None).organizations if found.file not in named
    ]


@cli.command()
@click.option(
    "--format", "output_format", type=click.Choice(list(RULES_RENDERERS)), default="text", show_default=True
)
@global_options
@command
def rules(output_format: str) -> int:
    """List every rule (CS and policy) with its level under the current configuration."""
    from clinesync.render.rules import rule_entries

    run = this_run()
    run.output.out(RULES_RENDERERS[output_format](rule_entries(run.project.guardrails)))
    return EXIT_OK


@cli.command()
@global_options
@command
def schema() -> int:
    """Print the packaged JSON Schema (its path on stderr), for editor set-up."""
    from clinesync.contract import schema_path
    from clinesync.render import run as view

    path = schema_path()
    output = Output()
    from clinesync.clients import CLINE_CHECKED

    output.err(view.named_file(f"{path} ({CLINE_CHECKED})"))
    with open(path, encoding="utf-8") as stream:
        output.out(stream.read())
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


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--since", "since", required=True, metavar="REF", help="The git revision to compare with.")
@text_or_json
@global_options
@command
def affected(paths: tuple[str, ...], since: str, output_format: str) -> int:
    """List the organizations whose desired state the files changed since a git revision can change.

    An organization file that changed, any base it extends at any depth, and clinesync.yaml (every
    organization) count; a deleted organization file is listed as no longer managed (its live state is kept);
    other files change nothing. PATH... (or the configuration's paths:) are the organization files now."""
    from clinesync.files.affected import affected as affected_by
    from clinesync.files.paths import organization_in
    from clinesync.render.affected import affected_json, affected_text

    top = _git("rev-parse", "--show-toplevel").decode().strip()
    changed, deleted = _git_changes(since, top)
    run = this_run()
    project = run.project
    files = expand_paths(paths or (() if project.paths else (".",)))  # this folder, as the hook reads it
    before = {name: _git_show(since, name, top) for name in deleted if name.endswith((".yaml", ".yml"))}
    removed = {
        name: organization
        for name, text in before.items()
        if (organization := organization_in(text)) is not None
    }
    # An organization file moved as it was is listed as moved, not as changed: its text is the text of the
    # deleted file that declared the same organization. Any other file, a base included, counts as changed.
    declared_before = {organization: before[name] for name, organization in removed.items()}
    moved = {
        name
        for name in (changed if declared_before else ())  # no file read where none was deleted
        if (text := _text_of(name)) is not None
        and (organization := organization_in(text)) in declared_before
        and declared_before[organization] == text
    }
    impact = affected_by(
        files, [name for name in changed if name not in moved] + deleted, removed, project.file
    )
    run.output.out(affected_json(impact, since) if output_format == "json" else affected_text(impact))
    return EXIT_OK


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option(
    "--pin",
    metavar="OWNER/clinesync@SHA",
    help="The clinesync repository and full commit the workflow and the hook run (else a placeholder to fill).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write the workflow and pre-commit files again where they exist (to refresh the secret list); "
    "clinesync.yaml, the team's own, is always kept.",
)
@global_options
@command
def init(directory: str, pin: str | None, force: bool) -> int:
    """Scaffold a repository: clinesync.yaml, the GitHub workflow with its secret list, pre-commit, .gitignore.

    The workflow's secret list holds the ${env:...} names the organization files under DIR/orgs/ read (run it
    after `export --all -o orgs/`). Files that exist are kept; --force writes the workflow and the pre-commit
    configuration again, never clinesync.yaml; .gitignore gains only the lines it
    lacks."""
    import os

    from clinesync.files import scaffold
    from clinesync.render import adoption as view

    if pin is not None and not scaffold.PIN.fullmatch(pin):
        raise UserError(
            f"--pin {pin}: give OWNER/NAME@ and the full 40-character commit, as actions are pinned"
        )
    output = Output()
    texts = []
    for top in ("orgs", "bases"):  # organization files, and bases beside them or under them
        for folder, _, found in os.walk(os.path.join(directory, top)):
            for name in found:
                if name.endswith((".yaml", ".yml")):
                    path = os.path.join(folder, name)
                    try:
                        with open(path, encoding="utf-8", errors="replace") as stream:
                            texts.append(stream.read())
                    except OSError as error:  # a link that leads nowhere: said, and the rest still read
                        output.err(view.unread(path, error.strerror or str(error)))
    secrets = scaffold.referenced_secrets(texts)
    unusable = [name for name in secrets if scaffold.unusable_secret(name)]
    secrets = [name for name in secrets if name not in unusable]
    os.makedirs(os.path.join(directory, "orgs"), exist_ok=True)
    for relative, text in scaffold.files(secrets, pin).items():
        path = os.path.join(directory, relative)
        ours = relative == scaffold.PROJECT_FILE
        if os.path.exists(path) and not (force and not ours):
            output.info(view.kept(path, ours))
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(text)
        output.info(view.wrote(path))
    ignore = os.path.join(directory, ".gitignore")
    existing = ""
    if os.path.exists(ignore):
        with open(ignore, encoding="utf-8") as stream:
            existing = stream.read()
    missing = scaffold.ignore_lines(existing)
    if missing:
        with open(ignore, "a", encoding="utf-8") as stream:
            stream.write(("\n" if existing and not existing.endswith("\n") else "") + missing)
        output.info(view.ignoring(ignore, missing.split()))
    output.out(view.next_steps(secrets, unusable, scaffold.PLACEHOLDER if pin is None else None))
    return EXIT_OK


def _git(*arguments: str) -> bytes:
    import subprocess

    try:
        done = subprocess.run(["git", *arguments], capture_output=True, check=False, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise UserError(f"cannot run git: {error}") from None
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        raise UserError(f"git {arguments[0]}: {said[-1] if said else 'failed'}")
    return done.stdout


def _git_changes(since: str, top: str) -> tuple[list[str], list[str]]:
    """Files changed since `since` (committed, staged, in the work tree, or new), and files deleted since,
    as paths relative to the current folder (`top`: the repository's folder)."""
    import os

    changed: list[str] = []
    deleted: list[str] = []
    fields = _git("diff", "--name-status", "--no-renames", "-z", since, "--").decode().split("\0")
    for status, name in zip(fields[0::2], fields[1::2], strict=False):
        where = os.path.relpath(os.path.join(top, name))
        (deleted if status == "D" else changed).append(where)
    untracked = _git("ls-files", "--others", "--exclude-standard", "-z").decode().split("\0")
    changed += [name for name in untracked if name]
    return changed, deleted


def _text_of(name: str) -> bytes | None:
    try:
        with open(name, "rb") as stream:
            return stream.read()
    except OSError:
        return None


def _git_show(since: str, name: str, top: str) -> bytes:
    """A deleted file's text at `since`."""
    import os

    relative = os.path.relpath(os.path.abspath(name), top)
    return _git("show", f"{since}:{relative}")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when a file is not in the style.")
@click.option("--diff", "show_diff", is_flag=True, help="Write nothing; print what would change.")
@click.option(
    "--only-organizations",
    is_flag=True,
    help="Skip YAML files that are plainly something else (as the pre-commit hook meets them).",
)
@global_options
@command
def fmt(paths: tuple[str, ...], check: bool, show_diff: bool, only_organizations: bool) -> int:
    """Write organization files, bases and clinesync.yaml in one style, comments and blank lines kept.

    Keys in the schema's order, two-space indentation with list items under their key, strings quoted only
    where YAML 1.2 needs it. It never changes what a file means: a result clinesync reads otherwise is
    refused. PATHs default to the configuration's paths: (with the bases their files extend, also ignored
    ones) and clinesync.yaml, else this folder."""
    import difflib
    import os

    from clinesync.files.paths import PathError, expand
    from clinesync.files.style import StyleError, restyled
    from clinesync.privatefile import keep_mode
    from clinesync.render import run as view

    run = this_run()
    output, project = run.output, run.project
    try:
        files = expand(paths or project.paths or (".",), project.ignore, project.directory, project.file)
    except PathError as error:
        raise UserError(str(error)) from None
    if not paths:
        from clinesync.files.affected import extended_bases
        from clinesync.files.project import in_this_repository

        # The bases the organizations extend, also where `ignore:` keeps them out of the walk (as the fleet
        # guide has it): they are written in the same style, as the pre-commit hook does. Only the
        # repository's own: a base outside it (`baseFolders:`) is shared with fleets it cannot see.
        listed = {os.path.realpath(name) for name in files}
        files += [
            os.path.relpath(base)
            for base in extended_bases(files)
            if base not in listed and in_this_repository(base) and os.path.isfile(base)
        ]
        if project.file:
            files.append(project.file)
    changed = failed = in_style = 0
    for name in files:
        is_project = os.path.basename(name) == "clinesync.yaml"
        try:
            with open(name, encoding="utf-8") as stream:
                text = stream.read()
            if only_organizations and not is_project and not _looks_like_settings(text):
                continue
            formatted = restyled(text, name, project=is_project)
            if formatted != text and not (check or show_diff):
                keep_mode(name, formatted)
        except (OSError, UnicodeDecodeError, StyleError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            output.err(view.fmt_failed(name, reason))
            failed += 1
            continue
        if formatted == text:
            in_style += 1
            continue
        changed += 1
        if show_diff:
            output.out(
                "".join(difflib.unified_diff(text.splitlines(True), formatted.splitlines(True), name, name))
            )
        elif check:
            output.out(view.fmt_would_change(name))
        else:
            output.info(view.fmt_wrote(name))
    output.info(view.fmt_summary(changed, in_style, failed, written=not (check or show_diff)))
    return EXIT_ERROR if failed or (changed and (check or show_diff)) else EXIT_OK


def _looks_like_settings(text: str) -> bool:
    """A YAML file an organization file or a base could be: its top level says organization, remoteConfig,
    apiVersion or extends."""
    import re

    return (
        re.search(r"^(organization|remoteConfig|apiVersion|extends|enabled):", text, re.MULTILINE) is not None
    )
