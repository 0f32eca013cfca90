"""Checks beyond the schema (SPEC §1.2, CS110–CS170): mistakes that are valid JSON but wrong for Cline.

Every check reads the loaded data defensively, so it runs even when the schema found problems: one run
reports everything. Text holding a `${env:...}` reference is checked once resolved (`LoadedFile.resolved_view`),
where problems name the reference, never the value; the checks of what is written in the file (references,
literal credentials, placeholders) run on the file as written only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from clinesync.clients import front_matter_value
from clinesync.cline import is_azure_host, is_loopback
from clinesync.fields import (
    DEPRECATED_FIELDS,
    HEADER_MAPS,
    IDENTITY_KEYS,
    NOT_IN_CLI_CLIENT,
    SECRET_FIELDS,
    UPLOAD_TUNING_FIELDS,
    Path,
    dotted,
    identified_paths,
    is_credential_header,
    is_url_path,
    parse_dotted,
)
from clinesync.files import envref
from clinesync.files.client_checks import check_clients
from clinesync.files.loader import LoadedFile
from clinesync.files.problems import Problem
from clinesync.urls import WebUrl, is_web_url, misreading, read

Check = Callable[[LoadedFile], Iterator[Problem]]

_HTTP_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
_PLACEHOLDER = re.compile(
    r"\(sensitive\)|\[masked\]|<redacted>|\[redacted\]|\bREDACTED\b|##[A-Za-z0-9_]+##|\*{4,}", re.IGNORECASE
)


def run_checks(loaded: LoadedFile) -> list[Problem]:
    """Every check on a file as written; on a resolved view, the checks of values (not of the writing)."""
    if not isinstance(loaded.data, dict):
        return []
    checks = [check for check in CHECKS if check not in _OF_THE_WRITING] if loaded.resolved else CHECKS
    return [problem for check in checks for problem in check(loaded)]


def _providers(loaded: LoadedFile) -> Iterator[tuple[str, Any]]:
    config = loaded.data.get("remoteConfig")
    settings = config.get("providerSettings") if isinstance(config, dict) else None
    if isinstance(settings, dict):
        yield from settings.items()


def _provider_path(name: str) -> Path:
    return ("remoteConfig", "providerSettings", name)


def check_references(loaded: LoadedFile) -> Iterator[Problem]:
    for path, value in loaded.strings:
        if "${" not in value:
            continue
        try:
            referenced = envref.has_reference(value)
        except envref.MalformedReference as error:
            yield loaded.problem("CS170", loaded.value_mark(path), f"{dotted(path)}: {error}")
            continue
        if referenced and path[0] != "remoteConfig":
            yield loaded.problem(
                "CS170",
                loaded.value_mark(path),
                f"{dotted(path)}: references are resolved inside remoteConfig only; write the value itself",
            )


def check_urls(loaded: LoadedFile) -> Iterator[Problem]:
    for path, value in loaded.strings:
        if not is_url_path(path):
            continue
        if loaded.deferred(value):
            seen = as_written(value)  # plain http:// to a host written here: said as written
            if seen is not None and seen.url.scheme == "http" and not is_loopback(seen.url.host):
                yield _plain_http(loaded, path, seen.url.host)
            continue
        mark = loaded.value_mark(path)
        url = read(value)
        if url is None or not is_web_url(url):
            yield loaded.problem(
                "CS111",
                mark,
                f"{dotted(path)}: {loaded.shown(path, repr(value))} is not an absolute http(s) URL "
                "(e.g. https://host/path)",
            )
        elif (differs := misreading(value)) is not None:
            # A value from the environment is not shown, nor is the host Node finds in it.
            why = "" if path in loaded.references else f": {differs}"
            yield loaded.problem(
                "CS111",
                mark,
                f"{dotted(path)}: Cline reads {loaded.shown(path, repr(value))} differently from how it is "
                f"written{why}; write the URL as Node reads it",
            )
        elif (
            url.scheme == "http"
            and not is_loopback(url.host)
            and as_written(loaded.references.get(path, "")) is None  # else said as written already
        ):
            yield _plain_http(loaded, path, url.host)


def _plain_http(loaded: LoadedFile, path: Path, host: str) -> Problem:
    return loaded.problem(
        "CS110",
        loaded.value_mark(path),
        f"{dotted(path)}: plain http:// to {loaded.shown(path, host)} sends traffic unencrypted; "
        "use https:// in production",
    )


def check_azure(loaded: LoadedFile) -> Iterator[Problem]:
    for name, provider in _providers(loaded):
        if name != "OpenAiCompatible" or not isinstance(provider, dict):
            continue
        base = _provider_path(name)
        version = provider.get("azureApiVersion")
        url = provider.get("openAiBaseUrl")
        url_path = base + ("openAiBaseUrl",)
        if not isinstance(url, str):
            continue
        # Checked as written where references cannot move the host (or the path), and only the rest once
        # resolved: validate and plan say the same, once.
        check_host = check_path = True
        if loaded.deferred(url):
            seen = as_written(url)
            parts, check_path = (seen.url, seen.path_too) if seen else (None, False)
        else:
            seen = as_written(loaded.references.get(url_path, ""))  # references: the resolved view's only
            parts, check_host, check_path = read(url), seen is None, seen is None or not seen.path_too
        if parts is None:
            continue
        host = parts.host
        url_mark, shown_host = loaded.value_mark(url_path), loaded.shown(url_path, host)
        if is_azure_host(host):
            if version is None and check_host:
                yield loaded.problem(
                    "CS122",
                    url_mark,
                    f"{shown_host} is an Azure host but azureApiVersion is not set: "
                    "Cline's runtime then sends no api-version (as of Cline 2026-08), which Azure OpenAI "
                    "refuses; set the version the deployment supports",
                )
            path = parts.path.rstrip("/")
            if check_path and path.endswith("/openai") and "/deployments/" not in path:
                yield loaded.problem(
                    "CS123",
                    url_mark,
                    "an Azure base URL ending in /openai gives 'Resource not "
                    "found' (cline issue 13342): use "
                    ".../openai/deployments/<deployment-name>",
                )
        elif host and check_host:
            if version is not None:
                yield loaded.problem(
                    "CS121",
                    loaded.key_mark(base + ("azureApiVersion",)),
                    f"azureApiVersion is set but {shown_host} is not an Azure host: "
                    "leave it empty for non-Azure endpoints",
                )
            if provider.get("azureIdentity") is True:
                yield loaded.problem(
                    "CS121",
                    loaded.key_mark(base + ("azureIdentity",)),
                    f"azureIdentity is on but {shown_host} is not an Azure host: "
                    "Entra ID tokens only work with Azure OpenAI",
                )


class Written(NamedTuple):
    url: WebUrl  # the URL with its references as stand-in text: its scheme and host are the file's own
    path_too: bool  # its path too


def as_written(written: str) -> Written | None:
    """A URL with references, where they sit only where they cannot change its host (its path, query or
    fragment: `https://host/v1?key=${env:KEY}`); None otherwise. Told by reading it with the references as two
    different texts, one holding every character that splits a URL (a userinfo secret may hold one): the host
    (and path) that do not move are the file's own."""
    if "${" not in written:
        return None
    try:
        parts = envref.parse(written)
    except envref.MalformedReference:
        return None
    one, other = (
        read("".join(part if isinstance(part, str) else stand_in for part in parts))
        for stand_in in ("a", "b/?#:@[]\\c")
    )
    if (
        one is None
        or other is None
        or (one.scheme, one.host, one.port) != (other.scheme, other.host, other.port)
    ):
        return None
    return Written(one, one.path == other.path)


