"""What clinesync knows about RemoteConfig fields beyond their types: identities, URLs, headers, secrets.

Checks, diff and masking all read these tables, so a field added here is handled everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from clinesync.escape import visible


class Item(NamedTuple):
    """A list item named by its identity: `models[id=gpt-4o]`."""

    key: str
    value: str

    def __str__(self) -> str:
        return f"[{self.key}={self.value}]"


Path = tuple[str | int | Item, ...]

# Lists whose items are compared by identity, not position, keyed by the list's field name.
IDENTITY_KEYS: dict[str, str] = {
    "models": "id",
    "customModels": "name",
    "allowedMCPServers": "id",
    "remoteMCPServers": "name",
    "globalRules": "name",
    "globalWorkflows": "name",
    "globalSkills": "name",
}

# Fields whose value is a map of HTTP header name to value.
HEADER_MAPS = frozenset(
    {
        "openAiHeaders",
        "headers",
        "openTelemetryOtlpHeaders",
        "openTelemetryOtlpMetricsHeaders",
        "openTelemetryOtlpLogsHeaders",
    }
)

# Fields holding a URL that members' Cline will connect to.
URL_FIELDS = frozenset(
    {
        "openAiBaseUrl",
        "baseUrl",
        "awsBedrockEndpoint",
        "openTelemetryOtlpEndpoint",
        "openTelemetryOtlpMetricsEndpoint",
        "openTelemetryOtlpLogsEndpoint",
        "url",
        "endpoint",
    }
)

SECRET_FIELDS = frozenset({"secretAccessKey", "accessKeyId"})

# Text fields that never hold a secret (ids, names, regions, versions): live values of these are shown. Enums
# and patterned fields are shown too (`masking`); every other live text is not.
PUBLIC_TEXT_FIELDS = frozenset(
    {
        "version",
        "id",
        "name",
        "baseModelId",
        "azureApiVersion",
        "awsRegion",
        "vertexProjectId",
        "vertexRegion",
        "region",
        "bucket",
    }
)

_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key"})
_CREDENTIAL_WORDS = ("token", "secret", "password", "key", "cookie", "auth")

DEPRECATED_FIELDS: dict[str, str] = {"yoloModeAllowed": "Cline no longer honours it"}


def is_credential_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in _CREDENTIAL_HEADERS or any(word in lowered for word in _CREDENTIAL_WORDS)


_AUTH_SCHEME = re.compile(r"(?:bearer|basic|token|digest|bot|apikey)\s+\S", re.IGNORECASE)


def is_credential_value(value: str) -> bool:
    """A header value that carries an HTTP authentication scheme (`Bearer ...`), whatever the header's name."""
    return bool(_AUTH_SCHEME.match(value))


def is_header_path(path: Path) -> bool:
    """True when `path` names one header inside a header map."""
    return len(path) >= 2 and path[-2] in HEADER_MAPS and isinstance(path[-1], str)


def is_url_path(path: Path) -> bool:
    """True when `path` names a URL field; a header that happens to be called `url` is a header."""
    return bool(path) and path[-1] in URL_FIELDS and not is_header_path(path)


# Read by the extension but not by Cline's command-line client, whose copy of the schema is older
# (sdk/packages/shared/src/remote-config/schema.ts, as of Cline 2026-08): CS151.
NOT_IN_CLI_CLIENT = frozenset({"globalSkills"})
UPLOAD_TUNING_FIELDS = frozenset(
    {"intervalMs", "maxRetries", "batchSize", "maxQueueSize", "maxFailedAgeMs", "backfillEnabled"}
)


def is_sensitive_path(path: Path) -> bool:
    """True for values that are credentials by their name alone, wherever their value came from."""
    if not path or not isinstance(path[-1], str):
        return False
    if path[-1] in SECRET_FIELDS:
        return True
    return is_header_path(path) and is_credential_header(path[-1])


def identified_items(name: Any, items: Any) -> dict[str, Any] | None:
    """The items of an identity-keyed list by identity, or None when the list has no usable identities
    (missing, not text, or repeated); such a list is then compared as a whole."""
    key = IDENTITY_KEYS.get(name) if isinstance(name, str) else None
    if key is None or not isinstance(items, list):
        return None
    named = {item.get(key): item for item in items if isinstance(item, dict)}
    if len(named) != len(items) or not all(isinstance(identity, str) for identity in named):
        return None
    return {str(identity): item for identity, item in named.items()}


def children(node: Any, path: Path = (), identified: bool = False) -> list[tuple[Path, Any]]:
    """The direct children of a node with their paths. With `identified`, items of identity-keyed lists are
    named `Item(key, identity)`, as plans name them; otherwise by position."""
    if isinstance(node, dict):
        return [(path + (key,), child) for key, child in node.items()]
    if not isinstance(node, list):
        return []
    named = identified_items(path[-1] if path else None, node) if identified else None
    if named is not None:
        key = IDENTITY_KEYS[str(path[-1])]
        return [(path + (Item(key, identity),), child) for identity, child in named.items()]
    return [(path + (index,), child) for index, child in enumerate(node)]


