"""Hypothesis strategies for organization documents, derived from the packaged schema.

`remote_configs()` draws RemoteConfig documents that pass every check (so plan and apply accept them);
`yaml_texts()` draws arbitrary, often broken, YAML for the loader and checks.
"""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

from clinesync.contract import schema
from clinesync.fields import HEADER_MAPS, IDENTITY_KEYS, URL_FIELDS
from clinesync.files.checks import _PLACEHOLDER

_SAFE = st.text(alphabet=string.ascii_lowercase + string.digits + " -_.", min_size=1, max_size=12).filter(
    lambda text: not _PLACEHOLDER.search(text) and text.strip() == text
)
_URLS = st.builds(
    lambda host, path: f"https://{host}.example.com/{path}",
    st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8),
    st.text(alphabet=string.ascii_lowercase + "/", max_size=10),
)
_HEADER_NAMES = st.text(alphabet=string.ascii_letters + "-", min_size=1, max_size=10).filter(
    lambda name: (
        "token" not in name.lower()
        and not any(word in name.lower() for word in ("secret", "password", "key", "cookie", "auth"))
    )
)
_NUMBERS = st.integers(min_value=0, max_value=10**6) | st.floats(
    min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False
)
_INSTRUCTION = st.builds(
    lambda name, on, text: {"name": name, "alwaysEnabled": on, "contents": text}, _SAFE, st.booleans(), _SAFE
)


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = {
            **schema()["$defs"][node["$ref"].rsplit("/", 1)[1]],
            **{k: v for k, v in node.items() if k != "$ref"},
        }
    return node


def _value(name: str, node: dict[str, Any]) -> st.SearchStrategy[Any]:
    node = _resolve(node)
    if name in URL_FIELDS:
        return _URLS
    if name == "azureApiVersion":
        return st.sampled_from(["2024-06-01", "2024-02-15-preview"])
    if name in ("globalRules", "globalWorkflows"):
        return st.lists(_INSTRUCTION, max_size=3, unique_by=lambda item: item["name"])
    if name == "globalSkills":
        skill = st.builds(
            lambda name, on, text: {
                "name": name,
                "alwaysEnabled": on,
                "contents": f"---\nname: {name}\n---\n{text}",
            },
            _SAFE.filter(lambda text: text[0].isalnum()),
            st.booleans(),
            _SAFE,
        )
        return st.lists(skill, max_size=2, unique_by=lambda item: item["name"])
    if name in HEADER_MAPS:  # HTTP names ignore case: one header per folded name (CS130)
        return st.dictionaries(_HEADER_NAMES, _SAFE, max_size=3).filter(
            lambda headers: len({header.lower() for header in headers}) == len(headers)
        )
    if "enum" in node:
        return st.sampled_from(node["enum"])
    if "pattern" in node:  # the exporter lists
        return st.sampled_from(["console", "otlp", "console,otlp"])
    kind = node.get("type")
    if kind == "boolean":
        return st.booleans()
    if kind == "number":
        return _NUMBERS
    if kind == "string":
        return _SAFE
    if kind == "array":
        identity = IDENTITY_KEYS.get(name)
        return st.lists(
            _object(node["items"]), max_size=3, unique_by=(lambda item: item[identity]) if identity else None
        )
    return _object(node)


