"""Warnings where Cline's clients drop or ignore what the file says (SPEC §11, CS180-CS186), as the model of
Cline's clients (`clients.py`, as of Cline 2026-08) has it. They are about what is written, so they run on the
file as written only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from clinesync.clients import CLINE_CHECKED, configured_providers, is_described, prompt_uploading, provider_id
from clinesync.fields import Path
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
    if "kanbanEnabled" in remote:
        yield loaded.problem(
            "CS183",
            loaded.key_mark(("remoteConfig", "kanbanEnabled")),
            f"kanbanEnabled has no effect: no Cline client reads it ({CLINE_CHECKED})",
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
        yield from _member_side_references(loaded, path, server)


def _member_side_references(loaded: LoadedFile, path: Path, server: dict[str, Any]) -> Iterator[Problem]:
    """Cline's extension expands `${env:NAME}` in MCP server settings on each member's machine; clinesync
    resolves `${env:...}` in CI. Written here, it means CI's value, pushed to every member."""
    headers = server.get("headers")
    values: list[tuple[Path, Any]] = [(path + ("url",), server.get("url"))]
    values += [
        (path + ("headers", name), value)
        for name, value in (headers.items() if isinstance(headers, dict) else [])
    ]
    for at, value in values:
        if not isinstance(value, str) or "${env:" not in value:
            continue
        try:
            names = envref.names(value)
        except envref.MalformedReference:
            continue  # CS170 says what is wrong with it
        for name in names:
            yield loaded.problem(
                "CS184",
                loaded.value_mark(at),
                f"${{env:{name}}} in an MCP server's settings: clinesync resolves it from the environment it "
                f"runs in and sends that one value to every member, while Cline would expand it on each "
                f"member's machine; write $${{env:{name}}} to ship the reference for members' machines (in a path, a query or "
                "a header value: a host must be written as one)",
            )


def _skills(loaded: LoadedFile, remote: dict[str, Any]) -> Iterator[Problem]:
    for index, skill in _entries(remote, "globalSkills"):
        contents = skill.get("contents")
        if not isinstance(contents, str) or loaded.deferred(contents) or is_described(skill):
            continue
        if not contents.lstrip("\ufeff").startswith("---"):
            continue  # no front matter at all: CS160 says so
        yield loaded.problem(
            "CS182",
            loaded.value_mark(("remoteConfig", "globalSkills", index, "contents")),
            "a skill without a description in its front matter is dropped by Cline's extension: add "
            f"'description: <when to use it>' between the '---' lines ({CLINE_CHECKED})",
        )


def _uploads(loaded: LoadedFile, remote: dict[str, Any]) -> Iterator[Problem]:
    uploading = prompt_uploading(remote)
    if uploading is not None and uploading.get("enabled") is False:
        yield loaded.problem(
            "CS185",
            loaded.value_mark(("remoteConfig", "enterpriseTelemetry", "promptUploading", "enabled")),
            "prompt uploading is switched off but still configured: Cline's extension starts its upload worker "
            "with the bucket and keys whatever enabled says; remove promptUploading to stop uploads "
            f"({CLINE_CHECKED})",
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
