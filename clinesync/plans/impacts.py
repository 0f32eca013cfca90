"""Impact lines: what a reviewer must not miss in a plan, in words (SPEC §4), each of a class that approvals
can route on (a security review for `credentials` and `endpoint-host`)."""

from __future__ import annotations

from typing import Any, NamedTuple

from clinesync.clients import CLINE_CHECKED, cli_uploads, configured_providers, extension_view
from clinesync.cline import is_loopback
from clinesync.diff import Change
from clinesync.fields import URL_FIELDS, Path, dotted, is_header_path, is_sensitive_path, is_url_path, walk
from clinesync.urls import WebUrl, read

# The classes, in the order they are listed; `plan --format json` gives each organization's, and the GitHub
# example labels a pull request `clinesync:CLASS` with them.
CLASSES = ("enablement", "provider", "endpoint-host", "credentials", "mcp", "instructions", "telemetry")


class Impact(NamedTuple):
    kind: str  # one of CLASSES
    line: str


def impacts(
    live: dict[str, Any] | None,
    desired: dict[str, Any],
    changes: list[Change],
    from_environment: frozenset[Path],
) -> list[Impact]:
    if not changes:
        return []
    found: list[Impact] = []
    was_enabled = bool(live and live.get("enabled"))
    if desired["enabled"] and not was_enabled:
        found.append(
            Impact(
                "enablement",
                "enabling remote configuration locks every member to these providers"
                if configured_providers(desired)
                else "enabling remote configuration: no provider is set, members keep their own",
            )
        )
    elif was_enabled and not desired["enabled"]:
        found.append(
            Impact(
                "enablement",
                "disabling remote configuration unlocks every member's settings and deletes their cached copy",
            )
        )
    elif not desired["enabled"]:
        found.append(Impact("enablement", "remote configuration stays off: members get none of this"))
    # Providers as members get them: none from a document that is switched off (SPEC §11).
    found += [
        Impact("provider", line)
        for line in _provider_impacts(
            configured_providers(live if was_enabled else None),
            configured_providers(desired if desired["enabled"] else None),
        )
    ]
    # What the extension's members see (the command-line client's differences are in the member preview).
    before, after = extension_view(live, _as_is), extension_view(desired, _as_is)
    found += _member_impacts(before, after, cli_uploads(desired))
    # Endpoints as members reach them: none from a document switched off, and every one of a document
    # switched on, changed or not.
    reached = _reached_endpoints(live, desired, changes) if desired["enabled"] and not was_enabled else []
    for change in changes:
        if desired["enabled"]:
            found += [Impact("endpoint-host", line) for line in _url_impacts(change, from_environment)]
        if (
            change.path[-1] == "azureIdentity"
            and change.op != "remove"
            and bool(change.after) != bool(change.before)
        ):
            found.append(
                Impact(
                    "credentials",
                    f"azureIdentity switched on: locked, but Cline's runtime obtains no Entra ID token ({CLINE_CHECKED}): "
                    "members' requests carry their own API key, or none"
                    if change.after
                    else "azureIdentity switched off: members' requests carry their own API key, as they did",
                )
            )
        found += _credential_impacts(change, from_environment)
    found += [
        Impact("endpoint-host", line) for change in reached for line in _url_impacts(change, from_environment)
    ]
    found += _not_applied(changes, before, after)
    return list(dict.fromkeys(found))


def _reached_endpoints(
    live: dict[str, Any] | None, desired: dict[str, Any], changes: list[Change]
) -> list[Change]:
    """The URLs of a document switched on that the changes leave as they were: new to members all the same.
    A created document's changes add all of it, leaf by leaf: only a whole list added as one (its items
    without identities) can hold such a URL, and only those are walked."""
    changed = {change.path for change in changes}
    if live is None:
        where = [(change.path, change.after) for change in changes if isinstance(change.after, dict | list)]
    else:
        where = [((), desired)]
    return [
        Change("add", path, None, value)
        for start, tree in where
        for path, value in walk(tree, start, identified=True)
        if is_url_path(path) and path not in changed
    ]


def classes(found: list[Impact]) -> list[str]:
    """The classes among `found`, in the order of CLASSES."""
    kinds = {impact.kind for impact in found}
    return [kind for kind in CLASSES if kind in kinds]


