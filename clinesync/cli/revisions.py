"""Commands about live state: `export`, `history`, `rollback`, `organizations`, and `pull` (live into the files)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from clinesync.cli.app import (
    EXIT_ERROR,
    EXIT_OK,
    Output,
    Run,
    UserError,
    apply_and_report,
    cli,
    command,
    confirmed,
    global_options,
    render,
    this_run,
)
from clinesync.cline import is_organization_id
from clinesync.consoles.base import ConsoleError
from clinesync.render import adoption as view
from clinesync.render.history import HISTORY_RENDERERS

if TYPE_CHECKING:
    from clinesync.files.edits import Edit
    from clinesync.files.loader import LoadedFile
    from clinesync.plans.pull import Source


def organization_argument(value: str) -> str:
    if not is_organization_id(value):
        raise UserError(f"{value!r} is not an organization id (org- followed by the id in the admin console)")
    return value


@cli.command()
@click.argument("organization", required=False)
@click.option(
    "-o",
    "--output",
    "target",
    type=click.Path(),
    help="Write to FILE, not stdout; with --all, into the folder DIR.",
)
@click.option(
    "--all",
    "every",
    is_flag=True,
    help="Every organization the token administers (Cline's discovery), one file each in -o DIR.",
)
@click.option(
    "--extract-base",
    is_flag=True,
    help="With --all: write what every organization shares as DIR/bases/shared.yaml, which each file extends.",
)
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
@click.option(
    "--include-secrets", is_flag=True, help="Write sensitive values in clear (do not commit the file)."
)
@click.option(
    "--secrets-list",
    "secrets_list",
    type=click.Path(dir_okay=False),
    help="Write the ${env:...} names the files read as the workflow's secret list (NAME: ${{ secrets.NAME }}).",
)
@global_options
@command
def export(
    organization: str | None,
    target: str | None,
    every: bool,
    extract_base: bool,
    force: bool,
    include_secrets: bool,
    secrets_list: str | None,
) -> int:
    """Write an organization's live state as an organization file."""
    from clinesync.consoles.base import ConsoleError
    from clinesync.plans.export import export_organization

    if every:
        if organization or not target:
            raise UserError("--all exports every organization into a folder: give -o DIR and no ORGANIZATION")
        return _export_all(this_run(), target, extract_base, force, include_secrets, secrets_list)
    if organization is None:
        raise UserError("name the ORGANIZATION to export, or pass --all -o DIR for every one")
    if extract_base:
        raise UserError("--extract-base needs --all: a base is what several organizations share")
    organization = organization_argument(organization)
    run = this_run()
    output = run.output
    console = run.open_console()
    try:
        live = console.read(organization)
    except ConsoleError as error:
        raise UserError(str(error)) from None
    finally:
        console.close()
    if live.document is None:
        raise UserError(f"{organization} has no configuration in {console.description}")
    public = run.project.public_headers
    exported = export_organization(organization, live.document, console.description, include_secrets, public)
    for field in exported.left_out:
        output.err(view.left_out(field))
    if target:
        _write_new(target, exported.text, force)
        output.info(view.wrote(target))
    elif include_secrets:
        click.echo(exported.text, nl=False)  # asked for in clear: the one output not scrubbed
    else:
        output.out(exported.text)
    _name_variables(output, list(exported.variables), secrets_list)
    return EXIT_OK


def _export_all(
    run: Run, folder: str, extract_base: bool, force: bool, include_secrets: bool, secrets_list: str | None
) -> int:
    """Every organization the console lists, each read once, written into `folder`: nothing is written
    unless every organization was read and no file would be overwritten without --force."""
    import os

    from clinesync.consoles.base import ConsoleError
    from clinesync.plans.adopt import BASE_FILE, export_fleet

    output = run.output
    console = run.open_console()
    try:
        listed = console.organizations()
        lives = [(organization, console.read(organization.id).document) for organization in listed]
    except ConsoleError as error:
        raise UserError(str(error)) from None
    finally:
        console.close()
    if not listed:
        raise UserError(f"{console.description} lists no organization for this token")
    public = run.project.public_headers
    fleet = export_fleet(lives, console.description, include_secrets, extract_base, public)
    paths = {os.path.join(folder, name): text for name, text in fleet.files.items()}
    existing = [path for path in paths if os.path.exists(path)]
    if existing and not force:
        raise UserError(f"{', '.join(existing)}: exists; pass --force to overwrite. Nothing was written.")
    for path, text in paths.items():
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        _write_new(path, text, force)
    for field in fleet.left_out:
        output.err(view.left_out(field))
    for organization in fleet.without_configuration:
        output.err(view.without_configuration(organization))
    output.info(view.wrote_fleet(len(paths), folder, BASE_FILE if BASE_FILE in fleet.files else None))
    _name_variables(output, list(dict.fromkeys(fleet.variables)), secrets_list)
    return EXIT_OK