def walk(value: Any, path: Path = (), identified: bool = False) -> Iterator[tuple[Path, Any]]:
    """Every node of a document, parents before children, with its path (see `children`)."""
    stack: list[tuple[Path, Any]] = [(path, value)]
    while stack:
        here, node = stack.pop()
        yield here, node
        stack.extend(reversed(children(node, here, identified)))


def walk_identified(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    return walk(value, path, identified=True)


def identified_paths(tree: Any) -> dict[Path, Path]:
    """Each node's positional path (`models[0]`) mapped to the path plans use (`models[id=gpt-4o]`)."""
    return dict(
        zip((path for path, _ in walk(tree)), (path for path, _ in walk_identified(tree)), strict=True)
    )


def plain_copy(tree: Any) -> Any:
    """A copy of plain data (dicts, lists, scalars), several times faster than `copy.deepcopy`."""
    if isinstance(tree, dict):
        return {key: plain_copy(value) for key, value in tree.items()}
    if isinstance(tree, list):
        return [plain_copy(value) for value in tree]
    return tree


def identified(tree: Any, path: Path) -> Path:
    """A positional path (`models[0]`) as plans name it (`models[id=gpt-4o]`), walking only along it."""
    named: list[str | int | Item] = []
    node = tree
    for part in path:
        if isinstance(part, int) and isinstance(node, list):
            items = identified_items(named[-1] if named else None, node)
            identity = IDENTITY_KEYS.get(str(named[-1])) if named else None
            named.append(Item(identity, node[part][identity]) if items is not None and identity else part)
        else:
            named.append(part)
        node = node[part]
    return tuple(named)


MISSING: Any = object()  # what `find` returns where nothing is: a value may be null


def find(tree: Any, path: Path) -> Any:
    """The value at a plan's path inside `tree`: keys, and list items by identity (`models[id=gpt-4o]`), as
    plans name them. MISSING where there is none. The one walk of identity paths."""
    for part in path:
        if isinstance(part, Item):
            if not isinstance(tree, list):
                return MISSING
            tree = next(
                (item for item in tree if isinstance(item, dict) and item.get(part.key) == part.value),
                MISSING,
            )
        elif isinstance(tree, dict) and part in tree:
            tree = tree[part]
        else:
            return MISSING
        if tree is MISSING:
            return MISSING
    return tree


def value_at(tree: Any, path: Path) -> Any:
    """The value at a positional path (keys and list indexes) inside `tree`."""
    for part in path:
        tree = tree[part]
    return tree


def replaced(tree: Any, values: Mapping[Path, Any]) -> Any:
    """`tree` with the value at each positional path replaced, `tree` left as it is: only the containers along
    those paths are copied (each once); the rest is shared, as nothing changes plain data once it is read."""
    if not values:
        return tree
    copies: dict[Path, Any] = {(): tree.copy()}
    for path, value in values.items():
        node = copies[()]
        for end in range(1, len(path)):
            inner = copies.get(path[:end])
            if inner is None:
                inner = copies[path[:end]] = node[path[end - 1]].copy()
                node[path[end - 1]] = inner
            node = inner
        node[path[-1]] = value
    return copies[()]


def set_at(tree: Any, path: Path, value: Any) -> None:
    """Put `value` at a positional path (keys and list indexes) inside `tree`."""
    value_at(tree, path[:-1])[path[-1]] = value


def dotted(path: Path) -> str:
    """`remoteConfig.providerSettings.OpenAiCompatible.models[id=gpt-4o].maxTokens` for humans."""
    text = _DOTTED.get(path)  # a fleet's plans name the same paths over and over
    if text is None:
        text = _spelled(path)
        # Only paths whose ids are all text are kept (all are, as identity lists are read today; the check
        # keeps it so): Item("id", 1) equals Item("id", True), which reads otherwise. A path equal to one kept
        # has text ids too, since keys are always text, so a hit is always its own.
        if all(type(part) is not Item or type(part.value) is str for part in path):
            if len(_DOTTED) >= 4096:
                _DOTTED.clear()
            _DOTTED[path] = text
    return text


_DOTTED: dict[Path, str] = {}


def _spelled(path: Path) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, Item):
            text += str(part)
        else:
            text += f".{part}" if text else part
    return visible(text) or "(file)"  # header names and ids are text from files or live


_PATH_PART = re.compile(r"([^.\[\]]+)|\[([^\]=]+)=([^\]]*)\]|\.")


def parse_dotted(text: str) -> Path:
    """The path `dotted` writes, read back: `remoteConfig.providerSettings.OpenAiCompatible.models[id=gpt-4o]`.
    ValueError when it is not one (a key holding a dot cannot be named)."""
    path: list[str | int | Item] = []
    position = 0
    while position < len(text):
        match = _PATH_PART.match(text, position)
        dot = match is not None and match.group() == "."
        if match is None or (dot and (not path or position + 1 == len(text) or text[position + 1] in ".[")):
            raise ValueError(f"{text!r} is not a dotted path (at character {position + 1})")
        if match.group(1) is not None:
            path.append(match.group(1))
        elif match.group(2) is not None:
            path.append(Item(match.group(2), match.group(3)))
        position = match.end()
    return tuple(path)
