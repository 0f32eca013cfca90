"""`clinesync probe`: check each configured endpoint from where it runs, before apply."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from clinesync.cli.app import (
    EXIT_ERROR,
    EXIT_OK,
    Run,
    UserError,
    cli,
    command,
    expand_paths,
    fleet_options,
    global_options,
    paused_gc,
    this_run,
)
from clinesync.render.probe import PROBE_RENDERERS
from clinesync.render.problems import problems_text

if TYPE_CHECKING:
    from clinesync.probe.endpoints import Endpoint


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--chat", is_flag=True, help="Also send one minimal chat completion (one token) per declared model."
)
@click.option(
    "--format", "output_format", type=click.Choice(list(PROBE_RENDERERS)), default="text", show_default=True
)
@click.option(
    "--api-key-env",
    metavar="NAME",
    help="Send the API key in environment variable NAME, as Cline sends a member's key.",
)
@click.option(
    "--timeout", default=10.0, show_default=True, type=click.FloatRange(0.1), help="Seconds per request."
)
@fleet_options
@global_options
@command
def probe(
    paths: tuple[str, ...],
    chat: bool,
    output_format: str,
    api_key_env: str | None,
    timeout: float,
    parallelism: int,
    shard: tuple[int, int] | None,
) -> int:
    """Check that each configured endpoint answers as Cline will call it: DNS, TCP, TLS, the model listing,
    every declared model offered (and with --chat, a completion). Exit 0 when every check passes. No console
    needed; requests go to the configured endpoints only."""
    run = this_run()
    output = run.output
    with paused_gc():
        files = expand_paths(paths, shard)
    results, failed_files = probed(run, files, api_key_env, timeout, chat, parallelism)
    output.out(PROBE_RENDERERS[output_format](results, failed_files, output.style))
    failed = failed_files or not all(endpoint.passed for endpoint in results)
    return EXIT_ERROR if failed else EXIT_OK


def probed(
    run: Run,
    files: list[str],
    api_key_env: str | None,
    timeout: float,
    chat: bool,
    parallelism: int,
    named: str = "--api-key-env",
) -> tuple[list[Endpoint], list[tuple[str, str]]]:
    """The files' endpoints probed, and the files that could not be read; their problems on stderr, every
    secret learnt for output to scrub. Shared with `rollout`'s probe check."""
    from clinesync.probe.checks import probe_all
    from clinesync.probe.endpoints import Credentials, collect

    output = run.output
    credentials = Credentials(redact=output.redact)
    if api_key_env:
        from clinesync.files.checks import UNSENDABLE_IN_HEADER

        credentials.api_key = (run.environ.get(api_key_env) or "").strip()  # as Cline's runtime trims it
        if not credentials.api_key:
            raise UserError(f"{named} {api_key_env}: the variable is not set")
        if UNSENDABLE_IN_HEADER.search(credentials.api_key):
            raise UserError(
                f"{named} {api_key_env}: the key holds a control character, or one beyond Latin-1, which Node "
                "refuses to send in a header: members' requests with it fail"
            )
        output.add_secrets({credentials.api_key})
    with paused_gc():
        collected = collect(files, run.environ, run.project)
    output.add_secrets(collected.secrets)
    output.err(problems_text(dict.fromkeys(collected.problems)))
    return probe_all(collected.endpoints, credentials, timeout, chat, parallelism), collected.failed_files