def check_headers(loaded: LoadedFile) -> Iterator[Problem]:
    for path, value in loaded.nodes:
        if not path or path[-1] not in HEADER_MAPS or not isinstance(value, dict):
            continue
        seen: dict[str, str] = {}
        for name, header in value.items():
            where = path + (name,)
            yield from _header_name_problems(loaded, where, name, seen)
            if not isinstance(header, str):
                continue
            if any(char in header for char in "\r\n\0"):
                yield loaded.problem(
                    "CS130",
                    loaded.value_mark(where),
                    f"header {name!r} has a line break or NUL in {loaded.shown(where, 'its value')}: "
                    "that would inject headers",
                )
            elif UNSENDABLE_IN_HEADER.search(header):
                yield loaded.problem(
                    "CS130",
                    loaded.value_mark(where),
                    f"header {name!r} has a control character, or one beyond Latin-1, in "
                    f"{loaded.shown(where, 'its value')}: Node refuses to send it, and Cline's requests would fail",
                )
            elif not loaded.resolved and is_credential_header(name) and _is_literal_secret(header):
                yield loaded.problem(
                    "CS131",
                    loaded.value_mark(where),
                    f"header {name!r} looks like a credential written in the file: it would be "
                    f"committed to git; write it as ${{env:NAME}}",
                )


# What Node's HTTP client sends in a header value: tab, printable ASCII and Latin-1; anything else is refused.
UNSENDABLE_IN_HEADER = re.compile(r"[^\t\x20-\x7e\x80-\xff]")


def _header_name_problems(
    loaded: LoadedFile, where: Path, name: str, seen: dict[str, str]
) -> Iterator[Problem]:
    if loaded.resolved:
        return  # names are never references: the file as written was checked
    mark = loaded.key_mark(where)
    if not _HTTP_TOKEN.match(name):
        yield loaded.problem(
            "CS130",
            mark,
            f"header name {name!r} is not a valid HTTP header name (letters, digits and !#$%&'*+.^_`|~- only)",
        )
    elif name == "__proto__":
        yield loaded.problem(
            "CS130",
            mark,
            "header name '__proto__' is dropped by Cline's JSON parser: members would not send it",
        )
    folded = name.lower()
    if folded in seen:
        yield loaded.problem(
            "CS130",
            mark,
            f"header {name!r} is also written as {seen[folded]!r}: HTTP header names ignore case, "
            "so only one of them would be sent; keep one",
        )
    else:
        seen[folded] = name


