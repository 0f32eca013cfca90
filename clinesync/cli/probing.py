"""`clinesync probe`: check each configured endpoint from where it runs, before apply."""

from __future__ import annotations

import os
from collections.abc import Callable
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
)

if TYPE_CHECKING:
    from clinesync.probe import Endpoint


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--chat", is_flag=True, help="Also send one minimal chat completion (one token) per declared model."
)
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True
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
    from clinesync.desired import resolve
    from clinesync.fleet import concurrently
    from clinesync.probe import Credentials, Endpoint, azure_credentials, endpoints, probe_endpoint
    from clinesync.render.probe import probe_json, probe_text
    from clinesync.validate import iter_checked

    output = Output()
    credentials = Credentials(redact=output.redact)
    if api_key_env:
        credentials.api_key = os.environ.get(api_key_env)
        if not credentials.api_key:
            raise UserError(f"--api-key-env {api_key_env}: the variable is not set")
        output.add_secrets({credentials.api_key})
    found, failed_files = [], []
    with paused_gc():
        for checked in iter_checked(expand_paths(paths, shard)):
            desired = None if checked.has_errors else resolve(checked, os.environ)
            for problem in checked.problems:
                output.err(f"{problem}\n")
            if desired is None or isinstance(desired, list):
                errors = [p for p in (desired or checked.problems) if p.is_error]
                failed_files.append(
                    (checked.path, f"{errors[0].message} ({errors[0].line}:{errors[0].column})")
                )
                continue
            output.add_secrets(set(desired.secrets))
            found += endpoints(desired)
    if any(endpoint.azure_identity for endpoint in found):
        credentials.azure_token = _remembering(output, azure_credentials())
    outcomes = concurrently(
        lambda endpoint: probe_endpoint(endpoint, credentials, timeout, chat), found, parallelism
    )
    # A probe reports its own failures as checks; anything else that stopped one is its failed check too.
    results = [
        outcome if isinstance(outcome, Endpoint) else _stopped(endpoint, str(outcome))
        for endpoint, outcome in zip(found, outcomes, strict=True)
    ]
    if output_format == "json":
        output.out(probe_json(results, failed_files))
    else:
        output.out(probe_text(results, failed_files, output.style))
    return EXIT_OK if all(endpoint.passed for endpoint in results) and not failed_files else EXIT_ERROR


def _stopped(endpoint: Endpoint, reason: str) -> Endpoint:
    from clinesync.probe import FIX_CONNECT, Check

    endpoint.checks.append(Check("probe", "fail", reason, FIX_CONNECT))
    return endpoint


def _remembering(output: Output, getter: Callable[[], str] | None) -> Callable[[], str] | None:
    """An Entra ID token getter whose tokens are scrubbed from all output."""
    if getter is None:
        return None

    def token() -> str:
        value = getter()
        output.add_secrets({value})
        return value

    return token
