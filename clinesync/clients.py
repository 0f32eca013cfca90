"""What members' Cline runs with: a model of Cline's two clients (the VS Code extension and the command-line
client) applied to a stored document (SPEC §11). Checks (CS180-CS189), impact lines and the member preview
all read it.

Every fact below was read from Cline's public repository (github.com/cline/cline) at commit 21cb8d2 of
2026-08-22 ("Cline 2026-08"), in the files `CLINE_SOURCES` names; the next Cline release is checked against
that table and this module only. clinesync's own code states the facts; none of Cline's is copied.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

from clinesync.fields import Item, Path
from clinesync.yaml12 import scalar_value

CLINE_CHECKED = "Cline 2026-08"
CLINE_COMMIT = "github.com/cline/cline at 21cb8d2, 2026-08-22"  # where every fact here was read
CLINE_SOURCES = {
    "mapping": "apps/vscode/src/core/storage/remote-config/utils.ts",
    "discovery": "apps/vscode/src/core/storage/remote-config/contracts.ts, sdk-control-plane.ts",
    "refresh": "apps/vscode/src/sdk/SdkController.ts (hourly timer, and before each session)",
    "mcp": "apps/vscode/src/core/storage/remote-config/syncRemoteMcpServers.ts, apps/vscode/src/services/mcp/McpHub.ts",
    "switch-off": "apps/vscode/src/core/storage/remote-config/sdk-refresh.ts, utils.ts (clearRemoteConfig)",
    "skills": (
        "apps/vscode/src/core/storage/remote-config/sdk-control-plane.ts (skills to the runtime), "
        "sdk/packages/core/src/extensions/config/user-instruction-config-loader.ts (the runtime's reading), "
        "apps/vscode/src/core/context/instructions/user-instructions/skills.ts (the skills panel)"
    ),
    "telemetry": (
        "apps/vscode/src/core/storage/StateManager.ts (remote settings first), "
        "apps/vscode/src/shared/services/config/otel-config.ts, sdk/packages/shared/src/remote-config/telemetry.ts"
    ),
    "uploads": (
        "apps/vscode/src/core/storage/remote-config/utils.ts, apps/vscode/src/sdk/vscode-session-host.ts, "
        "apps/vscode/src/shared/services/worker/backfill.ts, sdk/packages/shared/src/remote-config/blob-storage.ts, "
        "apps/cli/src/session/session.ts"
    ),
    "cli": "apps/cli/src/utils/enterprise.ts, sdk/packages/shared/src/remote-config/schema.ts",
    # Requests as the runtime sends them: the member's key as a bearer token, no Entra ID token (`useIdentity`
    # is carried to sdk/packages/core/src/services/llms/handler-factory.ts and never read).
    "probe": "sdk/packages/llms/src/providers/vendors/openai-compatible.ts",
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
    "azureIdentity": "Cline's runtime obtains no Entra ID token: members' requests carry their own API key, or none",
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
        return {"extension": _unmanaged_extension(tree), "cli": _unmanaged()}
    return {"extension": _extension(config, mask), "cli": _cli(config)}


def extension_view(tree: dict[str, Any] | None, mask: Mask) -> View:
    """What a member of the extension runs with when the console holds `tree`: `member_views`'s first."""
    config = _in_force(tree)
    return _unmanaged_extension(tree) if config is None else _extension(config, mask)


def _switched_off(tree: dict[str, Any] | None) -> bool:
    """A document the console holds with `enabled: false`: members' Cline then clears its copy, but MCP servers
    an earlier configuration wrote stay in members' MCP settings (`switch-off`: only a configuration that is on
    removes them)."""
    return bool(tree) and not tree.get("enabled")  # type: ignore[union-attr]


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


def _unmanaged_extension(tree: dict[str, Any] | None) -> View:
    view = _unmanaged()
    if _switched_off(tree):
        view["mcpServers"]["earlierServers"] = (
            "stay: Cline removes MCP servers only while a configuration is on"
        )
    return view


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
    # Set either way, it shadows the member's own setting, which every reader takes it from (`telemetry`).
    if "telemetryEnabled" in config:
        path = ("remoteConfig", "telemetryEnabled")
        view["locked"].append(
            {"setting": "telemetryEnabled", "value": mask(config["telemetryEnabled"], path)}
        )
        # Sent only where the editor's own telemetry is on too (sdk-telemetry.ts).
        view["telemetry"]["telemetry"] = (
            "on where the editor's telemetry is on" if config["telemetryEnabled"] else "off"
        )
    view["telemetry"]["openTelemetry"] = "on" if exports_open_telemetry(config) else "off"
    view["mcpServers"] = _mcp(config, mask)
    view["instructions"] = _instructions(config, skills=True)
    view["uploads"] = _uploads(config, cli=False)
    view["notApplied"] = _not_applied(config, cli=False)
    return view