def check_secrets(loaded: LoadedFile) -> Iterator[Problem]:
    for path, value in loaded.strings:
        if path and path[-1] in SECRET_FIELDS and _is_literal_secret(value):
            yield loaded.problem(
                "CS131",
                loaded.value_mark(path),
                f"{dotted(path)} is a credential written in the file: it would be committed to "
                "git; write it as ${env:NAME}",
            )


def check_placeholders(loaded: LoadedFile) -> Iterator[Problem]:
    for path, value in loaded.strings:
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
            if loaded.deferred(identity):
                continue
            if identity in seen:
                first = loaded.value_mark(path + (seen[identity], key))
                shown = loaded.shown(path + (index, key), repr(identity))
                yield loaded.problem(
                    "CS140",
                    loaded.value_mark(path + (index, key)),
                    f"{dotted(path)}: {key} {shown} appears twice (first at line "
                    f"{first.line}); each {key} must be unique",
                )
            else:
                seen[identity] = index


def check_providers(loaded: LoadedFile) -> Iterator[Problem]:
    for name, provider in _providers(loaded):
        if provider == {} or provider is None:
            yield loaded.problem(
                "CS141",
                loaded.key_mark(_provider_path(name)),
                f"provider {name} is empty: Cline still forces it on every member; configure it or remove it",
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
        if not isinstance(skill, dict):
            continue
        name, contents = skill.get("name"), skill.get("contents")
        if not isinstance(name, str) or not isinstance(contents, str):
            continue
        if loaded.deferred(name) or loaded.deferred(contents):
            continue
        path = ("remoteConfig", "globalSkills", index)
        shown = loaded.shown(path + ("name",), repr(name))
        declared = front_matter_value(contents, "name")
        if declared is None:
            yield loaded.problem(
                "CS160",
                loaded.value_mark(path + ("contents",)),
                f"skill {shown}: contents must start with front matter "
                f"('---', 'name: <the skill's name>', '---')",
            )
        elif declared != name:
            said = loaded.shown(path + ("contents",), repr(declared))
            yield loaded.problem(
                "CS160",
                loaded.value_mark(path + ("contents",)),
                f"skill {shown}: its front matter says name {said}; make them equal",
            )


def check_cli_client(loaded: LoadedFile) -> Iterator[Problem]:
    """Settings that Cline's command-line client drops: its copy of the schema is older (Cline 2026-08)."""
    for path, _ in loaded.nodes:
        if len(path) == 2 and path[0] == "remoteConfig" and path[1] in NOT_IN_CLI_CLIENT:
            field_name = path[1]
        elif len(path) == 5 and path[1] == "enterpriseTelemetry" and path[4] in UPLOAD_TUNING_FIELDS:
            field_name = f"{path[3]}.{path[4]}"
        else:
            continue
        yield loaded.problem(
            "CS151",
            loaded.key_mark(path),
            f"{field_name} is not enforced for members who use Cline's command-line client: its copy of "
            "the schema (as of Cline 2026-08) lacks it and drops it; the VS Code extension enforces it",
        )


def _is_literal_secret(value: str) -> bool:
    """A value written in clear. Placeholders (CS132) and malformed references (CS170) are reported
    by their own rules."""
    if (
        not value or _PLACEHOLDER.search(value) or "$${env:" in value
    ):  # a reference shipped for members' Cline
        return False
    try:
        return not envref.has_reference(value)
    except envref.MalformedReference:
        return False


def check_unmanaged(loaded: LoadedFile) -> Iterator[Problem]:
    """Unmanaged paths the schema's pattern lets through but that name no field (`remoteConfig..x`), and values
    the file sets where it says the console's stay (CS106)."""
    entries = loaded.data.get("unmanaged")
    paths = []
    for index, text in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(text, str):
            try:
                paths.append(parse_dotted(text))
            except ValueError as error:
                yield loaded.problem("CS100", loaded.value_mark(("unmanaged", index)), f"unmanaged: {error}")
    yield from ignored_values(loaded, paths)


def ignored_values(loaded: LoadedFile, unmanaged: list[Path]) -> Iterator[Problem]:
    """A warning (CS106) at each value the file sets at an unmanaged path: it is never written."""
    if not unmanaged:
        return
    remote = {"remoteConfig": loaded.data.get("remoteConfig"), "enabled": loaded.data.get("enabled")}
    for path, planned in identified_paths(remote).items():
        if planned in unmanaged and loaded.data.get(path[0]) is not None:
            yield loaded.problem(
                "CS106",
                loaded.key_mark(path),
                f"{dotted(planned)} is unmanaged: this value is ignored, the console's stays",
            )


CHECKS: tuple[Check, ...] = (
    check_references,
    check_unmanaged,
    check_urls,
    check_azure,
    check_headers,
    check_secrets,
    check_placeholders,
    check_identities,
    check_providers,
    check_deprecated,
    check_skills,
    check_cli_client,
    check_clients,
)

# About what is written in the file, not what a value resolves to: the references themselves, credentials and
# placeholders written in clear (the environment's values are whatever the secret store holds), and settings
# a client drops whatever their value.
_OF_THE_WRITING = frozenset(
    {check_references, check_unmanaged, check_secrets, check_placeholders, check_cli_client, check_clients}
)
