"""What members' Cline runs with: a model of Cline's two clients (the VS Code extension and the command-line
client) applied to a stored document (SPEC §11). Checks (CS180-CS186), impact lines and the member preview
all read it.

Every fact below was read from Cline's public repository (github.com/cline/cline) at commit 21cb8d2 of
2026-08-22 ("Cline 2026-08"), in the files `CLINE_SOURCES` names; the next Cline release is checked against
that table and this module only. clinesync's own code states the facts; none of Cline's is copied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clinesync.fields import Item, Path

CLINE_CHECKED = "Cline 2026-08"
CLINE_COMMIT = "github.com/cline/cline at 21cb8d2, 2026-08-22"  # where every fact here was read
CLINE_SOURCES = {
    "mapping": "apps/vscode/src/core/storage/remote-config/utils.ts",
    "discovery": "apps/vscode/src/core/storage/remote-config/contracts.ts, sdk-control-plane.ts",
    "refresh": "apps/vscode/src/sdk/SdkController.ts (hourly timer, and before each session)",
    "mcp": "apps/vscode/src/core/storage/remote-config/syncRemoteMcpServers.ts, apps/vscode/src/services/mcp/McpHub.ts",
    "skills": "apps/vscode/src/core/context/instructions/user-instructions/skills.ts",
    "uploads": "apps/vscode/src/core/storage/remote-config/utils.ts, sdk/packages/shared/src/remote-config/blob-storage.ts",
    "cli": "apps/cli/src/utils/enterprise.ts, sdk/packages/shared/src/remote-config/schema.ts",
}

CLIENTS = ("extension", "cli")

# When members get what the console now holds (`refresh`): not at once.
MEMBERS_PICK_IT_UP = (
    "members pick it up at their Cline's next refresh, within the hour (the extension refreshes hourly and "
    f"before each session, the command-line client at each session; {CLINE_CHECKED})"
)

# The extension maps each provider block to its own provider id and copies these fields into settings that
# shadow the member's own (`mapping`): locked. It walks the blocks in this order, each setting plan and act
# mode, so a new member lands on the last configured one; a member already on a configured one stays.
_PROVIDERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "OpenAiCompatible": ("openai", ("openAiBaseUrl", "openAiHeaders", "azureApiVersion", "azureIdentity")),
    "AwsBedrock": (
        "bedrock",
        (
            "awsRegion",
            "awsUseCrossRegionInference",
            "awsUseGlobalInference",
            "awsBedrockUsePromptCache",
            "awsBedrockEndpoint",
        ),
    ),
    "Cline": ("cline", ()),
    "LiteLLM": ("litellm", ("baseUrl",)),
    "Vertex": ("vertex", ("vertexProjectId", "vertexRegion")),
    "Anthropic": ("anthropic", ("baseUrl",)),
}

# Parts of a document no client reads (`mapping`, `cli`): each with why, for the plan to say so.
_IGNORED_FIELDS = {
    "models": "no Cline client enforces or offers the model list: members pick any model the endpoint serves",
    "customModels": "no Cline client reads customModels",
    "kanbanEnabled": "no Cline client reads kanbanEnabled",
    "yoloModeAllowed": "no Cline client reads yoloModeAllowed",
}

Mask = Callable[[Any, Path], Any]
View = dict[str, Any]


def provider_id(block: str) -> str:
    """The extension's id of a provider block (`OpenAiCompatible` is `openai`)."""
    return _PROVIDERS[block][0]


def configured_providers(tree: dict[str, Any] | None) -> list[str]:
    """The provider blocks of a stored document, in the order Cline's extension applies them."""
    settings = ((tree or {}).get("remoteConfig") or {}).get("providerSettings")
    return [name for name in _PROVIDERS if isinstance(settings, dict) and name in settings]


def member_views(tree: dict[str, Any] | None, mask: Mask) -> dict[str, View]:
    """Per client, what a member runs with when the console holds `tree` (`enabled` and `remoteConfig`);
    None is a console with no configuration. `mask(value, path)` is how a value may be shown."""
    config = _in_force(tree)
    if config is None:
        return {client: _unmanaged() for client in CLIENTS}
    return {"extension": _extension(config, mask), "cli": _cli(config)}


