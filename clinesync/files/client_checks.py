"""Warnings where Cline's clients drop or ignore what the file says (SPEC §11, CS180-CS189), as the model of
Cline's clients (`clients.py`, as of Cline 2026-08) has it. They are about what is written, so they run on the
file as written only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from clinesync.clients import (
    CLINE_CHECKED,
    configured_providers,
    exports_open_telemetry,
    prompt_uploading,
    provider_id,
    read_skill,
    upload_settings,
)
from clinesync.fields import Path, find
from clinesync.files import envref
from clinesync.files.loader import LoadedFile
from clinesync.files.problems import Problem


def check_clients(loaded: LoadedFile) -> Iterator[Problem]:
    remote = loaded.data.get("remoteConfig")
    if not isinstance(remote, dict):
        return
    yield from _mcp_servers(loaded, remote)
    yield from _skills(loaded, remote)
    yield from _uploads(loaded, remote)
    yield from _providers(loaded, remote)
    every_client = exports_open_telemetry(remote) and exports_open_telemetry(remote, cli=True)
    if remote.get("openTelemetryEnabled") is True and not every_client:
        yield loaded.problem(
            "CS189",
            loaded.value_mark(("remoteConfig", "openTelemetryEnabled")),
            "OpenTelemetry is switched on but no exporter can send: Cline's clients export only through "
            "openTelemetryMetricsExporter or openTelemetryLogsExporter, console, or otlp with an endpoint "
            f"(openTelemetryOtlpEndpoint; the command-line client reads no other) ({CLINE_CHECKED})",
        )
    if "kanbanEnabled" in remote:
        yield loaded.problem(
            "CS183",
            loaded.key_mark(("remoteConfig", "kanbanEnabled")),
            f"kanbanEnabled has no effect: no Cline client reads it ({CLINE_CHECKED})",
        )
    if find(remote, ("providerSettings", "OpenAiCompatible", "azureIdentity")) is True:
        yield loaded.problem(
            "CS183",
            loaded.value_mark(("remoteConfig", "providerSettings", "OpenAiCompatible", "azureIdentity")),
            "azureIdentity is locked for members but has no effect: Cline's runtime obtains no Entra ID token "
            f"({CLINE_CHECKED}), so members' requests carry their own API key, or none; give them a key "
            "(openAiHeaders: api-key: ${env:...}) or let them enter their own",
        )


def _entries(remote: dict[str, Any], field: str) -> Iterator[tuple[int, dict[str, Any]]]:
    listed = remote.get(field)
    for index, entry in enumerate(listed if isinstance(listed, list) else []):
        if isinstance(entry, dict):
            yield index, entry


def _mcp_servers(loaded: LoadedFile, remote: dict[str, Any]) -> Iterator[Problem]:
    for index, server in _entries(remote, "remoteMCPServers"):
        path: Path = ("remoteConfig", "remoteMCPServers", index)
        if "headers" in server:
            yield loaded.problem(
                "CS180",
                loaded.key_mark(path + ("headers",)),
                "MCP server headers are not delivered: Cline's extension writes each remote server to members' "
                f"MCP settings with its name and URL only, so the server is called without them ({CLINE_CHECKED})",
            )
        if server.get("alwaysEnabled") is True:
            yield loaded.problem(
                "CS181",
                loaded.key_mark(path + ("alwaysEnabled",)),
                "alwaysEnabled only locks the switch in the extension's MCP panel: it is not written to members' "
                f"MCP settings, where the server can still be disabled ({CLINE_CHECKED})",
            )
        url = server.get("url")
        if isinstance(url, str) and "${" in url:
            yield from _member_side_references(loaded, path + ("url",), url, remote)


def _member_side_references(
    loaded: LoadedFile, at: Path, url: str, remote: dict[str, Any]
) -> Iterator[Problem]:
    """Cline's extension expands `${env:NAME}` in the MCP settings it writes on each member's machine (headers
    are never written: CS180), then checks the URL; clinesync resolves `${env:...}` in CI."""
    try:
        names = envref.names(url)
        shipped = "".join(part for part in envref.parse(url) if isinstance(part, str))
    except envref.MalformedReference:
        return  # CS170 says what is wrong with it
    for name in names:
        yield loaded.problem(
            "CS184",
            loaded.value_mark(at),
            f"${{env:{name}}} in an MCP server's URL: clinesync resolves it from the environment it runs in "
            f"and sends that one value to every member, while Cline would expand it on each member's machine; "
            f"write $${{env:{name}}} to ship the reference for members' machines (in a path or a query: "
            "CS188 says why not in the host)",
        )
    if "${env:" not in shipped:
        return
    if remote.get("blockPersonalRemoteMCPServers") is True:
        yield loaded.problem(
            "CS187",
            loaded.value_mark(at),
            "with blockPersonalRemoteMCPServers, Cline's extension connects to a remote server only where its "
            "URL, expanded on the member's machine, equals a URL of the document as written: this one differs "
            f"wherever the variable is set, and the server is blocked there ({CLINE_CHECKED})",
        )
    authority = _AUTHORITY.match(shipped)
    if authority and "${env:" in authority[1].rpartition("@")[2]:  # the host and port, past any userinfo
        yield loaded.problem(
            "CS188",
            loaded.value_mark(at),
            "a reference in an MCP server URL's host: on a member's machine without the variable it stays "
            "as written, the URL is invalid, and Cline's extension then loads none of that member's MCP servers "
            f"({CLINE_CHECKED}); write the host as one",
        )


_AUTHORITY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)")


def _skills(loaded: LoadedFile, remote: dict[str, Any]) -> Iterator[Problem]:
    for index, skill in _entries(remote, "globalSkills"):
        contents = skill.get("contents")
        if not isinstance(contents, str) or loaded.deferred(contents):
            continue
        if not contents.lstrip("\ufeff").startswith("---"):
            continue  # no front matter at all: CS160 says so
        reading = read_skill(skill)
        at = loaded.value_mark(("remoteConfig", "globalSkills", index, "contents"))
        if reading.rejected is not None:
            yield loaded.problem(
                "CS182",
                at,
                f"Cline's extension does not load this skill: {reading.rejected} ({CLINE_CHECKED})",
            )
        elif reading.unlisted:
            yield loaded.problem(
                "CS182",
                at,
                "a skill without a description in its front matter still reaches members' Cline, but the "
                "extension's skills panel does not list it: members can neither see nor switch it off; add "
                f"'description: <when to use it>' between the '---' lines ({CLINE_CHECKED})",
            )


def _uploads(loaded: LoadedFile, remote: dict[str, Any]) -> Iterator[Problem]:
    written = upload_settings(remote)
    if written is None or not written.get("type"):
        return
    at: Path = ("remoteConfig", "enterpriseTelemetry", "promptUploading")
    if prompt_uploading(remote) is None:
        yield loaded.problem(
            "CS185",
            loaded.value_mark(at + ("type",)),
            f"prompt uploading of type {written['type']} has no settings of its own beside it: Cline's clients "
            f"then take no bucket and upload nothing ({CLINE_CHECKED})",
        )
    elif written.get("enabled") is False:
        yield loaded.problem(
            "CS185",
            loaded.value_mark(at + ("enabled",)),
            "prompt uploading is switched off but still configured: Cline's extension hands the bucket and its "
            "keys to the upload worker on every member's machine whatever enabled says; remove "
            f"promptUploading to keep them off members' machines ({CLINE_CHECKED})",
        )


def _providers(loaded: LoadedFile, remote: dict[str, Any]) -> Iterator[Problem]:
    configured = configured_providers({"remoteConfig": remote})
    if len(configured) < 2:
        return
    landing = configured[-1]
    yield loaded.problem(
        "CS186",
        loaded.key_mark(("remoteConfig", "providerSettings")),
        f"{len(configured)} providers: members may pick any of them; a member already on one stays, and new "
        f"members land on {landing} ({provider_id(landing)}), the last in Cline's order "
        f"({', '.join(configured)}), whatever the order here ({CLINE_CHECKED})",
    )