def _object(node: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    node = _resolve(node)
    properties = node.get("properties", {})
    required = set(node.get("required", ()))
    return st.fixed_dictionaries(
        {name: _value(name, child) for name, child in properties.items() if name in required},
        optional={name: _value(name, child) for name, child in properties.items() if name not in required},
    )


def _providers() -> st.SearchStrategy[dict[str, Any]]:
    """Providers with the fields their console panels require (CS142), never empty (CS141)."""
    settings = _resolve(schema()["$defs"]["RemoteConfig"]["properties"]["providerSettings"])["properties"]
    needed = {
        "OpenAiCompatible": ["openAiBaseUrl"],
        "AwsBedrock": ["awsRegion"],
        "Vertex": ["vertexProjectId", "vertexRegion"],
        "LiteLLM": ["baseUrl"],
        "Anthropic": ["models"],
        "Cline": ["models"],
    }
    providers = {}
    for name, node in settings.items():
        resolved = _resolve(node)
        fields = resolved["properties"]
        providers[name] = st.fixed_dictionaries(
            {field: _value(field, fields[field]) for field in needed[name]},
            optional={
                field: _value(field, child) for field, child in fields.items() if field not in needed[name]
            },
        ).filter(lambda provider, name=name: _azure_consistent(name, provider))
    return st.fixed_dictionaries({}, optional=providers)


def _azure_consistent(name: str, provider: dict[str, Any]) -> bool:
    """Generated base URLs are not Azure hosts: leave the Azure-only settings out (CS121)."""
    return name != "OpenAiCompatible" or (
        "azureApiVersion" not in provider and not provider.get("azureIdentity")
    )


def remote_configs() -> st.SearchStrategy[dict[str, Any]]:
    config = _resolve(schema()["$defs"]["RemoteConfig"])["properties"]
    optional = {
        name: _value(name, node)
        for name, node in config.items()
        if name not in ("providerSettings", "version", "yoloModeAllowed")
    }
    optional["providerSettings"] = _providers()
    return st.fixed_dictionaries({"version": st.just("v1")}, optional=optional)


_YAML_SCALARS = st.sampled_from(
    [
        "",
        "~",
        "yes",
        "no",
        "2024-06-01",
        "1e3",
        "0x10",
        "-.inf",
        "'quoted'",
        '"\\x00"',
        "${env:X}",
        "${",
        "&a",
        "*a",
        "!!binary x",
        "<<",
        "|",
        ">",
        "[",
        "{",
        "- ",
        ": ",
        "#",
        "org-01JZPE4CHW5XTP73W95762121Y",
    ]
) | st.text(max_size=10)


def yaml_texts() -> st.SearchStrategy[str]:
    """YAML-shaped text: known keys, indentation and hostile scalars, glued together."""
    keys = st.sampled_from(
        [
            "organization",
            "enabled",
            "remoteConfig",
            "providerSettings",
            "OpenAiCompatible",
            "openAiBaseUrl",
            "openAiHeaders",
            "models",
            "id",
            "globalSkills",
            "name",
            "contents",
            "- id",
            "<<",
            "? ",
            "x",
        ]
    )
    line = (
        st.builds(
            lambda indent, key, value: f"{'  ' * indent}{key}: {value}",
            st.integers(0, 4),
            keys,
            _YAML_SCALARS,
        )
        | _YAML_SCALARS
    )
    return st.lists(line, max_size=12).map("\n".join)


@st.composite
def mutated_files(draw: st.DrawFn) -> str:
    """A valid organization file with a few values replaced by hostile ones: wrong types, injections,
    placeholders, malformed references, unknown keys. Well-formed YAML, so schema and checks run."""
    import yaml

    from clinesync.fields import walk

    document = {"organization": "org-01JZPE4CHW5XTP73W95762121Y", "remoteConfig": draw(remote_configs())}
    nodes = [(path, node) for path, node in walk(document) if path and isinstance(node, (dict, list))]
    hostile = st.sampled_from(
        [
            None,
            True,
            3.5,
            "",
            "a\r\nb",
            "(sensitive)",
            "${oops}",
            "${env:",
            "http://x",
            "nota url",
            [],
            {},
            "2024-6-1",
            "ḟoo",
            "\u0430",
        ]
    )
    for _ in range(draw(st.integers(1, 4))):
        if not nodes:
            break
        _, node = draw(st.sampled_from(nodes))
        if isinstance(node, dict):
            key = draw(st.sampled_from([*node, "unknownKey", "openAIBaseUrl"]))
            node[key] = draw(hostile)
        elif node:
            node[draw(st.integers(0, len(node) - 1))] = draw(hostile)
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
