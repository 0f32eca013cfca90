"""Checks beyond the schema (SPEC §1.2, CS110–CS170): mistakes that are valid JSON but wrong for Cline.

Every check reads the loaded data defensively, so it runs even when the schema found problems: one run
reports everything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from clinesync import envref
from clinesync.fields import (
    DEPRECATED_FIELDS,
    HEADER_MAPS,
    IDENTITY_KEYS,
    PROVIDER_REQUIRED,
    SECRET_FIELDS,
    URL_FIELDS,
    Path,
    dotted,
    is_credential_header,
)
from clinesync.loader import LoadedFile
from clinesync.problems import Problem

Check = Callable[[LoadedFile], Iterator[Problem]]

_AZURE_SUFFIXES = (
    ".openai.azure.com",
    ".cognitiveservices.azure.com",
    ".services.ai.azure.com",
    ".azure.us",
    ".azure.com",
)
_API_VERSION = re.compile(r"(\d{4})-(\d{2})-(\d{2})(-preview)?\Z")
_HTTP_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
_PLACEHOLDER = re.compile(
    r"\(sensitive\)|\[masked\]|<redacted>|\[redacted\]|\bREDACTED\b|##[A-Za-z0-9_]+##|\*{4,}", re.IGNORECASE
)


def run_checks(loaded: LoadedFile) -> list[Problem]:
    if not isinstance(loaded.data, dict):
        return []
    return [problem for check in CHECKS for problem in check(loaded)]


def is_azure_host(host: str) -> bool:
    return any(host.endswith(suffix) for suffix in _AZURE_SUFFIXES)


def _strings(loaded: LoadedFile) -> Iterator[tuple[Path, str]]:
    for path, value in loaded.nodes:
        if isinstance(value, str):
            yield path, value


def _providers(loaded: LoadedFile) -> Iterator[tuple[str, Any]]:
    config = loaded.data.get("remoteConfig")
    settings = config.get("providerSettings") if isinstance(config, dict) else None
    if isinstance(settings, dict):
        yield from settings.items()


def _provider_path(name: str) -> Path:
    return ("remoteConfig", "providerSettings", name)


def check_references(loaded: LoadedFile) -> Iterator[Problem]:
    for path, value in _strings(loaded):
        if "${" not in value:
            continue
        try:
            envref.parse(value)
        except envref.MalformedReference as error:
            yield loaded.problem("CS170", loaded.value_mark(path), f"{dotted(path)}: {error}")


def check_urls(loaded: LoadedFile) -> Iterator[Problem]:
    for path, value in _strings(loaded):
        if not path or path[-1] not in URL_FIELDS or "${" in value:
            continue
        mark = loaded.value_mark(path)
        try:
            parts = urlsplit(value)
            host = parts.hostname or ""
        except ValueError:
            parts, host = None, ""
        if parts is None or parts.scheme not in ("http", "https") or not host or value != value.strip():
            yield loaded.problem(
                "CS111",
                mark,
                f"{dotted(path)}: {value!r} is not an absolute http(s) URL (e.g. https://host/path)",
            )
        elif parts.scheme == "http" and not is_loopback(host):
            yield loaded.problem(
                "CS110",
                mark,
                f"{dotted(path)}: plain http:// to {host} sends traffic unencrypted; "
                "use https:// in production",
            )


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    import ipaddress  # only for plain-http URLs

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_azure(loaded: LoadedFile) -> Iterator[Problem]:
    for name, provider in _providers(loaded):
        if name != "OpenAiCompatible" or not isinstance(provider, dict):
            continue
        base = _provider_path(name)
        version = provider.get("azureApiVersion")
        if isinstance(version, str) and not _valid_api_version(version):
            yield loaded.problem(
                "CS120",
                loaded.value_mark(base + ("azureApiVersion",)),
                f"azureApiVersion {version!r} is not of the form YYYY-MM-DD or "
                'YYYY-MM-DD-preview (e.g. "2024-06-01")',
            )
        url = provider.get("openAiBaseUrl")
        if not isinstance(url, str) or "${" in url:
            continue
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:
            continue
        url_mark = loaded.value_mark(base + ("openAiBaseUrl",))
        if is_azure_host(host):
            if version is None:
                yield loaded.problem(
                    "CS122",
                    url_mark,
                    f"{host} is an Azure host but azureApiVersion is not set: "
                    "Cline will use 2024-08-01-preview; set it explicitly",
                )
            path = parts.path.rstrip("/")
            if path.endswith("/openai") and "/deployments/" not in path:
                yield loaded.problem(
                    "CS123",
                    url_mark,
                    "an Azure base URL ending in /openai gives 'Resource not "
                    "found' (cline issue 13342): use "
                    ".../openai/deployments/<deployment-name>",
                )
        elif host:
            if version is not None:
                yield loaded.problem(
                    "CS121",
                    loaded.key_mark(base + ("azureApiVersion",)),
                    f"azureApiVersion is set but {host} is not an Azure host: "
                    "leave it empty for non-Azure endpoints",
                )
            if provider.get("azureIdentity") is True:
                yield loaded.problem(
                    "CS121",
                    loaded.key_mark(base + ("azureIdentity",)),
                    f"azureIdentity is on but {host} is not an Azure host: "
                    "Entra ID tokens only work with Azure OpenAI",
                )


def _valid_api_version(version: str) -> bool:
    match = _API_VERSION.match(version)
    return bool(match) and 1 <= int(match.group(2)) <= 12 and 1 <= int(match.group(3)) <= 31


def check_headers(loaded: LoadedFile) -> Iterator[Problem]:
    for path, value in loaded.nodes:
        if not path or path[-1] not in HEADER_MAPS or not isinstance(value, dict):
            continue
        for name, header in value.items():
            where = path + (name,)
            if not _HTTP_TOKEN.match(name):
                yield loaded.problem(
                    "CS130",
                    loaded.key_mark(where),
                    f"header name {name!r} is not a valid HTTP header name "
                    "(letters, digits and !#$%&'*+.^_`|~- only)",
                )
            if not isinstance(header, str):
                continue
            if any(char in header for char in "\r\n\0"):
                yield loaded.problem(
                    "CS130",
                    loaded.value_mark(where),
                    f"header {name!r} has a line break or NUL in its value: that would inject headers",
                )
            elif is_credential_header(name) and _is_literal_secret(header):
                yield loaded.problem(
                    "CS131",
                    loaded.value_mark(where),
                    f"header {name!r} looks like a credential written in the file: it would be "
                    f"committed to git; write it as ${{env:NAME}}",
                )


def check_secrets(loaded: LoadedFile) -> Iterator[Problem]:
    for path, value in _strings(loaded):
        if path and path[-1] in SECRET_FIELDS and _is_literal_secret(value):
            yield loaded.problem(
                "CS131",
                loaded.value_mark(path),
                f"{dotted(path)} is a credential written in the file: it would be committed to "
                "git; write it as ${env:NAME}",
            )


def check_placeholders(loaded: LoadedFile) -> Iterator[Problem]:
    for path, value in _strings(loaded):
        match = _PLACEHOLDER.search(value)
        if match and path and path[-1] not in ("contents", "name"):
            yield loaded.problem(
                "CS132",
                loaded.value_mark(path),
                f"{dotted(path)}: {match.group()!r} looks like a redaction placeholder; applying it "
                "would overwrite the real value: write the value, or ${env:NAME}",
            )


def check_identities(loaded: LoadedFile) -> Iterator[Problem]:
    for path, value in loaded.nodes:
        if not path or not isinstance(value, list) or path[-1] not in IDENTITY_KEYS:
            continue
        key = IDENTITY_KEYS[str(path[-1])]
        seen: dict[Any, int] = {}
        for index, item in enumerate(value):
            identity = item.get(key) if isinstance(item, dict) else None
            if not isinstance(identity, str):
                continue
            if identity in seen:
                first = loaded.value_mark(path + (seen[identity], key))
                yield loaded.problem(
                    "CS140",
                    loaded.value_mark(path + (index, key)),
                    f"{dotted(path)}: {key} {identity!r} appears twice (first at line "
                    f"{first.line}); each {key} must be unique",
                )
            else:
                seen[identity] = index


def check_providers(loaded: LoadedFile) -> Iterator[Problem]:
    for name, provider in _providers(loaded):
        path = _provider_path(name)
        if provider == {} or provider is None:
            yield loaded.problem(
                "CS141",
                loaded.key_mark(path),
                f"provider {name} is empty: Cline still forces it on every member; configure it or remove it",
            )
            if provider is None:
                continue
        if not isinstance(provider, dict):
            continue
        for field_name in PROVIDER_REQUIRED.get(name, ()):
            if provider.get(field_name) in (None, ""):
                yield loaded.problem(
                    "CS142",
                    loaded.key_mark(path),
                    f"provider {name} needs {field_name}: the console's panel requires it",
                )


def check_deprecated(loaded: LoadedFile) -> Iterator[Problem]:
    for path, _ in loaded.nodes:
        if len(path) == 2 and path[0] == "remoteConfig" and path[1] in DEPRECATED_FIELDS:
            yield loaded.problem(
                "CS150",
                loaded.key_mark(path),
                f"{path[1]} is deprecated: {DEPRECATED_FIELDS[str(path[1])]}; remove it",
            )


def check_skills(loaded: LoadedFile) -> Iterator[Problem]:
    config = loaded.data.get("remoteConfig")
    skills = config.get("globalSkills") if isinstance(config, dict) else None
    if not isinstance(skills, list):
        return
    for index, skill in enumerate(skills):
        if not isinstance(skill, dict) or not isinstance(skill.get("name"), str):
            continue
        contents = skill.get("contents")
        if not isinstance(contents, str):
            continue
        declared = front_matter_name(contents)
        path = ("remoteConfig", "globalSkills", index, "contents")
        if declared is None:
            yield loaded.problem(
                "CS160",
                loaded.value_mark(path),
                f"skill {skill['name']!r}: contents must start with front matter "
                f"('---', 'name: {skill['name']}', '---')",
            )
        elif declared != skill["name"]:
            yield loaded.problem(
                "CS160",
                loaded.value_mark(path),
                f"skill {skill['name']!r}: its front matter says name {declared!r}; make them equal",
            )


def front_matter_name(contents: str) -> str | None:
    lines = contents.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    for line in lines[1:]:
        if line.strip() == "---":
            return None
        key, _, value = line.partition(":")
        if key.strip() == "name":
            return value.strip().strip("\"'")
    return None


def _is_literal_secret(value: str) -> bool:
    """A value written in clear. Placeholders (CS132) and malformed references (CS170) are reported
    by their own rules."""
    if not value or _PLACEHOLDER.search(value):
        return False
    try:
        return not envref.has_reference(value)
    except envref.MalformedReference:
        return False


CHECKS: tuple[Check, ...] = (
    check_references,
    check_urls,
    check_azure,
    check_headers,
    check_secrets,
    check_placeholders,
    check_identities,
    check_providers,
    check_deprecated,
    check_skills,
)