def _cli(config: dict[str, Any]) -> View:
    """The command-line client reads rules, workflows, OpenTelemetry and prompt uploading only (`cli`)."""
    view = _unmanaged()
    if exports_open_telemetry(config, cli=True):  # by the runtime's own service, which a global opt-out skips
        view["telemetry"]["openTelemetry"] = "on unless the member opted out of telemetry"
    view["instructions"] = _instructions(config, skills=False)
    view["uploads"] = _uploads(config, cli=True)
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


def exports_open_telemetry(config: dict[str, Any], cli: bool = False) -> bool:
    """OpenTelemetry switched on with an exporter that can send: `console`, or `otlp` with an endpoint. The
    extension takes a metrics or logs endpoint before the general one; the command-line client's runtime reads
    the general one only (`telemetry`)."""
    if config.get("openTelemetryEnabled") is not True:
        return False
    general = config.get("openTelemetryOtlpEndpoint")
    return any(
        _sends(
            config.get(f"openTelemetry{kind}Exporter"),
            general if cli else config.get(f"openTelemetryOtlp{kind}Endpoint") or general,
        )
        for kind in ("Metrics", "Logs")
    )


def _sends(exporters: Any, endpoint: Any) -> bool:
    names = {name.strip() for name in exporters.split(",")} if isinstance(exporters, str) else set()
    return "console" in names or ("otlp" in names and bool(endpoint))


def _instructions(config: dict[str, Any], skills: bool) -> dict[str, list[dict[str, Any]]]:
    """Rules, workflows and skills arrive on; `alwaysEnabled` locks them on. The extension hands every skill to
    its runtime, which takes those it can read; its skills panel lists only those with a name and a
    description, so one without stays on with no switch to turn it off (`skills`). The command-line client
    reads no skills (`cli`)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for kind, field in (("rules", "globalRules"), ("workflows", "globalWorkflows")):
        found[kind] = [
            {"name": entry.get("name"), "default": "on", "locked": entry.get("alwaysEnabled") is True}
            for entry in _listed(config, field)
        ]
    found["skills"] = []
    for entry in _listed(config, "globalSkills") if skills else []:
        reading = read_skill(entry)
        if reading.rejected is None:
            # Its front matter's switch wins over alwaysEnabled and the member's own; unlisted, it has no switch.
            locked = reading.off or entry.get("alwaysEnabled") is True or reading.unlisted
            found["skills"].append(
                {"name": entry.get("name"), "default": "off" if reading.off else "on", "locked": locked}
            )
    return found


class SkillReading(NamedTuple):
    rejected: str | None  # why the extension's runtime does not load the skill
    unlisted: bool  # the extension's skills panel does not list it (a name and a description): no switch
    off: bool  # its front matter switches it off (`disabled: true`, or else `enabled: false`): never run


_FRONT_MATTER = re.compile(r"---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)\Z")
_JS_SPACE = re.compile(r"\A[\s\ufeff]*\Z")  # what JavaScript's trim() strips, the byte-order mark too
# The skills panel's YAML library (js-yaml) also reads 0b binary integers, which YAML 1.2's core schema does not.
_PANEL_NUMBER = re.compile(r"[-+]?0b[01_]+\Z")


def read_skill(skill: dict[str, Any]) -> SkillReading:
    """A skill as the extension reads it: its runtime's reading (front matter optional, YAML when present; a
    body; `name` and `description` text where given) and its skills panel's (a name and a description)."""
    contents = skill.get("contents")
    if not isinstance(contents, str):
        return SkillReading("its contents are not text", False, False)
    text = contents.removeprefix("\ufeff")
    match = _FRONT_MATTER.match(text)
    fields: dict[str, Any] | None = {}
    body = text
    if match:
        fields, body = _front_matter(match[1]), match[2]
    if fields is None:
        return SkillReading(
            "its front matter is not YAML that Cline reads (a key twice, or not YAML)", False, False
        )
    if _JS_SPACE.match(body):
        return SkillReading("it has no instructions after its front matter", False, False)
    # `disabled` is read first; `enabled` only where `disabled` is not given.
    switch = "disabled" if fields.get("disabled") is not None else "enabled"
    for key, kind in (("name", str), ("description", str), (switch, bool)):
        if fields.get(key) is not None and not isinstance(fields[key], kind):
            return SkillReading(
                f"its front matter's {key} is not {'text' if kind is str else 'true or false'}", False, False
            )
    off = fields["disabled"] if switch == "disabled" else fields.get("enabled") is False
    description = fields.get("description")
    listed = bool(fields.get("name") and description and not _PANEL_NUMBER.match(description))
    return SkillReading(None, not listed, off)