def _credential_impacts(change: Change, from_environment: frozenset[Path]) -> list[Impact]:
    """A credential set, changed or removed: by its name (an API key field, an Authorization header), or a
    header whose value comes from the environment. Whole blocks added or removed are looked into."""
    op, path = change.op, change.path
    if (
        op == "add"
        and not isinstance(change.after, dict | list)
        and not _is_credential(path, from_environment)
    ):
        return []  # most changes of a fleet of creates: one leaf, no credential
    was = _credentials(change.before, path, from_environment) if op != "add" else {}
    now = _credentials(change.after, path, from_environment) if op != "remove" else {}
    lines = [
        Impact("credentials", f"credential {dotted(where)} {'changes' if where in was else 'is set'}")
        for where in now
    ]
    lines += [
        Impact("credentials", f"credential {dotted(where)} is removed") for where in was if where not in now
    ]
    if op == "change" and path in from_environment and is_url_path(path):
        # Its userinfo or query may be a key; output shows none of it, so say that it changed.
        line = f"{change.where}, from the environment, changes with any credential it holds"
        lines.append(Impact("credentials", line))
    return lines


def _credentials(side: Any, path: Path, from_environment: frozenset[Path]) -> dict[Path, None]:
    """The credentials in one side of a change at `path`, in order."""
    if not isinstance(side, dict | list):  # most changes: one leaf, no walk
        return {path: None} if _is_credential(path, from_environment) else {}
    return dict.fromkeys(where for where, _ in walk(side, path) if _is_credential(where, from_environment))


def _is_credential(path: Path, from_environment: frozenset[Path]) -> bool:
    return is_sensitive_path(path) or (path in from_environment and is_header_path(path))


# Changes with impact lines of their own (`_url_impacts`, Azure identity): a second line would repeat them.
_SAID_ELSEWHERE = URL_FIELDS | {"azureIdentity"}


def _as_is(value: Any, _path: Path) -> Any:
    return value  # impact lines name settings, never their values


def _member_impacts(before: dict[str, Any], after: dict[str, Any], cli_uploads: bool) -> list[Impact]:
    """What every member of the extension sees change: locked settings, MCP servers, instructions,
    OpenTelemetry, uploads (`clients.py`). Providers are said by `_provider_impacts`."""
    lines: list[Impact] = []
    was = {entry["setting"]: entry["value"] for entry in before["locked"]}
    now = {entry["setting"]: entry["value"] for entry in after["locked"]}
    for setting in now:
        if setting not in was:
            lines.append(
                Impact(
                    _class_of(setting),
                    f"{setting} is locked for every member: their own setting no longer counts",
                )
            )
        elif now[setting] != was[setting] and setting.rsplit(".", 1)[-1] not in _SAID_ELSEWHERE:
            lines.append(Impact(_class_of(setting), f"{setting} changes for every member (locked)"))
    lines += [
        Impact(_class_of(setting), f"{setting} is unlocked: members choose it again")
        for setting in was
        if setting not in now
    ]
    servers = {_key(server["name"]): server for server in after["mcpServers"]["written"]}
    old_servers = {_key(server["name"]): server for server in before["mcpServers"]["written"]}
    for name in servers:
        if name not in old_servers:
            lines.append(
                Impact(
                    "mcp",
                    f"MCP server {name} is added to every member's MCP settings (its name and URL only)",
                )
            )
        elif servers[name] != old_servers[name]:
            lines.append(Impact("mcp", f"MCP server {name} changes in every member's MCP settings"))
    gone = [name for name in old_servers if name not in servers]
    if "earlierServers" in after["mcpServers"]:  # switched off: Cline removes no server (`switch-off`)
        lines += [
            Impact(
                "mcp",
                f"MCP server {name} stays in members' MCP settings: Cline removes a server only while a "
                "configuration is on (remove it from remoteMCPServers and apply before switching off)",
            )
            for name in gone
        ]
    else:
        lines += [Impact("mcp", f"MCP server {name} is removed from members' MCP settings") for name in gone]
    for part in ("localServers", "personalRemoteServers"):
        if before["mcpServers"].get(part) != after["mcpServers"].get(part):
            kind = "local" if part == "localServers" else "personal remote"
            lines.append(
                Impact("mcp", f"members' {kind} MCP servers: {_said(after['mcpServers'].get(part))}")
            )
    for kind, entries in after["instructions"].items():
        old = {_key(entry["name"]): entry for entry in before["instructions"][kind]}
        for entry in entries:
            state = f"{entry['default']} and locked" if entry["locked"] else f"{entry['default']} by default"
            name = _key(entry["name"])
            if name not in old:
                lines.append(Impact("instructions", f"{kind[:-1]} {name} reaches every member, {state}"))
            elif (old[name]["locked"], old[name]["default"]) != (entry["locked"], entry["default"]):
                lines.append(Impact("instructions", f"{kind[:-1]} {name} is now {state} for every member"))
        names = {_key(entry["name"]) for entry in entries}
        lines += [
            Impact("instructions", f"{kind[:-1]} {name} no longer reaches members")
            for name in old
            if name not in names
        ]
    if before["telemetry"]["openTelemetry"] != after["telemetry"]["openTelemetry"]:
        lines.append(
            Impact(
                "telemetry",
                f"OpenTelemetry is switched {after['telemetry']['openTelemetry']} for every member",
            )
        )
    if before["uploads"] != after["uploads"]:
        lines.append(Impact("telemetry", _uploads_line(after["uploads"], cli_uploads)))
    return lines