def extension_view(tree: dict[str, Any] | None, mask: Mask) -> View:
    """What a member of the extension runs with when the console holds `tree`: `member_views`'s first."""
    config = _in_force(tree)
    return _unmanaged() if config is None else _extension(config, mask)


def _in_force(tree: dict[str, Any] | None) -> dict[str, Any] | None:
    """The remote configuration members' Cline applies: None when switched off, absent or not a mapping."""
    config = tree.get("remoteConfig") if tree and tree.get("enabled") else None
    return config if isinstance(config, dict) else None


def _unmanaged() -> View:
    return {
        "provider": None,
        "selectable": "any",
        "locked": [],
        "mcpServers": {"written": [], "localServers": "any"},
        "instructions": {"rules": [], "workflows": [], "skills": []},
        "telemetry": {"telemetry": "the member's choice", "openTelemetry": "off"},
        "uploads": "off",
        "notApplied": [],
    }


def _extension(config: dict[str, Any], mask: Mask) -> View:
    view = _unmanaged()
    settings = config.get("providerSettings")
    settings = settings if isinstance(settings, dict) else {}
    configured = configured_providers({"remoteConfig": config})
    if configured:
        providers = [_PROVIDERS[name][0] for name in configured]
        view["provider"] = {"newMembers": providers[-1], "membersOnOneOfThemStay": providers}
        view["selectable"] = providers
    for name in configured:
        block = settings[name] if isinstance(settings[name], dict) else {}
        for field in _PROVIDERS[name][1]:
            if field in block:
                path: Path = ("remoteConfig", "providerSettings", name, field)
                view["locked"].append(
                    {"setting": ".".join(map(str, path[1:])), "value": mask(block[field], path)}
                )
    if "telemetryEnabled" in config:
        path = ("remoteConfig", "telemetryEnabled")
        view["locked"].append(
            {"setting": "telemetryEnabled", "value": mask(config["telemetryEnabled"], path)}
        )
        view["telemetry"]["telemetry"] = "on" if config["telemetryEnabled"] else "off"
    view["telemetry"]["openTelemetry"] = "on" if config.get("openTelemetryEnabled") else "off"
    view["mcpServers"] = _mcp(config, mask)
    view["instructions"] = _instructions(config, skills=True)
    view["uploads"] = _uploads(config, honours_enabled=False)
    view["notApplied"] = _not_applied(config, cli=False)
    return view


def _cli(config: dict[str, Any]) -> View:
    """The command-line client reads rules, workflows, OpenTelemetry and prompt uploading only (`cli`)."""
    view = _unmanaged()
    view["telemetry"]["openTelemetry"] = "on" if config.get("openTelemetryEnabled") else "off"
    view["instructions"] = _instructions(config, skills=False)
    view["uploads"] = _uploads(config, honours_enabled=True)
    view["notApplied"] = _not_applied(config, cli=True)
    return view


def _listed(config: dict[str, Any], field: str) -> list[dict[str, Any]]:
    """The items of a list field that are mappings; nothing for a field that is not a list."""
    items = config.get(field)
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _mcp(config: dict[str, Any], mask: Mask) -> dict[str, Any]:
    """Remote servers are written to members' MCP settings by name and URL only; the allowlist is matched
    against the names of members' local servers; `mcpMarketplaceEnabled: false` blocks every local one (`mcp`)."""
    written = []
    for entry in _listed(config, "remoteMCPServers"):
        name = entry.get("name")
        # Masked at the path plans name it by (the server's identity), so a URL from ${env:} is never shown.
        where: Path = (
            "remoteConfig",
            "remoteMCPServers",
            Item("name", name) if isinstance(name, str) else 0,
            "url",
        )
        written.append({"name": name, "url": mask(entry.get("url"), where)})
    allowed = [entry.get("id") for entry in _listed(config, "allowedMCPServers")]
    if config.get("mcpMarketplaceEnabled") is False:
        local: Any = "none"
    elif allowed:
        local = {"onlyNamed": allowed}
    else:
        local = "any"
    found: dict[str, Any] = {"written": written, "localServers": local}
    if config.get("blockPersonalRemoteMCPServers") is True:
        found["personalRemoteServers"] = "blocked"
    return found


