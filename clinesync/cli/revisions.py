"""Commands about one organization's live state: `export`, `history` and `rollback`."""

from __future__ import annotations

import click

from clinesync.cli.app import (
    EXIT_ERROR,
    EXIT_OK,
    Output,
    UserError,
    apply_and_report,
    cli,
    command,
    confirmed,
    global_options,
    open_console,
    render,
)
from clinesync.cline import is_organization_id
from clinesync.render.history import HISTORY_RENDERERS


def organization_argument(value: str) -> str:
    if not is_organization_id(value):
        raise UserError(f"{value!r} is not an organization id (org- followed by the id in the admin console)")
    return value


@cli.command()
@click.argument("organization")
@click.option("-o", "--output", "target", type=click.Path(dir_okay=False), help="Write to FILE, not stdout.")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@click.option(
    "--include-secrets", is_flag=True, help="Write sensitive values in clear (do not commit the file)."
)
@global_options
@command
def export(organization: str, target: str | None, force: bool, include_secrets: bool) -> int:
    """Write an organization's live state as an organization file."""
    from clinesync.consoles.base import ConsoleError
    from clinesync.plans.export import export_organization

    organization = organization_argument(organization)
    output = Output()
    console = open_console()
    try:
        live = console.read(organization)
    except ConsoleError as error:
        raise UserError(str(error)) from None
    finally:
        console.close()
    if live.document is None:
        raise UserError(f"{organization} has no configuration in {console.description}")
    exported = export_organization(organization, live.document, console.description, include_secrets)
    for field in exported.left_out:
        output.err(
            f"Warning: live field {field} is not known to this version of clinesync: left out "
            "(apply keeps it)\n"
        )
    if target:
        _write_new(target, exported.text, force)
        output.info(f"Wrote {target}.\n")
    elif include_secrets:
        click.echo(exported.text, nl=False)  # asked for in clear: the one output not scrubbed
    else:
        output.out(exported.text)
    if exported.variables:
        output.info(
            f"Set these environment variables before plan or apply: {', '.join(exported.variables)}\n"
        )
    return EXIT_OK


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
    output = Output()
    console = open_console()
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
    output = Output()
    console = open_console(writes=True)
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