def _front_matter(text: str) -> dict[str, Any] | None:
    """The top-level fields of a skill's front matter, each scalar typed by YAML 1.2's core schema as the
    runtime's YAML library types it (so `description: yes` is text); None where that library refuses it (not
    YAML, or a key twice). Not a mapping: no fields."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        node = yaml.compose(text, Loader=loader)
    except yaml.YAMLError:
        return None
    if not isinstance(node, yaml.MappingNode):
        return {}
    fields: dict[str, Any] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        if key.value in fields:
            return None
        if not isinstance(value, yaml.ScalarNode):
            fields[key.value] = value  # a list or a mapping: neither text nor a switch
        elif value.style or _tagged_text(value):  # quoted, a block, or `!!str`: text
            fields[key.value] = value.value
        else:
            fields[key.value] = scalar_value(value.value)
    return fields


def _tagged_text(node: Any) -> bool:
    """A plain scalar tagged `!!str` where its text alone would not be text."""
    import yaml

    text_tag = "tag:yaml.org,2002:str"
    implicit = yaml.resolver.Resolver().resolve(yaml.ScalarNode, node.value, (True, False))  # type: ignore[no-untyped-call]
    return bool(node.tag == text_tag and implicit != text_tag)


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


def upload_settings(config: dict[str, Any]) -> dict[str, Any] | None:
    """`enterpriseTelemetry.promptUploading` as written, where it is a mapping."""
    telemetry = config.get("enterpriseTelemetry")
    uploading = telemetry.get("promptUploading") if isinstance(telemetry, dict) else None
    return uploading if isinstance(uploading, dict) else None


def prompt_uploading(config: dict[str, Any]) -> dict[str, Any] | None:
    """`enterpriseTelemetry.promptUploading` where its `type` has its settings beside it (`s3_access_keys` with
    `s3AccessSettings`, ...): both clients take no bucket otherwise (`uploads`)."""
    uploading = upload_settings(config)
    kind = uploading.get("type") if uploading else None
    prefix = kind.removesuffix("_access_keys") if isinstance(kind, str) else ""
    return uploading if uploading and prefix and uploading.get(f"{prefix}AccessSettings") else None


def cli_uploads(tree: dict[str, Any] | None) -> bool:
    """Whether members' command-line client uploads their prompts when the console holds `tree`."""
    config = _in_force(tree)
    return config is not None and _uploads(config, cli=True) != "off"


def _uploads(config: dict[str, Any], cli: bool) -> Any:
    """The command-line client uploads each session's prompts with `enabled: true`. The extension hands the
    bucket and its keys to its upload worker on every member's machine whatever `enabled` says, and queues no
    prompt for it: only what an older release queued is sent (`uploads`)."""
    uploading = prompt_uploading(config)
    if uploading is None or (cli and uploading.get("enabled") is not True):
        return "off"
    found = {"type": uploading.get("type"), "enabledFlag": uploading.get("enabled")}
    if cli:
        return {**found, "prompts": "uploaded"}
    return {**found, "prompts": "none queued", "bucketKeys": "on members' machines"}


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
        for field in ("models", "customModels", "azureIdentity"):
            if isinstance(block, dict) and block.get(field) not in (None, False):
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
        elif (rejected := read_skill(entry).rejected) is not None:
            found.append({"path": where, "reason": f"Cline's extension does not load the skill: {rejected}"})
    if config.get("openTelemetryEnabled") is True and not exports_open_telemetry(config, cli):
        found.append(
            {
                "path": "remoteConfig.openTelemetryEnabled",
                "reason": "no exporter can send: name otlp (with "
                + ("openTelemetryOtlpEndpoint, the one endpoint this client reads" if cli else "an endpoint")
                + ") or console as openTelemetryMetricsExporter or openTelemetryLogsExporter: nothing is exported",
            }
        )
    uploading = upload_settings(config)
    if uploading and uploading.get("type") and prompt_uploading(config) is None:
        found.append(
            {
                "path": "remoteConfig.enterpriseTelemetry.promptUploading",
                "reason": f"its type {uploading.get('type')} has no settings of its own beside it: no bucket is used",
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