def _instructions(config: dict[str, Any], skills: bool) -> dict[str, list[dict[str, Any]]]:
    """Rules, workflows and skills arrive on; `alwaysEnabled` locks them on. The extension hides a skill whose
    front matter has no description (`skills`); the command-line client reads no skills (`cli`)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for kind, field in (
        ("rules", "globalRules"),
        ("workflows", "globalWorkflows"),
        ("skills", "globalSkills"),
    ):
        entries = _listed(config, field)
        if kind == "skills":
            entries = [entry for entry in entries if skills and is_described(entry)]
        found[kind] = [
            {"name": entry.get("name"), "default": "on", "locked": entry.get("alwaysEnabled") is True}
            for entry in entries
        ]
    return found


def is_described(skill: dict[str, Any]) -> bool:
    """A skill whose front matter has a description: the extension drops any other (`skills`)."""
    contents = skill.get("contents")
    return isinstance(contents, str) and bool(front_matter_value(contents, "description"))


def front_matter_value(contents: str, key: str) -> str | None:
    """`key`'s value in a skill's front matter (between `---` lines at its start), or None."""
    lines = contents.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    for line in lines[1:]:
        if line.strip() == "---":
            return None
        name, _, value = line.partition(":")
        if name.strip() == key:
            return value.strip().strip("\"'")
    return None


def prompt_uploading(config: dict[str, Any]) -> dict[str, Any] | None:
    """`enterpriseTelemetry.promptUploading` where it names a type: the extension's upload worker starts with
    it whatever `enabled` says; the command-line client uploads only with `enabled: true` (`uploads`)."""
    telemetry = config.get("enterpriseTelemetry")
    uploading = telemetry.get("promptUploading") if isinstance(telemetry, dict) else None
    return uploading if isinstance(uploading, dict) and uploading.get("type") else None


def _uploads(config: dict[str, Any], honours_enabled: bool) -> Any:
    uploading = prompt_uploading(config)
    if uploading is None:
        return "off"
    if honours_enabled and uploading.get("enabled") is not True:
        return "off"
    return {"type": uploading.get("type"), "enabledFlag": uploading.get("enabled")}


def _not_applied(config: dict[str, Any], cli: bool) -> list[dict[str, str]]:
    """Each path of the document this client does not apply, with why."""
    found = []
    settings = config.get("providerSettings")
    for name, block in settings.items() if isinstance(settings, dict) else []:
        if cli:
            found.append(
                {
                    "path": f"remoteConfig.providerSettings.{name}",
                    "reason": "the command-line client applies no provider",
                }
            )
            continue
        for field in ("models", "customModels"):
            if isinstance(block, dict) and field in block:
                found.append(
                    {
                        "path": f"remoteConfig.providerSettings.{name}.{field}",
                        "reason": _IGNORED_FIELDS[field],
                    }
                )
    for field in ("kanbanEnabled", "yoloModeAllowed"):
        if field in config:
            found.append({"path": f"remoteConfig.{field}", "reason": _IGNORED_FIELDS[field]})
    for entry in _listed(config, "remoteMCPServers"):
        where = f"remoteConfig.remoteMCPServers[name={entry.get('name')}]"
        if cli:
            found.append({"path": where, "reason": "the command-line client applies no MCP setting"})
            continue
        for field in ("headers", "alwaysEnabled"):
            if field in entry:
                found.append(
                    {
                        "path": f"{where}.{field}",
                        "reason": f"not written to members' MCP settings: the server is called without its {field}",
                    }
                    if field == "headers"
                    else {
                        "path": f"{where}.{field}",
                        "reason": "only locks the switch in the extension's panel; members' settings file can still disable it",
                    }
                )
    for entry in _listed(config, "globalSkills"):
        where = f"remoteConfig.globalSkills[name={entry.get('name')}]"
        if cli:
            found.append({"path": where, "reason": "the command-line client reads no skills"})
        elif not is_described(entry):
            found.append(
                {
                    "path": where,
                    "reason": "a skill without a description in its front matter is dropped from the extension's skills",
                }
            )
    if cli:
        for field in (
            "telemetryEnabled",
            "allowedMCPServers",
            "mcpMarketplaceEnabled",
            "blockPersonalRemoteMCPServers",
        ):
            if field in config:
                found.append(
                    {"path": f"remoteConfig.{field}", "reason": "the command-line client does not apply it"}
                )
    return found