def _uploads_line(extension: Any, cli: bool) -> str:
    """Prompt uploading as members get it: the bucket's keys on their machines (the extension's worker), and
    prompts uploaded by the command-line client only (`clients.py`)."""
    if extension == "off":
        return (
            "prompt uploading is removed: Cline hands no bucket to members from now on, but a running extension "
            "keeps the keys it has, and what its worker queued, until it restarts: rotate the keys"
        )
    sent = (
        "the command-line client uploads every session's prompts (the extension none)"
        if cli
        else "no prompt is uploaded (enabled is not true)"
    )
    return f"the prompt-upload bucket and its keys reach every member's machine; {sent}"


_CLASS_OF_FIELD = {
    **dict.fromkeys(
        ("allowedMCPServers", "remoteMCPServers", "blockPersonalRemoteMCPServers", "mcpMarketplaceEnabled"),
        "mcp",
    ),
    **dict.fromkeys(("globalRules", "globalWorkflows", "globalSkills"), "instructions"),
    **dict.fromkeys(("telemetryEnabled", "enterpriseTelemetry"), "telemetry"),
}


def _class_of(setting: str) -> str:
    """The class of a setting by the part of `remoteConfig` it sits in; provider blocks, and the settings no
    client reads (models, kanban), are `provider`."""
    field = setting.removeprefix("remoteConfig.").split(".", 1)[0].split("[", 1)[0]
    if field.startswith("openTelemetry"):
        return "telemetry"
    return _CLASS_OF_FIELD.get(field, "provider")


def _key(name: Any) -> str:
    """A name as text: a file may hold any value where a name belongs (the schema says what is wrong)."""
    return name if isinstance(name, str) else repr(name)


def _said(value: Any) -> str:
    if isinstance(value, dict) and "onlyNamed" in value:
        return "only those named " + ", ".join(map(str, value["onlyNamed"]))
    return {"none": "none may run", "any": "any may run", "blocked": "blocked", None: "allowed"}.get(
        value, str(value)
    )


def _not_applied(changes: list[Change], before: dict[str, Any], after: dict[str, Any]) -> list[Impact]:
    """A change under a part of the document no client applies says so, instead of reading like an effect:
    once for each such part, however many of its changes there are."""
    reasons = {entry["path"]: entry["reason"] for view in (before, after) for entry in view["notApplied"]}
    if not reasons:
        return []
    said: dict[str, Impact] = {}
    under = tuple(path + separator for path in reasons for separator in ".[")
    for change in changes:
        where = change.where
        if where not in reasons and not where.startswith(under):
            continue  # most changes: one look-up and one C call, not three per reason
        hit = next(path for path in reasons if where == path or where.startswith((path + ".", path + "[")))
        if hit not in said:
            line = f"members see no change from {hit}: {reasons[hit]} ({CLINE_CHECKED})"
            said[hit] = Impact(_class_of(hit), line)
    return list(said.values())


def _provider_impacts(before: list[str], after: list[str]) -> list[str]:
    """What members' provider becomes, as the extension decides it (`clients.py`): a member stays on a
    provider that is still configured; a new member, or one whose provider went, lands on the last one in
    Cline's order; every configured one is selectable."""
    landing = after[-1] if after else None
    lines = []
    for name in (name for name in after if name not in before):
        if len(after) == 1:
            lines.append(f"provider {name} added: every member is forced onto it")
        elif name == landing:
            lines.append(f"provider {name} added: members may pick it, and new members land on it")
        else:
            lines.append(f"provider {name} added: members may pick it")
    for name in (name for name in before if name not in after):
        where = f"members on it move to {landing}" if landing else "members lose it and pick their own again"
        lines.append(f"provider {name} removed: {where}")
    return lines


def _url_impacts(change: Change, from_environment: frozenset[Path]) -> list[str]:
    if change.op == "remove" or not is_url_path(change.path) or not isinstance(change.after, str):
        return []
    where, secret = change.where, change.path in from_environment
    new = _parts(change.after)
    if new is None:
        return []
    lines = []
    old = _parts(change.before) if change.op == "change" else None
    if old is not None and old.host != new.host:
        lines.append(
            f"{where} moves to another host: requests and code go elsewhere"
            if secret
            else f"{where} moves from {old.host} to {new.host}: requests and code go elsewhere"
        )
    if new.scheme == "http" and not is_loopback(new.host):
        lines.append(f"{where} is a plain http:// endpoint: traffic, code and credentials travel unencrypted")
    return lines


def _parts(url: Any) -> WebUrl | None:
    """The URL as members' Cline reads it: the host compared is the one requests go to."""
    return read(url) if isinstance(url, str) else None