def _name_variables(output: Output, variables: list[str], secrets_list: str | None) -> None:
    """The variables the files read, as the workflow's `&console` list takes them; into a file if asked."""
    from clinesync.files.scaffold import secret_lines

    lines = secret_lines(variables)
    if secrets_list is not None:
        _write_new(secrets_list, "".join(f"{line}\n" for line in lines), force=True)
        output.info(view.secret_list_written(len(lines), secrets_list))
    if variables:
        output.info(view.variables_to_set(variables, lines))


def _write_new(target: str, text: str, force: bool) -> None:
    from clinesync.privatefile import write_private

    try:
        write_private(target, text, overwrite=force)
    except FileExistsError:
        raise UserError(f"{target} exists: pass --force to overwrite it") from None
    except OSError as error:
        raise UserError(f"cannot write {target}: {error.strerror}") from None


@cli.command()
@click.argument("organization")
@click.option(
    "--format", "output_format", type=click.Choice(list(HISTORY_RENDERERS)), default="text", show_default=True
)
@global_options
@command
def history(organization: str, output_format: str) -> int:
    """List an organization's revisions (consoles that keep them)."""
    from clinesync.consoles.base import ConsoleError

    organization = organization_argument(organization)
    run = this_run()
    output = run.output
    console = run.open_console()
    try:
        revisions = console.history(organization)
    except ConsoleError as error:
        raise UserError(str(error)) from None
    finally:
        console.close()
    output.out(HISTORY_RENDERERS[output_format](console.description, organization, revisions))
    return EXIT_OK


@cli.command()
@click.argument("organization")
@click.option("--to", "revision", type=int, required=True, help="The revision to restore.")
@click.option("--auto-approve", is_flag=True, help="Roll back without asking.")
@global_options
@command
def rollback(organization: str, revision: int, auto_approve: bool) -> int:
    """Restore an earlier revision, as a new revision: shows the plan and asks, like apply."""
    from clinesync.consoles.base import ConsoleError
    from clinesync.plans.plan import plan_rollback

    organization = organization_argument(organization)
    run = this_run()
    output = run.output
    console = run.open_console(writes=True)
    try:
        result = plan_rollback(console, organization, revision)
        render(output, result, "text", "plan")
        if not result.has_changes:
            return EXIT_OK
        if not auto_approve and not confirmed(output):
            return EXIT_ERROR
        return apply_and_report(output, result, console)
    except ConsoleError as error:
        raise UserError(str(error)) from None
    finally:
        console.close()


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@global_options
@command
def organizations(paths: tuple[str, ...], output_format: str) -> int:
    """List the organizations the token can manage: name, role, and the file here that manages each.

    Files are the PATHs given, else the configuration's paths:, else this folder; a file whose organization
    the console does not list is named too (a typo, or an organization not created yet)."""
    from clinesync.consoles.base import ConsoleError
    from clinesync.files.paths import PathError, declared_organization, expand
    from clinesync.render.organizations import ORGANIZATION_RENDERERS, Listed

    run = this_run()
    project = run.project
    try:
        files = expand(paths or project.paths or (".",), project.ignore, project.directory, project.file)
    except PathError as error:
        raise UserError(str(error)) from None
    declared: dict[str, str] = {}
    for name in files:
        organization = declared_organization(name)
        if organization is not None:
            declared.setdefault(organization, name)  # the first, as plan takes it (CS104)
    console = run.open_console()
    try:
        live = console.organizations()
    except ConsoleError as error:
        raise UserError(str(error)) from None
    finally:
        console.close()
    listed = [Listed(found.id, found.name, found.role, declared.get(found.id), True) for found in live]
    known = {found.id for found in live}
    listed += [
        Listed(organization, None, None, name, False)
        for organization, name in declared.items()
        if organization not in known
    ]
    run.output.out(ORGANIZATION_RENDERERS[output_format](console.description, listed))
    return EXIT_OK


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@global_options
@command
def pull(paths: tuple[str, ...], output_format: str) -> int:
    """Write live values that differ from the files back into the files that set them, never a secret.

    Into the organization's file, or into the base that set a value when every organization taking it from
    that base has the same live value; comments and formatting kept. A value from ${env:...} or a variable,
    or a credential, is reported, not written. Exit 0 when live matches the files, 2 when it differs (the
    files were updated where they may be), 1 on errors."""
    import dataclasses

    from clinesync.cli.app import EXIT_CHANGES, expand_paths
    from clinesync.files.style import StyleError
    from clinesync.plans.pull import pull as decide
    from clinesync.render.pull import PULL_RENDERERS, not_written

    run = this_run()
    output = run.output
    files = expand_paths(paths)
    sources, others, failed = _pull_sources(run, files)
    console = run.open_console()
    try:
        read = []
        for source in sources:
            live = console.read(source.desired.organization).document
            read.append(dataclasses.replace(source, live=live.tree() if live else None))
    except ConsoleError as error:
        raise UserError(str(error)) from None
    finally:
        console.close()
    result = decide(read, others)
    written = []
    for name, edits in result.edits.items():
        try:
            _write_edits(name, edits)
        except (OSError, StyleError) as error:
            output.err(not_written(name, getattr(error, "strerror", None) or str(error)))
            failed = True
            continue
        written.append(name)
    output.out(PULL_RENDERERS[output_format](result, written))
    if failed:
        return EXIT_ERROR
    return EXIT_CHANGES if result.differs else EXIT_OK


def _pull_sources(run: Run, files: list[str]) -> tuple[list[Source], list[LoadedFile], bool]:
    """The organizations to pull, each checked and resolved with its merged file kept (where its values were
    set); the configuration's other organization files, merged only; and whether any file failed."""
    import os

    from clinesync.files.bases import inherited
    from clinesync.files.batch import check_one
    from clinesync.files.paths import PathError, expand
    from clinesync.plans.pull import Source
    from clinesync.render.problems import problems_text

    project, output = run.project, run.output
    bases: dict[str, LoadedFile] = {}
    sources, failed = [], False
    for name in files:
        checked = check_one(name, project, run.environ, bases)
        if (
            checked.may_be_a_base
            or checked.plainly_not_an_organization
            or not project.selects(checked.organization)
        ):
            continue
        if checked.desired is not None:
            output.add_secrets(checked.desired.secrets)
        output.err(problems_text(problem for problem in checked.problems if problem.is_error))
        if checked.desired is None or checked.loaded is None:
            failed = True
            continue
        sources.append(Source(checked.loaded, checked.desired, None, inherited(checked.loaded, bases)))
    # The fleet a base is shared with: the configuration's paths, else this folder (as `organizations` reads
    # it). An organization file there that was not pulled keeps a base from being written at its paths.
    others = []
    try:
        fleet = expand(project.paths or (".",), project.ignore, project.directory, project.file)
    except PathError as error:
        raise UserError(str(error)) from None
    pulled = {os.path.realpath(name) for name in files}
    for name in fleet:
        if os.path.realpath(name) not in pulled:
            checked = check_one(name, project, None, bases)
            if checked.loaded is not None and checked.organization is not None:
                others.append(checked.loaded)
    return sources, others, failed


def _write_edits(name: str, edits: list[Edit]) -> None:
    from clinesync.files.edits import edited
    from clinesync.privatefile import keep_mode

    with open(name, encoding="utf-8") as stream:
        text = stream.read()
    keep_mode(name, edited(text, name, edits))
